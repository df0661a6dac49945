"""Embedders for tests: one that records what it was asked to embed, one that is slow.

Both delegate the vectors to ``HashEmbedder``, so they are deterministic and need no model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from docsage.models.fake import HashEmbedder
from docsage.ports import Vector


class CountingEmbedder:
    """Wraps ``HashEmbedder`` and records every text it embeds, batch by batch."""

    def __init__(self, dim: int = 64, name: str = "fake-hash") -> None:
        self._inner = HashEmbedder(dim=dim, name=name)
        self.name = name
        self.dim = dim
        self.batches: list[list[str]] = []

    @property
    def texts(self) -> list[str]:
        """Every text embedded so far, in order."""
        return [text for batch in self.batches for text in batch]

    def embed(self, texts: Sequence[str]) -> Vector:
        self.batches.append(list(texts))
        return self._inner.embed(texts)


class SlowHashEmbedder:
    """``HashEmbedder`` that sleeps ``seconds_per_text`` per text: a stand-in for a real model's
    cost, so a test can kill an ingest while it is embedding. Same vectors as ``HashEmbedder``
    with the same ``dim`` and ``name``."""

    def __init__(
        self, seconds_per_text: float = 0.005, *, dim: int = 64, name: str = "fake-hash"
    ) -> None:
        self._inner = HashEmbedder(dim=dim, name=name)
        self.seconds_per_text = seconds_per_text
        self.name = name
        self.dim = dim

    def embed(self, texts: Sequence[str]) -> Vector:
        time.sleep(self.seconds_per_text * len(texts))
        return self._inner.embed(texts)
