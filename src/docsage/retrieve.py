"""Hybrid retrieval: lexical (FTS5/BM25) and dense candidates, fused by weighted reciprocal
rank fusion, then an optional reranking stage.

Dense search covers only chunks that already have vectors, so search is usable (lexically)
while an ingest is still embedding, and becomes hybrid as vectors arrive.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from docsage.errors import UsageError
from docsage.ports import Embedder, ScoredChunk, Store
from docsage.types import Hit

Mode = Literal["hybrid", "lexical", "dense"]
MODES: tuple[Mode, ...] = ("hybrid", "lexical", "dense")


class Reranker(Protocol):
    """Reorders fused hits for a question; may change scores, must not invent hits."""

    def rerank(self, query: str, hits: Sequence[Hit]) -> list[Hit]: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchOptions:
    k: int = 10
    mode: Mode = "hybrid"
    path_prefix: str = ""
    candidates: int = 100


@dataclass(frozen=True, kw_only=True, slots=True)
class FusionWeights:
    """Weights of weighted RRF; ``rrf_k`` is the usual 60 (Cormack et al. 2009)."""

    lexical: float = 1.0
    dense: float = 1.0
    rrf_k: float = 60.0


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


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchResult:
    hits: list[Hit]
    retrieve_ms: float
    rerank_ms: float
    dense_available: bool


class Retriever:
    def __init__(
        self,
        store: Store,
        embedder: Embedder | None,
        *,
        weights: FusionWeights | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.weights = weights or FusionWeights()
        self.reranker = reranker

    def _lexical(self, query: str, collection: str, options: SearchOptions) -> list[ScoredChunk]:
        return self.store.lexical_search(collection, query, options.candidates, options.path_prefix)

    def _dense(self, query: str, collection: str, options: SearchOptions) -> list[ScoredChunk]:
        if self.embedder is None:
            return []
        vector = self.embedder.embed([query])[0]
        return self.store.dense_search(
            collection, self.embedder.name, vector, options.candidates, options.path_prefix
        )

    def search(self, query: str, collection: str, options: SearchOptions) -> SearchResult:
        if options.mode not in MODES:
            raise UsageError(f"unknown search mode {options.mode!r}; use one of {MODES}")
        if options.mode == "dense" and self.embedder is None:
            raise UsageError("dense search needs an embedder; configure one or use --mode lexical")
        started = time.perf_counter()
        lexical = self._lexical(query, collection, options) if options.mode != "dense" else []
        dense = self._dense(query, collection, options) if options.mode != "lexical" else []
        hits = self._fuse(lexical, dense)
        retrieved = time.perf_counter()
        if self.reranker is not None and hits:
            hits = self.reranker.rerank(query, hits)
        done = time.perf_counter()
        return SearchResult(
            hits=hits[: options.k],
            retrieve_ms=(retrieved - started) * 1000,
            rerank_ms=(done - retrieved) * 1000,
            dense_available=bool(dense),
        )

    def _fuse(self, lexical: list[ScoredChunk], dense: list[ScoredChunk]) -> list[Hit]:
        chunks = {s.chunk.id: s.chunk for s in (*lexical, *dense)}
        lexical_ids = [s.chunk.id for s in lexical]
        dense_ids = [s.chunk.id for s in dense]
        fused = rrf_fuse(
            [lexical_ids, dense_ids],
            [self.weights.lexical, self.weights.dense],
            self.weights.rrf_k,
        )
        lexical_rank = {cid: r for r, cid in enumerate(lexical_ids, 1)}
        dense_rank = {cid: r for r, cid in enumerate(dense_ids, 1)}
        lexical_score = {s.chunk.id: s.score for s in lexical}
        dense_score = {s.chunk.id: s.score for s in dense}
        order = sorted(fused, key=lambda cid: -fused[cid])
        return [
            Hit(
                chunk=chunks[cid],
                score=fused[cid],
                lexical_rank=lexical_rank.get(cid),
                dense_rank=dense_rank.get(cid),
                lexical_score=lexical_score.get(cid),
                dense_score=dense_score.get(cid),
            )
            for cid in order
        ]
