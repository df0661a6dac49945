"""Fusion functions: how a lexical and a dense candidate list become one ranking.

Each is a pure function of the two lists (ids best first, with the retriever's scores) and
returns ``id -> fused score``; ``FUSIONS`` maps the setting ``DOCSAGE_FUSION`` to them.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from docsage.errors import ConfigError

Scored = Sequence[tuple[str, float]]


@dataclass(frozen=True, kw_only=True, slots=True)
class FusionInput:
    """The candidates of one query. ``dense_extra`` holds the exact dense scores of lexical
    candidates that are not in the dense list (a cosine is cheap for any stored vector)."""

    lexical: Scored
    dense: Scored
    dense_extra: Mapping[str, float]
    lexical_weight: float
    dense_weight: float
    rrf_k: float


class Fusion(Protocol):
    def __call__(self, candidates: FusionInput) -> dict[str, float]: ...


def rrf_fuse(
    ranked_lists: Sequence[Sequence[str]], weights: Sequence[float], rrf_k: float = 60.0
) -> dict[str, float]:
    """Weighted reciprocal rank fusion: score(d) = sum_i w_i / (rrf_k + rank_i(d)).

    Ranks are 1-based; a document absent from a list gets nothing from it.
    Source: Cormack, Clarke and Buettcher, SIGIR 2009 (unweighted form, w_i = 1).
    """
    scores: dict[str, float] = {}
    for ranked, weight in zip(ranked_lists, weights, strict=True):
        for rank, doc_id in enumerate(ranked, 1):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (rrf_k + rank)
    return scores


def _zscores(own: Scored, union: Sequence[str], fill: Mapping[str, float]) -> list[float]:
    """z of every id in ``union`` against the mean and population std of ``own``'s scores;
    an id missing from ``own`` takes ``fill[id]`` if known, else ``own``'s lowest score."""
    values = [s for _, s in own]
    mean, std = statistics.fmean(values), statistics.pstdev(values)
    scores, lowest = dict(own), min(values)
    raw = [scores.get(i, fill.get(i, lowest)) for i in union]
    return [(v - mean) / std if std > 0 else 0.0 for v in raw]


def zscore_fuse(candidates: FusionInput) -> dict[str, float]:
    """Convex combination of z-normalised scores over the union of both lists, min-max
    scaled to [0, 1]:

        f(d) = a * z_dense(d) + (1 - a) * z_lex(d),   a = w_dense / (w_dense + w_lex)
        z_x(d) = (x(d) - mean_x) / std_x              (mean, std over list x's candidates)
        score(d) = (f(d) - min f) / (max f - min f)

    A lexical-only candidate takes its exact cosine (``dense_extra``) where known; a candidate
    missing from a list otherwise takes that list's lowest score, which bounds the score of
    anything the list left out. Unlike RRF, the fused score keeps how far a candidate stands
    above the rest of its list, so a strong dense match is not outvoted by a lexical list
    that only matched common words. The [0, 1] scale gives the multiplicative priors that
    follow one scale for every query.

    Source: Bruch, Gai and Ingber, "An Analysis of Fusion Functions for Hybrid Retrieval",
    ACM TOIS 42(1), 2023 (convex combination of normalised scores against RRF; z-score is
    one of the normalisations studied there).
    """
    lexical, dense = candidates.lexical, candidates.dense
    if not lexical or not dense:
        return _single_list(candidates)
    union = list(dict.fromkeys(i for i, _ in (*dense, *lexical)))
    alpha = candidates.dense_weight / (candidates.dense_weight + candidates.lexical_weight)
    z_dense = _zscores(dense, union, candidates.dense_extra)
    z_lex = _zscores(lexical, union, {})
    fused = [alpha * d + (1 - alpha) * lx for d, lx in zip(z_dense, z_lex, strict=True)]
    low, high = min(fused), max(fused)
    span = high - low
    return {i: (f - low) / span if span > 0 else 1.0 for i, f in zip(union, fused, strict=True)}


def _single_list(candidates: FusionInput) -> dict[str, float]:
    """With one list empty (no vectors yet, or no word matched), rank as that list's own
    mode does: by 1 / (rrf_k + rank)."""
    only = candidates.lexical or candidates.dense
    return rrf_fuse([[i for i, _ in only]], [1.0], candidates.rrf_k)


def weighted_rrf(candidates: FusionInput) -> dict[str, float]:
    """``rrf_fuse`` of the two lists with the configured weights."""
    return rrf_fuse(
        [[i for i, _ in candidates.lexical], [i for i, _ in candidates.dense]],
        [candidates.lexical_weight, candidates.dense_weight],
        candidates.rrf_k,
    )


FUSIONS: dict[str, Fusion] = {"zscore": zscore_fuse, "rrf": weighted_rrf}


def get_fusion(name: str) -> Fusion:
    try:
        return FUSIONS[name]
    except KeyError:
        raise ConfigError(
            f"unknown fusion {name!r}; set DOCSAGE_FUSION to one of {sorted(FUSIONS)}"
        ) from None
