"""The model ports features call: embedding texts and reranking hits. (The chat model's port
is ``docsage.models.chat.ChatModel``, beside its request and response types.)"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from docsage.ports.index import Vector
from docsage.types import Hit


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text, in the order given
    (contract: ``docsage.testing.embedder_contract``)."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> Vector: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class EmbedderConfig:
    """What an embedder factory is given besides the model name (``docsage.adapters``)."""

    threads: int | None = None
    """Local inference threads; None = all cores."""
    base_url: str = ""
    """Base URL of an embeddings server."""
    api_key: str = ""


class Reranker(Protocol):
    """Reorders fused hits for a question; may change scores, must not invent or drop hits
    (contract: ``docsage.testing.reranker_contract``)."""

    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]: ...
