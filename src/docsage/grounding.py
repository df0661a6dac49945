"""Groundedness without an LLM: split an answer into sentences, check each against its sources.

The check is a lexical entailment proxy: a sentence is supported by a passage when most of
its content tokens, weighted towards code identifiers and numbers, occur in the passage.
It is cheap, deterministic and offline, and it is blind in known ways:

- paraphrase fails: "returns" does not match "gives back", nor "return" (no stemming);
- negation is invisible: "does not raise" scores like "raises" ("not" is a stopword);
- word order and relations are ignored: "a calls b" and "b calls a" score the same;
- numbers and versions must match verbatim ("3.11" is not "3.11.0").

So a low score is strong evidence of an unsupported sentence; a high score is weak
evidence of a supported one. Use an NLI model where that matters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

# -- sentence splitting ------------------------------------------------------------------------

_FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]*\1[^\n]*$|\Z)", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.S)
_PARAGRAPH = re.compile(r"\n[ \t]*\n+")
_LIST_ITEM = re.compile(r"\n(?=[ \t]*(?:[-*+]|\d+[.)])[ \t])")
_END = re.compile(r"[.!?]+[\"')\]]*\s+")
_NEVER_END = frozenset({"e.g.", "i.e.", "cf.", "vs.", "approx.", "fig.", "no.", "mr.", "dr."})
_END_IF_CAPITAL = frozenset({"etc."})
_HOLD = "\x00{}\x01"
_HELD = re.compile("\x00(\\d+)\x01")


def _is_boundary(before: str, after: str) -> bool:
    """Whether the punctuation that ends ``before`` ends a sentence, given the text after."""
    if not after:
        return True
    word = before[-40:].rsplit(None, 1)[-1].lower().lstrip("(\"'")
    if word in _NEVER_END:
        return False
    if word in _END_IF_CAPITAL:
        return after[0].isupper()
    return not after[0].islower()


def _split_prose(text: str) -> list[str]:
    sentences, start = [], 0
    for match in _END.finditer(text):
        end = match.end()
        if _is_boundary(text[: match.start() + 1], text[end:]):
            sentences.append(text[start:end])
            start = end
    sentences.append(text[start:])
    return [" ".join(s.split()) for s in sentences if s.strip()]


def _split_paragraph(paragraph: str) -> list[str]:
    spans: list[str] = []

    def hold(match: re.Match[str]) -> str:
        spans.append(match.group(0))
        return _HOLD.format(len(spans) - 1)

    held = _CODE_SPAN.sub(hold, paragraph)
    parts = (s for item in _LIST_ITEM.split(held) for s in _split_prose(item))
    return [_HELD.sub(lambda m: spans[int(m.group(1))], s) for s in parts]


def split_sentences(text: str) -> list[str]:
    """Rule-based sentence splitter for technical prose (stdlib only).

    - a fenced code block (```` ``` ```` or ``~~~``, closed or running to the end) is one
      unit, kept verbatim; inline code spans in backticks are never split;
    - a sentence ends at ``.``, ``!`` or ``?`` (plus closing quotes or brackets) followed by
      whitespace, so ``os.path.join`` and ``3.11`` never split;
    - "e.g.", "i.e.", "cf.", "vs." never end a sentence; "etc." ends one only before a
      capital letter; no sentence ends before a lowercase letter;
    - blank lines and list items (``-``, ``*``, ``+``, ``1.``) always start a new unit.

    Whitespace inside a prose sentence is collapsed to single spaces.
    """
    units: list[str] = []
    pos = 0
    for fence in _FENCE.finditer(text):
        units.extend(_split_prose_block(text[pos : fence.start()]))
        units.append(fence.group(0).strip("\n"))
        pos = fence.end()
    units.extend(_split_prose_block(text[pos:]))
    return units


def _split_prose_block(text: str) -> Iterable[str]:
    return (s for para in _PARAGRAPH.split(text) for s in _split_paragraph(para))


# -- lexical support ---------------------------------------------------------------------------

IDENTIFIER_WEIGHT = 2.0
"""Weight of a whole code identifier or number; a plain word or identifier part weighs 1."""

DEFAULT_THRESHOLD = 0.6
"""Support at or above which :func:`is_supported` says yes. Uncalibrated: a first guess."""

_TOKEN = re.compile(r"\d+(?:\.\d+)*|[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_STOPWORDS = frozenset(
    """a about above after again all also an and any are as at be been before being below
    between both but by can could did do does doing down during each either few for from
    further had has have having here how however if in into is it its itself just may might
    more most must no nor not of off on once only or other our out over own same shall should
    so some such than that the their them then there these they this those through to too
    under until up us use used uses using very via was we were what when where whether which
    while who whom why will with would you your""".split()
)


def _is_identifier(token: str) -> bool:
    return token[0].isdigit() or "." in token or "_" in token or any(c.isupper() for c in token[1:])


def _parts(identifier: str) -> list[str]:
    return [p.lower() for chunk in re.split(r"[._]+", identifier) for p in _CAMEL.findall(chunk)]


def content_units(text: str) -> dict[str, float]:
    """Weighted content units of ``text``: unit -> weight.

    Words are lowercased and stopwords dropped (weight 1). A code identifier (dotted,
    snake_case or camelCase) or a number is kept whole (weight :data:`IDENTIFIER_WEIGHT`)
    and also split on ``.``, ``_`` and case changes into parts (weight 1 each), so
    ``os.path.join`` matches a passage mentioning ``os.path.join`` fully and one mentioning
    ``join`` partly.
    """
    units: dict[str, float] = {}
    for token in _TOKEN.findall(text):
        if _is_identifier(token):
            units[token.lower()] = IDENTIFIER_WEIGHT
            parts = [] if token[0].isdigit() else _parts(token)
        else:
            parts = [token.lower()]
        for part in parts:
            if part not in _STOPWORDS:
                units.setdefault(part, 1.0)
    return units


def sentence_support(sentence: str, passage: str) -> float:
    """Weighted share of the sentence's content units that occur in the passage, in [0, 1].

    ``support = sum(w(u) for u in U_s if u in U_p) / sum(w(u) for u in U_s)`` where ``U_s``
    and ``U_p`` are :func:`content_units` of sentence and passage. A sentence with no
    content units (only stopwords or punctuation) claims nothing checkable and scores 0.0.
    See the module docstring for what this proxy cannot see.
    """
    units = content_units(sentence)
    total = sum(units.values())
    if total == 0:
        return 0.0
    found = content_units(passage)
    return sum(w for unit, w in units.items() if unit in found) / total


def is_supported(sentence: str, passage: str, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Whether :func:`sentence_support` reaches ``threshold``."""
    return sentence_support(sentence, passage) >= threshold


def groundedness(
    answer_sentences_with_citations: Sequence[tuple[str, Sequence[str]]],
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Share of answer sentences supported by at least one of their cited passages.

    Each item is ``(sentence, cited passage texts)``. A sentence with no citation counts as
    unsupported, connective text included. Raises ``ValueError`` for an answer with no
    sentences (an abstention): groundedness is undefined there, score it as abstention.
    """
    if not answer_sentences_with_citations:
        raise ValueError("groundedness is undefined for an answer with no sentences")
    supported = sum(
        1
        for sentence, passages in answer_sentences_with_citations
        if any(is_supported(sentence, p, threshold) for p in passages)
    )
    return supported / len(answer_sentences_with_citations)
