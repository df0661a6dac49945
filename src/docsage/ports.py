"""The interfaces features are written against. Adapters live in ``store/`` and ``models/``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from docsage.types import Chunk, Document, Hit

Vector = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

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


@dataclass(frozen=True, kw_only=True, slots=True)
class ScoredChunk:
    chunk: Chunk
    score: float


@dataclass(frozen=True, kw_only=True, slots=True)
class CollectionInfo:
    name: str
    documents: int
    chunks: int
    index_version: int
    vectors: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class FileUpdate:
    """One source's new state: its document row, all of its chunks, and the refs
    (``source`` or ``source#anchor``) it links to inside the same root."""

    document: Document
    chunks: Sequence[Chunk]
    links: Sequence[str] = ()


class Store(Protocol):
    """Documents, chunks, a lexical index and vectors.

    Writes of documents and chunks are atomic per ``apply`` call: readers see the index as it
    was before the call or after it, never a mix. Vectors are a content-addressed cache keyed
    by (model, text hash), filled after the text is committed, so search works lexically
    before every vector is in. Every implementation passes ``docsage.testing.StoreContract``.
    """

    def documents(self, collection: str) -> dict[str, str]:
        """source -> content hash of every document in the collection."""
        ...

    def apply(self, collection: str, updates: Iterable[FileUpdate], removed: Sequence[str]) -> int:
        """Replace the given sources and delete ``removed`` in one transaction; return the
        new index version. ``updates`` may be a generator: it is consumed inside the
        transaction, and if it raises, nothing is written."""
        ...

    def chunks_missing_vectors(self, collection: str, model: str) -> list[Chunk]: ...

    def put_vectors(self, model: str, items: Sequence[tuple[str, Vector]]) -> None:
        """Store vectors keyed by text hash; committed on return."""
        ...

    def lexical_search(
        self, collection: str, query: str, k: int, path_prefix: str = ""
    ) -> list[ScoredChunk]: ...

    def dense_search(
        self, collection: str, model: str, vector: Vector, k: int, path_prefix: str = ""
    ) -> list[ScoredChunk]: ...

    def dense_scores(
        self, collection: str, model: str, vector: Vector, chunk_ids: Sequence[str]
    ) -> dict[str, float]:
        """chunk id -> the score ``dense_search`` would give it, for the given chunks of the
        collection that have a vector (others are left out). Lets fusion score a lexical
        candidate the dense top-k missed."""
        ...

    def chunks(self, collection: str, source: str, anchor: str | None = None) -> list[Chunk]:
        """The chunks of a source (optionally of one anchor), in document order."""
        ...

    def link_counts(self, collection: str) -> dict[str, int]:
        """ref -> number of other sources linking to it (the in-link prior)."""
        ...

    def collections(self) -> list[CollectionInfo]: ...

    def index_version(self, collection: str) -> int: ...

    def close(self) -> None: ...


Record = dict[str, Any]
"""One case of a stored eval run: the case, what docsage did, its per-case metric values."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredRun:
    id: str
    created_at: float
    collection: str
    dataset: str
    k: int
    mode: str
    index_version: int
    n_cases: int
    n_errors: int
    summary: dict[str, Any]


class RunStore(Protocol):
    """Eval runs kept for ``docsage eval list`` / ``compare`` (SQLite: ``store/sqlite_runs``)."""

    def save(self, run: StoredRun, records: Sequence[Record]) -> None: ...

    def runs(self, collection: str | None = None, limit: int = 50) -> list[StoredRun]:
        """Most recent first."""
        ...

    def get(self, ref: str) -> StoredRun:
        """A run by id, unique id prefix, or ``latest``; NotFoundError / UsageError if none
        or ambiguous."""
        ...

    def records(self, ref: str) -> list[Record]: ...

    def close(self) -> None: ...
