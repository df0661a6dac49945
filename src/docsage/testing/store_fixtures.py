"""Building blocks for the Store contract: chunks, updates and vectors made from plain text."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from docsage.ports import FileUpdate, IndexReader, Store, Vector
from docsage.types import Chunk, Document, SectionKind

MODEL = "contract-model"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_chunk(
    collection: str,
    source: str,
    text: str,
    *,
    anchor: str = "",
    ordinal: int = 0,
    title: str = "",
    heading_path: tuple[str, ...] = (),
    kind: SectionKind = "section",
    lines: tuple[int, int] | None = (1, 1),
) -> Chunk:
    """A chunk whose ``text_hash`` is the hash of its text and whose id is unique to it."""
    text_hash = _sha(text)
    return Chunk(
        id=_sha(f"{collection}\0{source}\0{anchor}\0{ordinal}\0{text_hash}")[:24],
        collection=collection,
        source=source,
        anchor=anchor,
        title=title,
        heading_path=heading_path,
        text=text,
        kind=kind,
        line_start=lines[0] if lines else None,
        line_end=lines[1] if lines else None,
        ordinal=ordinal,
        text_hash=text_hash,
    )


def make_update(
    collection: str, source: str, *texts: str, version: str = "1", links: Sequence[str] = ()
) -> FileUpdate:
    """A document whose chunks are ``texts`` in order (anchors ``s0``, ``s1``...)."""
    chunks = [
        make_chunk(collection, source, text, anchor=f"s{i}", ordinal=i, lines=(i + 1, i + 1))
        for i, text in enumerate(texts)
    ]
    document = Document(
        collection=collection,
        source=source,
        content_hash=_sha(f"{version}\0{source}\0" + "\0".join(texts)),
        title=source,
        size=sum(len(t) for t in texts),
    )
    return FileUpdate(document=document, chunks=chunks, links=links)


def unit(*values: float) -> Vector:
    vector = np.asarray(values, dtype=np.float32)
    normalised: Vector = vector / np.linalg.norm(vector)
    return normalised


def lexical_sources(store: IndexReader, collection: str, query: str, prefix: str = "") -> list[str]:
    return [s.chunk.source for s in store.lexical_search(collection, query, 50, prefix)]


def lexical_texts(store: IndexReader, collection: str, query: str) -> list[str]:
    return [s.chunk.text for s in store.lexical_search(collection, query, 50)]


def snapshot(store: Store, collection: str, queries: Sequence[str]) -> object:
    """Everything a reader can observe about a collection, for before/after comparisons."""
    documents = store.documents(collection)
    return (
        documents,
        store.index_version(collection),
        {source: store.chunks(collection, source) for source in sorted(documents)},
        {q: [s.chunk.id for s in store.lexical_search(collection, q, 50)] for q in queries},
        [(c.name, c.documents, c.chunks, c.index_version) for c in store.collections()],
        sorted(c.id for c in store.chunks_missing_vectors(collection, MODEL)),
        store.link_counts(collection),
    )
