"""Rerankers: reorder fused hits using signals the first-stage retrievers blur.

``IdentifierReranker`` needs no model: when a question names an API (``str.partition``,
``os.path.join``, ``json.dumps``), the entries whose anchor is that name move up. Lexical
BM25 splits identifiers into parts and the dense model barely sees them, so an exact name
match is the strongest evidence a developer's question carries.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from docsage.text import QUERY_STOPWORDS, looks_like_code, words
from docsage.types import Hit


def query_names(query: str) -> set[str]:
    """Lowercased code names in the question (dotted, snake_case, CamelCase, or written in
    backticks), dotted ones also by their dotted suffixes. Plain English words are not
    names: "sum the values" must not promote every entry called ``values``."""
    backticked = {m.strip() for m in re.findall(r"`([^`]+)`", query)}
    names: set[str] = set()
    for word in words(query, ascii_only=True):
        if word[0].isdigit() or not (looks_like_code(word) or word in backticked):
            continue
        parts = word.lower().split(".")
        for start in range(len(parts)):
            names.add(".".join(parts[start:]))
    return {n for n in names if n not in QUERY_STOPWORDS and len(n) > 2}


def name_match(anchor: str, names: set[str]) -> float:
    """1.0 when the anchor is a name in the question, 0.5 when a dotted suffix of it is."""
    anchor = anchor.lower()
    if not anchor or not names:
        return 0.0
    if anchor in names:
        return 1.0
    parts = anchor.split(".")
    if len(parts) > 1 and any(".".join(parts[i:]) in names for i in range(1, len(parts))):
        tail = parts[-1]
        return 0.5 if "." in anchor and len(tail) > 3 else 0.25
    return 0.0


class IdentifierReranker:
    """Multiplies a hit's fused score by ``1 + boost * name_match``."""

    def __init__(self, boost: float = 1.0) -> None:
        self.boost = boost

    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]:
        names = query_names(query)
        if not names:
            return list(hits)
        rescored = [
            replace(h, score=h.score * (1.0 + self.boost * name_match(h.chunk.anchor, names)))
            for h in hits
        ]
        return sorted(rescored, key=lambda h: -h.score)
