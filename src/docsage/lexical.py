"""A tokenizer that understands code identifiers, shared by indexing and querying.

``os.path.join`` is indexed as ``os``, ``path``, ``join`` and the compound ``os_path_join``;
``snake_case`` as ``snake``, ``case`` and ``snake_case``; ``CamelCase`` as ``camel``, ``case``
and ``camelcase``. So a query for ``join``, ``path.join`` or ``os.path.join`` finds the entry,
and the full dotted name ranks it first. Compounds use ``_`` because the FTS5 tokenizer is set
up to keep ``_`` inside tokens; FTS5's Porter stemmer then runs on every token.
"""

from __future__ import annotations

import re

# A code is a word, a hyphen and a number (``ERR-42``, ``ISSUE-5``, ``utf-8``): it is tried
# first so the whole code becomes one token and ``X-1`` no longer matches ``X-9`` as well.
_IDENT = re.compile(
    r"(?P<code>[^\W\d_][^\W_]*-\d+(?:\.\d+)*)(?![\w-])"
    r"|[^\W\d]\w*(?:\.[^\W\d]\w*)*|\d+(?:\.\d+)*"
)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

STOPWORDS = frozenset(
    """a an and are as at be but by for from has have how i if in into is it its of on or
    that the their then there these this to was what when where which while who why will with
    do does can could would should you your me my we our get use using want need way""".split()
)


def _parts(word: str) -> list[str]:
    pieces: list[str] = []
    for piece in word.split("_"):
        if not piece.isascii():  # camelCase rules are for ASCII identifiers; keep words whole
            pieces.append(piece.lower())
            continue
        pieces.extend(m.group(0).lower() for m in _CAMEL.finditer(piece))
    return [p for p in pieces if p]


def identifier_tokens(word: str) -> list[str]:
    """Tokens for one identifier-like word, parts first, then the compound forms."""
    dotted = [p for p in word.split(".") if p]
    out: list[str] = []
    for segment in dotted:
        parts = _parts(segment)
        out.extend(parts)
        whole = segment.lower().strip("_")
        if len(parts) > 1 and whole:
            out.append(whole)
    if len(dotted) > 1:
        out.append("_".join(s.lower().strip("_") for s in dotted))
    return out


def _code_tokens(code: str) -> list[str]:
    word, number = code.split("-", 1)
    number = number.replace(".", "_")
    return [*identifier_tokens(word), number, f"{word.lower()}_{number}"]


def index_tokens(text: str) -> list[str]:
    """All tokens of ``text`` for the lexical index, in order, stopwords kept."""
    out: list[str] = []
    for match in _IDENT.finditer(text):
        word = match.group(0)
        if match.group("code"):
            out.extend(_code_tokens(word))
        elif word[0].isdigit():
            out.append(word.replace(".", "_"))
        else:
            out.extend(identifier_tokens(word))
    return out


def query_tokens(text: str) -> list[str]:
    """Distinct tokens of a question, without stopwords, in first-seen order."""
    seen: dict[str, None] = {}
    for token in index_tokens(text):
        # A lone digit is noise in prose, but the exact compounds above already carry it.
        if token not in STOPWORDS and len(token) > 1:
            seen.setdefault(token, None)
    return list(seen)


def index_text(text: str) -> str:
    """``text`` rewritten as space-separated tokens, the form stored in the FTS table."""
    return " ".join(index_tokens(text))
