"""Refs and sections: parsing what a caller passes to read_section, grouping a source's
chunks into sections, and describing where a chunk is (ref, resource URI, lines)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from docsage.errors import NotFoundError, UsageError
from docsage.mcp.models import Located
from docsage.types import Chunk

SCHEME = "docsage://"
URI_TEMPLATE = SCHEME + "{collection}/{+source}#{anchor}"
_NOT_A_REF = (
    "{ref!r} is not a section ref: pass 'source#anchor' exactly as a search_docs or "
    "ask_docs result gave it (or its docsage:// uri); paths and URLs are not read"
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Ref:
    collection: str | None
    source: str
    anchor: str


def parse_ref(ref: str) -> Ref:
    """A ``source#anchor`` (or ``docsage://COLLECTION/source#anchor``) ref. Anything that
    looks like a filesystem path or another URL is refused: refs name indexed sections."""
    text = ref.strip()
    collection = None
    if text.startswith(SCHEME):
        collection, _, text = text[len(SCHEME) :].partition("/")
        collection, text = unquote(collection), unquote(text)
    source, _, anchor = text.partition("#")
    if not source or _looks_like_path(source) or (not collection and "://" in text):
        raise UsageError(_NOT_A_REF.format(ref=ref))
    return Ref(collection=collection or None, source=source, anchor=anchor)


def _looks_like_path(source: str) -> bool:
    parts = re.split(r"[\\/]", source)
    return (
        source.startswith(("/", "\\", "~"))
        or re.match(r"[A-Za-z]:[\\/]", source) is not None
        or ".." in parts
        or "\x00" in source
    )


def uri_of(collection: str, source: str, anchor: str) -> str:
    """``docsage://COLLECTION/SOURCE#ANCHOR``, each part percent-encoded."""
    path = quote(source, safe="/")
    return f"{SCHEME}{quote(collection, safe='')}/{path}#{quote(anchor, safe='')}"


def permalink(chunk: Chunk) -> str | None:
    if not chunk.source.startswith(("http://", "https://")):
        return None
    return f"{chunk.source}#{chunk.anchor}" if chunk.anchor else chunk.source


def located(collection: str, chunks: list[Chunk]) -> dict[str, Any]:
    """The ``Located`` fields of a section made of ``chunks`` (one or more, in order)."""
    first = chunks[0]
    starts = [c.line_start for c in chunks if c.line_start is not None]
    ends = [c.line_end for c in chunks if c.line_end is not None]
    return {
        "ref": first.ref,
        "collection": collection,
        "uri": uri_of(collection, first.source, first.anchor),
        "title": first.heading,
        "heading_path": list(first.heading_path),
        "line_start": min(starts) if starts else None,
        "line_end": max(ends) if ends else None,
        "permalink": permalink(first),
    }


def location(collection: str, chunk: Chunk) -> Located:
    return Located.model_validate(located(collection, [chunk]))


def sections(chunks: list[Chunk]) -> dict[str, list[Chunk]]:
    """anchor -> its chunks, in document order of each anchor's first chunk."""
    grouped: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        grouped.setdefault(chunk.anchor, []).append(chunk)
    return grouped


def find(grouped: dict[str, list[Chunk]], ref: Ref) -> tuple[list[Chunk], str | None, str | None]:
    """The section's chunks and the refs of the sections before and after it."""
    anchors = list(grouped)
    if ref.anchor not in grouped:
        listed = ", ".join(a or "(no anchor)" for a in anchors[:20])
        raise NotFoundError(f"{ref.source} has no section {ref.anchor!r}; its sections: {listed}")
    at = anchors.index(ref.anchor)
    before = grouped[anchors[at - 1]][0].ref if at > 0 else None
    after = grouped[anchors[at + 1]][0].ref if at + 1 < len(anchors) else None
    return grouped[ref.anchor], before, after
