"""Groundedness without an LLM: check each sentence of an answer against its sources (the
sentences come from :func:`docsage.text.split_sentences`).

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

from collections.abc import Sequence

from docsage.text import CLAIM_STOPWORDS, identifier_parts, looks_like_code, words

IDENTIFIER_WEIGHT = 2.0
"""Weight of a whole code identifier or number; a plain word or identifier part weighs 1."""

DEFAULT_THRESHOLD = 0.6
"""Support at or above which :func:`is_supported` says yes. Uncalibrated: a first guess."""


def _is_identifier(token: str) -> bool:
    return token[0].isdigit() or looks_like_code(token)


def content_units(text: str) -> dict[str, float]:
    """Weighted content units of ``text``: unit -> weight.

    Words (ASCII, :func:`docsage.text.words`) are lowercased and
    :data:`~docsage.text.CLAIM_STOPWORDS` dropped (weight 1). A code identifier (dotted,
    snake_case or camelCase) or a number is kept whole (weight :data:`IDENTIFIER_WEIGHT`)
    and also split on ``.``, ``_`` and case changes into parts (weight 1 each), so
    ``os.path.join`` matches a passage mentioning ``os.path.join`` fully and one mentioning
    ``join`` partly.
    """
    units: dict[str, float] = {}
    for token in words(text, ascii_only=True):
        if _is_identifier(token):
            units[token.lower()] = IDENTIFIER_WEIGHT
            parts = [] if token[0].isdigit() else identifier_parts(token)
        else:
            parts = [token.lower()]
        for part in parts:
            if part not in CLAIM_STOPWORDS:
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
