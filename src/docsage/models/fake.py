"""Deterministic fakes, shipped for tests and plugin authors. Not for real use.

``HashEmbedder`` hashes tokens into a fixed-size vector: texts that share words get similar
vectors, with no model and no randomness, so store and retrieval tests run in milliseconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from docsage.lexical import index_tokens
from docsage.ports import Vector


class HashEmbedder:
    """A fake embedder: feature hashing of lexical tokens, L2-normalised."""

    def __init__(self, dim: int = 64, name: str = "fake-hash") -> None:
        self.dim = dim
        self.name = name
        self.calls = 0

    def embed(self, texts: Sequence[str]) -> Vector:
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in index_tokens(text):
                digest = hashlib.blake2b(token.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest[:4], "little") % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        normalised: Vector = out / np.maximum(norms, 1e-12)
        return normalised
