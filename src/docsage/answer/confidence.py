"""How sure an answerer may be that the docs cover a question: a logistic function of three
retrieval signals whose weights and abstention threshold are fitted on data by
``benchmarks/calibrate.py`` and shipped in ``calibration.json``; nothing here is a
hand-picked cut-off.

The signals: the best dense cosine among the hits an answer draws on, the share of the
question's terms the best passage contains, and how many of the question's uncommon words
the collection never uses at all. The last is what tells "How do I connect SQLAlchemy to
Cassandra?" from an answerable question: its nearest section is as close as an answer's,
but no page of the docs says "Cassandra". Only words uncommon in general English count
(wordfreq's Zipf frequency below ``RARE_ZIPF``): a small project's docs need not use
"happens" or "everything" for a question that says them to be answerable, while a product
name or a term of art that the docs never mention is what an off-topic question names.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from docsage.ports import IndexReader
from docsage.retrieve import focus_query
from docsage.text import QUERY_STOPWORDS, index_tokens, query_tokens
from docsage.types import Hit

CONFIDENCE_DEPTH = 8  # the hits an answer draws on; calibration.json is fitted at this depth
UNKNOWN_MIN_LETTERS = 3
RARE_ZIPF = 3.5
"""Zipf frequency (log10 of uses per billion words) under which a word is uncommon: about 3
uses per million words. "kafka" 2.97, "graphql" 1.66 and typos are below it; "output" 4.43,
"signature" 4.25 above. Chosen on the calibration corpora and the golden set (see
``benchmarks/calibrate.py``): 4.0 makes no difference on the large corpora and abstains on
twice as many answerable golden questions."""

Features = tuple[float, float, float]


@dataclass(frozen=True, kw_only=True, slots=True)
class Calibration:
    """confidence = sigmoid(w_dense * dense + w_coverage * coverage + w_unknown * unknown
    + bias)."""

    w_dense: float
    w_coverage: float
    w_unknown: float
    bias: float
    threshold: float


@lru_cache(maxsize=1)
def load_calibration() -> Calibration:
    raw = json.loads(resources.files("docsage.answer").joinpath("calibration.json").read_text())
    names = ("w_dense", "w_coverage", "w_unknown", "bias", "threshold")
    return Calibration(**{k: float(raw[k]) for k in names})


def coverage(question: str, hit: Hit) -> float:
    """Share of the question's content tokens that occur in the hit's title or text."""
    wanted = set(query_tokens(question))
    if not wanted:
        return 0.0
    have = set(index_tokens(f"{hit.chunk.title} {hit.chunk.anchor} {hit.chunk.text}"))
    return len(wanted & have) / len(wanted)


_WORD = re.compile(r"[A-Za-z0-9]+")


def vocabulary_terms(question: str) -> list[str]:
    """The question's words that the docs would use if they covered it: the words of the
    focused question (quoted and backticked data removed), lowercased, letters only, at least
    ``UNKNOWN_MIN_LETTERS`` long, without the words of asking. Numbers and versions ("254",
    "1.4") are the asker's values. Identifiers count by their parts ("Queue.export_parquet"
    has "parquet"), but a word is not split by case ("COMMITs" is "commits", which the index
    stems to "commit", not the code tokenizer's "commi" and "ts")."""
    found = {
        w.lower()
        for w in _WORD.findall(focus_query(question))
        if w.isalpha() and len(w) >= UNKNOWN_MIN_LETTERS
    }
    return sorted(found - QUERY_STOPWORDS)


def is_uncommon(word: str) -> bool:
    # Imported here: wordfreq takes ~0.13 s to import, which every CLI command would pay.
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en") < RARE_ZIPF


def unknown_terms(store: IndexReader, collection: str, question: str) -> int:
    """How many of the question's uncommon vocabulary terms no chunk of the collection
    contains."""
    terms = [t for t in vocabulary_terms(question) if is_uncommon(t)]
    return sum(1 for n in store.term_counts(collection, terms).values() if n == 0)


def confidence_features(question: str, hits: list[Hit], unknown: int) -> Features:
    """(best dense cosine among the first ``CONFIDENCE_DEPTH`` hits, coverage of the top hit,
    ``unknown`` terms).

    The cosine is taken over all the hits an answer may quote, not only the first few, so
    the feature does not move when fusion reorders them."""
    if not hits:
        return (0.0, 0.0, float(unknown))
    dense = max((h.dense_score or 0.0) for h in hits[:CONFIDENCE_DEPTH])
    return (dense, coverage(question, hits[0]), float(unknown))


def confidence(features: Features, calibration: Calibration) -> float:
    dense, cover, unknown = features
    z = (
        calibration.w_dense * dense
        + calibration.w_coverage * cover
        + calibration.w_unknown * unknown
        + calibration.bias
    )
    return 1.0 / (1.0 + math.exp(-z))


def question_confidence(
    store: IndexReader, collection: str, question: str, hits: list[Hit], calibration: Calibration
) -> float:
    """The calibrated probability that the collection answers ``question``, given its hits."""
    unknown = unknown_terms(store, collection, question)
    return confidence(confidence_features(question, hits, unknown), calibration)
