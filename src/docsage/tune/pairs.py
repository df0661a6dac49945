"""Training pairs mined from a collection's own chunks: (query-like text, passage).

- a record (a JSONL line such as a SciFact abstract): its title -> its text;
- an API entry (``types.API_KINDS``: a function, class or API section): its name and
  signature, the chunk's heading -> its description;
- a section: its heading, with the parent heading when the heading alone is short
  ("Examples") -> the section's text.

The passage is the chunk's body without its headings (``embed_text`` of no headings): the
stored vector's text starts with those headings, so training on it would only teach the
model that a text resembles itself. Pairs are deduplicated by query and by passage (a
passage that answers two queries would be a false negative within a batch), trivial ones
are skipped, and at most ``limit`` are kept, drawn with a seeded shuffle.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from docsage.ingest.chunking import embed_text
from docsage.ports import IndexReader
from docsage.types import API_KINDS, Chunk

MIN_PASSAGE_WORDS = 8
SHORT_HEADING_WORDS = 3


@dataclass(frozen=True, kw_only=True, slots=True)
class Pair:
    query: str
    passage: str
    source: str
    """The kind of pair: ``record``, ``api`` or ``section``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Mined:
    pairs: list[Pair]
    chunks: int
    skipped: Counter[str] = field(default_factory=Counter)
    """Why chunks gave no pair: ``no heading``, ``short``, ``trivial``, ``duplicate``,
    ``over limit``."""

    def by_kind(self) -> Counter[str]:
        return Counter(p.source for p in self.pairs)


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def query_for(chunk: Chunk) -> str:
    """The query side of a chunk's pair ("" when it has none)."""
    if chunk.kind == "record":
        return chunk.title.strip()
    heading = chunk.heading.strip()
    path = [h for h in chunk.heading_path if h.strip()]
    short = chunk.kind not in API_KINDS and len(heading.split()) < SHORT_HEADING_WORDS
    if short and len(path) > 1:
        return f"{path[-2].strip()}: {heading}"
    return heading


def kind_of(chunk: Chunk) -> str:
    return "record" if chunk.kind == "record" else "api" if chunk.kind in API_KINDS else "section"


def _pair(chunk: Chunk, skipped: Counter[str]) -> Pair | None:
    query = query_for(chunk)
    passage = embed_text((), chunk.text)
    if not query:
        skipped["no heading"] += 1
    elif len(passage.split()) < MIN_PASSAGE_WORDS:
        skipped["short"] += 1
    elif _norm(query) == _norm(passage):
        skipped["trivial"] += 1
    else:
        return Pair(query=query, passage=passage, source=kind_of(chunk))
    return None


def mine_pairs(reader: IndexReader, collection: str, *, limit: int, seed: int = 0) -> Mined:
    """At most ``limit`` distinct pairs from the collection's chunks, in a seeded order."""
    skipped: Counter[str] = Counter()
    seen_queries: set[str] = set()
    seen_passages: set[str] = set()
    pairs: list[Pair] = []
    total = 0
    for source in sorted(reader.documents(collection)):
        for chunk in reader.chunks(collection, source):
            total += 1
            pair = _pair(chunk, skipped)
            if pair is None:
                continue
            keys = (_norm(pair.query), _norm(pair.passage))
            if keys[0] in seen_queries or keys[1] in seen_passages:
                skipped["duplicate"] += 1
                continue
            seen_queries.add(keys[0])
            seen_passages.add(keys[1])
            pairs.append(pair)
    random.Random(seed).shuffle(pairs)
    if len(pairs) > limit:
        skipped["over limit"] += len(pairs) - limit
    return Mined(pairs=pairs[:limit], chunks=total, skipped=skipped)
