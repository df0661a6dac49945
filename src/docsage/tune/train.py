"""Fine-tuning MiniLM on mined pairs, and exporting the result as the ONNX graph the default
embedder runs (inputs ``input_ids``, ``attention_mask``, ``token_type_ids``; output the last
hidden states), optionally quantised to int8 as the shipped default is.

Loss: in-batch negatives (Henderson et al. 2017, "Efficient Natural Language Response
Suggestion for Smart Reply"; sentence-transformers' MultipleNegativesRankingLoss): for a
batch of B pairs, ``cross_entropy(scale * Q @ P.T, arange(B))`` over L2-normalised mean-pooled
vectors, so each query must rank its own passage above the batch's other B-1 passages.
"""

from __future__ import annotations

import os
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from docsage.models.onnx import TOKENIZER
from docsage.tune import TrainConfig
from docsage.tune.minilm_torch import MiniLM, load_base, mean_pool
from docsage.tune.pairs import Pair

Progress = Callable[[str], None]


@dataclass(kw_only=True, slots=True)
class TrainResult:
    model: MiniLM
    steps: int
    seconds: float
    losses: list[float] = field(default_factory=list)


def _tokenizer(limit: int) -> Any:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(TOKENIZER))
    tok.enable_truncation(limit)
    tok.enable_padding()
    return tok


def _batch(tok: Any, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    encodings = tok.encode_batch(list(texts))
    ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
    return ids, mask


def encode(model: MiniLM, tok: Any, texts: Sequence[str]) -> torch.Tensor:
    """Normalised vectors for ``texts`` (with gradients when the model is training)."""
    ids, mask = _batch(tok, texts)
    return mean_pool(model(ids, mask, torch.zeros_like(ids)), mask)


def in_batch_loss(queries: torch.Tensor, passages: torch.Tensor, scale: float) -> torch.Tensor:
    """``cross_entropy(scale * Q @ P.T, arange(B))`` (module docstring)."""
    logits = scale * queries @ passages.T
    target = torch.arange(len(queries))
    return torch.nn.functional.cross_entropy(logits, target)


def _schedule(step: int, total: int, warmup: int) -> float:
    """Linear warm-up to 1, then linear decay to 0 (the usual BERT fine-tuning schedule)."""
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total - step) / max(1, total - warmup))


def _batches(pairs: Sequence[Pair], size: int, epochs: int, seed: int) -> list[list[Pair]]:
    rng = random.Random(seed)
    out: list[list[Pair]] = []
    for _ in range(epochs):
        order = list(pairs)
        rng.shuffle(order)
        out += [order[i : i + size] for i in range(0, len(order) - 1, size)]
    return [b for b in out if len(b) > 1]


def train(pairs: Sequence[Pair], config: TrainConfig, progress: Progress = print) -> TrainResult:
    """Fine-tune the shipped base model on ``pairs``; deterministic for a seed and thread
    count."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads or os.cpu_count() or 1)
    model = load_base().train()
    queries, passages = _tokenizer(config.query_tokens), _tokenizer(config.passage_tokens)
    batches = _batches(pairs, config.batch_size, config.epochs, config.seed)
    batches = batches[: config.max_steps] if config.max_steps is not None else batches
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=0.01)
    warmup = max(1, int(config.warmup * len(batches)))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: _schedule(s, len(batches), warmup)
    )
    result = TrainResult(model=model, steps=0, seconds=0.0)
    start = time.perf_counter()
    for step, batch in enumerate(batches, 1):
        loss = in_batch_loss(
            encode(model, queries, [p.query for p in batch]),
            encode(model, passages, [p.passage for p in batch]),
            config.scale,
        )
        optimizer.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        scheduler.step()
        result.losses.append(float(loss.detach()))
        result.steps = step
        if step % 10 == 0 or step == len(batches):
            elapsed = time.perf_counter() - start
            recent = result.losses[-10:]
            progress(
                f"step {step}/{len(batches)}  loss {sum(recent) / len(recent):.4f}  "
                f"{elapsed:.0f}s elapsed, ~{elapsed / step * (len(batches) - step):.0f}s left"
            )
    result.seconds = time.perf_counter() - start
    result.model.eval()
    return result


def export_onnx(model: MiniLM, path: Path) -> Path:
    """The model as an ONNX graph with dynamic batch and sequence axes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    ids = torch.ones((2, 16), dtype=torch.long)
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence", max=512)
    shapes = {
        name: {0: batch, 1: seq} for name in ("input_ids", "attention_mask", "token_type_ids")
    }
    # The exporter's own deprecation notes (torch internals) are not ours to fix.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", UserWarning)
        torch.onnx.export(
            model,
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(path),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_shapes=shapes,
            dynamo=True,
            external_data=False,
            verbose=False,
        )
    return path


def quantize_int8(src: Path, dest: Path) -> Path:
    """The graph with each MatMul weight stored as int8 and one fp32 scale per output column
    (symmetric: ``w ~= q * max|w_col| / 127``), turned back into fp32 by a ``Cast`` and a
    ``Mul`` before its MatMul, as the shipped int8 model is stored.

    Weight-only: the activations stay fp32, so a text gets the same vector in any batch.
    (ONNX Runtime's ``quantize_dynamic`` also quantises each batch's activations with one
    scale, which made vectors depend on what they were batched with, and cost accuracy.)
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    graph = model.graph
    weights = {i.name: i for i in graph.initializer if len(i.dims) == 2}
    names = sorted({n.input[1] for n in graph.node if n.op_type == "MatMul"} & set(weights))
    nodes = []
    for name in names:
        w = numpy_helper.to_array(weights[name]).astype(np.float32)
        scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0
        q = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        graph.initializer.remove(weights[name])
        graph.initializer.extend(
            [
                numpy_helper.from_array(q, f"{name}.int8"),
                numpy_helper.from_array(scale, f"{name}.scale"),
            ]
        )
        nodes += [
            helper.make_node("Cast", [f"{name}.int8"], [f"{name}.f"], to=onnx.TensorProto.FLOAT),
            helper.make_node("Mul", [f"{name}.f", f"{name}.scale"], [name]),
        ]
    for node in reversed(nodes):  # they read only initializers: first in topological order
        graph.node.insert(0, node)
    onnx.checker.check_model(model)
    onnx.save(model, str(dest))
    return dest
