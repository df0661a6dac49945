"""The index ports: writing an index (``IndexWriter``, what ingest needs) and reading it
(``IndexReader``, what retrieval, the agent's tools and the evals need). ``Store`` is both, for
adapters (``store/sqlite.py``) and the composition root."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from docsage.types import Chunk, Document

Vector = npt.NDArray[np.float32]


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
    updated_at: float | None = None
    """When the collection's index last changed (Unix time), where the store knows."""


@dataclass(frozen=True, kw_only=True, slots=True)
class FileUpdate:
    """One source's new state: its document row, all of its chunks, and the refs
    (``source`` or ``source#anchor``) it links to inside the same root."""

    document: Document
    chunks: Sequence[Chunk]
    links: Sequence[str] = ()


class IndexReader(Protocol):
    """Searching and reading one index: what retrieval, agent tools and evals need."""

    def documents(self, collection: str) -> dict[str, str]:
        """source -> content hash of every document in the collection."""
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

    def term_counts(self, collection: str, terms: Sequence[str]) -> dict[str, int]:
        """term -> number of the collection's chunks that ``lexical_search`` matches for that
        term alone (its document frequency; 0 for a word the docs never use). Terms are
        tokens of ``docsage.text.query_tokens``."""
        ...

    def collections(self) -> list[CollectionInfo]: ...

    def index_version(self, collection: str) -> int: ...


class IndexWriter(Protocol):
    """Writing one index: what an ingest needs (diff by content hash, apply, embed).

    Writes of documents and chunks are atomic per ``apply`` call: readers see the index as it
    was before the call or after it, never a mix. Vectors are a content-addressed cache keyed
    by (model, text hash), filled after the text is committed, so search works lexically
    before every vector is in.
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


class Store(IndexReader, IndexWriter, Protocol):
    """Documents, chunks, a lexical index and vectors: both halves, and ``close``. What an
    index adapter implements; every one passes ``docsage.testing.StoreContract`` unchanged."""

    def close(self) -> None: ...
