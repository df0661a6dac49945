"""Hybrid retrieval: lexical (FTS5/BM25) and dense candidates, fused (``docsage.fusion``:
z-score convex combination by default, or weighted reciprocal rank fusion), then priors and
an optional reranking stage.

Dense search covers only chunks that already have vectors, so search is usable (lexically)
while an ingest is still embedding, and becomes hybrid as vectors arrive.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, replace
from typing import Literal

from docsage.errors import ConfigError, UsageError
from docsage.fusion import FusionInput, get_fusion
from docsage.observe import span
from docsage.ports import Embedder, IndexReader, Reranker, ScoredChunk
from docsage.text import query_tokens, words
from docsage.types import API_KINDS, Hit

Mode = Literal["hybrid", "lexical", "dense"]
MODES: tuple[Mode, ...] = ("hybrid", "lexical", "dense")


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchOptions:
    k: int = 10
    mode: Mode = "hybrid"
    path_prefix: str = ""
    candidates: int = 100


@dataclass(frozen=True, kw_only=True, slots=True)
class FusionWeights:
    """How the two lists are fused: ``fusion`` names a function in ``docsage.fusion.FUSIONS``,
    ``lexical``/``dense`` weigh the lists, ``rrf_k`` is RRF's k (the usual 60, Cormack et
    al. 2009), also used to rank a single list. The defaults are docsage's own, defined
    here once: the settings (``DOCSAGE_LINK_PRIOR``...) take theirs from this class."""

    fusion: str = "zscore"
    lexical: float = 0.3
    dense: float = 0.7
    rrf_k: float = 60.0
    link_prior: float = 3.0
    api_prior: float = 1.0
    title_prior: float = 2.0
    history_prior: float = 0.5

    def __post_init__(self) -> None:
        get_fusion(self.fusion)  # an unknown name fails here, when settings are read
        if min(self.lexical, self.dense) < 0 or self.lexical + self.dense <= 0:
            raise ConfigError(
                f"fusion weights lexical={self.lexical}, dense={self.dense}: both must be >= 0"
                " and one > 0 (DOCSAGE_LEXICAL_WEIGHT, DOCSAGE_DENSE_WEIGHT)"
            )


_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
_BACKTICKED = re.compile(r"`([^`\n]*)`")
_API_REF = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?:\(\))?|[A-Za-z_]\w*\(\)")


def focus_query(query: str) -> str:
    """The question without the literal data it quotes: string literals ('file.txt') and
    backticked values (`d2`, `mydict`) are the asker's data, not words of the docs, and they
    pull both retrievers off topic. Backticked API references (`os.path.join`, `len()`)
    stay. Falls back to the whole question when nothing else is left.
    """
    kept = _BACKTICKED.sub(
        lambda m: m.group(1) if _API_REF.fullmatch(m.group(1).strip()) else " ", query
    )
    kept = _QUOTED.sub(" ", kept)
    kept = " ".join(kept.split())
    return kept if kept.strip(" ?.!,") else query


LINK_SATURATION = 100


def link_prior(inlinks: int, max_inlinks: int, weight: float) -> float:
    """Multiplier 1 + weight * log(1 + n) / log(1 + max(n_max, 100)) for a ref with n in-links.

    A log-damped in-link (citation count) prior, as in link-based ranking for web search
    (Kraaij, Westerveld and Hiemstra, SIGIR 2002, use in-link counts as a document prior).
    The normaliser never drops below 100 in-links, so in a sparsely linked corpus a handful
    of links cannot multiply a score several times over.
    """
    if weight <= 0 or inlinks <= 0:
        return 1.0
    return 1.0 + weight * math.log1p(inlinks) / math.log1p(max(max_inlinks, LINK_SATURATION))


TITLE_MATCH_MIN = 0.6
EXACT_TITLE = 0.9
"""A heading whose words, all of them, are this near the question's (Dice) is the question
asked the way its section is titled: it wins for a lookup too ("What should I put in
user.name?" names code, but the FAQ entry titled with it is the answer, not the hub entries
the link prior favours). "put user.name" shares its content words, not its wording."""


def says_title(query: str, heading: str) -> bool:
    """Whether the query is its heading, near word for word (case and punctuation aside)."""
    asked = {w.lower() for w in words(query)}
    titled = {w.lower() for w in words(heading)}
    overlap = len(asked & titled)
    return bool(overlap) and 2 * overlap / (len(asked) + len(titled)) >= EXACT_TITLE


def title_match(question: frozenset[str], heading: str) -> float:
    """How nearly a section's own heading says what the question says: the Dice overlap of
    their content words, 0 below ``TITLE_MATCH_MIN``.

    FAQ and how-to sections are titled with the question they answer ("How do I configure
    logging?"); when the question is asked in those words, that section is the answer, whatever
    its in-link count. Below 0.6 an overlap is two or three shared words, which any long
    section heading has with some question, so it says nothing.
    """
    words = frozenset(query_tokens(heading))
    if len(question & words) < 2:  # a one-word heading ("Tidepool") is a topic, not a question
        return 0.0
    dice = 2 * len(question & words) / (len(question) + len(words))
    return dice if dice >= TITLE_MATCH_MIN else 0.0


def title_prior(match: float, weight: float, link_weight: float) -> float:
    """Multiplier for a heading match: ``1 + weight * match``, scaled past the largest link
    prior (``1 + link_weight``), so an exact title match outranks any hub entry."""
    if weight <= 0 or match <= 0:
        return 1.0
    return (1.0 + link_weight) * (1.0 + weight * match) if link_weight > 0 else 1.0 + weight * match


_HISTORY_PAGE = re.compile(
    r"(?:^|/)(?:changelog|changes|whatsnew|whats_new|news|release[-_]?notes|history)"
    r"(?:/|[-_.]|\d|$)|(?:^|/)(?:migration|whatsnew)_\w+\.",
    re.IGNORECASE,
)
_ABOUT_CHANGE = re.compile(
    r"\b(?:new|what's|changed?|changes|changelog|deprecat\w*|removed|migrat\w*|upgrad\w*"
    r"|releases?|versions?|since|before|after|\d+\.\d+)\b",
    re.IGNORECASE,
)


def is_history_page(source: str) -> bool:
    """Changelogs, "What's New" and migration notes (``whatsnew/3.11.html``,
    ``changelog/migration_20.rst``): they mention every API, in the past tense."""
    return bool(_HISTORY_PAGE.search(source))


def asks_about_change(query: str) -> bool:
    """Whether the question is about a change or a version, where history pages answer."""
    return bool(_ABOUT_CHANGE.search(query))


_INTERROGATIVE = re.compile(
    r"^\s*(?:how|what|why|when|where|which|who|whom|whose|can|could|is|are|was|were|does|do"
    r"|did|should|shall|will|would|may|might|must|has|have|had)\b",
    re.IGNORECASE,
)
_CODE = re.compile(r"`[^`]+`|'[^']+'|\"[^\"]+\"|\b\w+\.\w+\b|\b\w+\(\)")

QuestionKind = Literal["lookup", "conceptual"]


def question_kind(query: str) -> QuestionKind:
    """``conceptual`` for a question asked in words ("How do I configure logging?": an
    interrogative, naming no code), ``lookup`` for the rest ("delete file `filename`",
    "Session.merge() options": an imperative or a query naming code).

    The priors are per kind, because each helps one kind and costs the other: in-links and
    the API prior find the entry an API lookup wants, and bury the FAQ or guide section that
    answers a question in words; a heading that says what the question says marks that
    section, and misleads a lookup whose words happen to match an FAQ title.
    """
    asked = bool(_INTERROGATIVE.match(query)) or query.rstrip().endswith("?")
    return "conceptual" if asked and not _CODE.search(query) else "lookup"


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchResult:
    hits: list[Hit]
    retrieve_ms: float
    rerank_ms: float
    dense_available: bool


class Retriever:
    def __init__(
        self,
        store: IndexReader,
        embedder: Embedder | None,
        *,
        weights: FusionWeights | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.weights = weights or FusionWeights()
        self.fusion = get_fusion(self.weights.fusion)
        self.reranker = reranker

    def _lexical(self, query: str, collection: str, options: SearchOptions) -> list[ScoredChunk]:
        return self.store.lexical_search(collection, query, options.candidates, options.path_prefix)

    def _dense(
        self, query: str, collection: str, options: SearchOptions, lexical: list[ScoredChunk]
    ) -> tuple[list[ScoredChunk], dict[str, float]]:
        """The dense top candidates, and the exact cosines of the lexical candidates they
        left out (fusion scores those by their real similarity, not a guess)."""
        if self.embedder is None:
            return [], {}
        vector, model = self.embedder.embed([query])[0], self.embedder.name
        dense = self.store.dense_search(
            collection, model, vector, options.candidates, options.path_prefix
        )
        in_dense = {s.chunk.id for s in dense}
        missing = [s.chunk.id for s in lexical if s.chunk.id not in in_dense]
        if not dense or not missing:
            return dense, {}
        return dense, self.store.dense_scores(collection, model, vector, missing)

    def search(self, query: str, collection: str, options: SearchOptions) -> SearchResult:
        if options.mode not in MODES:
            raise UsageError(f"unknown search mode {options.mode!r}; use one of {MODES}")
        if options.mode == "dense" and self.embedder is None:
            raise UsageError("dense search needs an embedder; configure one or use --mode lexical")
        started = time.perf_counter()
        with span("retrieval", {"docsage.search.mode": options.mode}):
            focused = focus_query(query)
            lexical = self._lexical(focused, collection, options) if options.mode != "dense" else []
            dense, extra = (
                self._dense(focused, collection, options, lexical)
                if options.mode != "lexical"
                else ([], {})
            )
            hits = self._apply_prior(self._fuse(lexical, dense, extra), collection, focused)
        retrieved = time.perf_counter()
        if self.reranker is not None and hits:
            with span("rerank", {"docsage.rerank.candidates": len(hits)}):
                hits = self.reranker.rerank(query, hits)
        done = time.perf_counter()
        return SearchResult(
            hits=hits[: options.k],
            retrieve_ms=(retrieved - started) * 1000,
            rerank_ms=(done - retrieved) * 1000,
            dense_available=bool(dense),
        )

    def _apply_prior(self, hits: list[Hit], collection: str, query: str) -> list[Hit]:
        if not hits:
            return hits
        weights = self.weights
        lookup = question_kind(query) == "lookup"
        link_weight = weights.link_prior if lookup else 0.0
        api_weight = weights.api_prior if lookup else 1.0
        title_weight = weights.title_prior
        counts = self.store.link_counts(collection) if link_weight > 0 else {}
        top = max(counts.values(), default=0)
        question = frozenset(query_tokens(query)) if title_weight > 0 else frozenset()
        history = 1.0 if asks_about_change(query) else weights.history_prior

        def prior(hit: Hit) -> float:
            heading = hit.chunk.heading
            match = title_match(question, heading)
            if lookup and not says_title(query, heading):
                match = 0.0
            by_title = title_prior(match, title_weight, link_weight)
            return (
                link_prior(counts.get(hit.chunk.ref, 0), top, link_weight)
                * (api_weight if hit.chunk.kind in API_KINDS else 1.0)
                * by_title
                * (history if is_history_page(hit.chunk.source) else 1.0)
            )

        rescored = [replace(h, score=h.score * prior(h)) for h in hits]
        return sorted(rescored, key=lambda h: -h.score)

    def _fuse(
        self, lexical: list[ScoredChunk], dense: list[ScoredChunk], extra: dict[str, float]
    ) -> list[Hit]:
        chunks = {s.chunk.id: s.chunk for s in (*lexical, *dense)}
        fused = self.fusion(
            FusionInput(
                lexical=[(s.chunk.id, s.score) for s in lexical],
                dense=[(s.chunk.id, s.score) for s in dense],
                dense_extra=extra,
                lexical_weight=self.weights.lexical,
                dense_weight=self.weights.dense,
                rrf_k=self.weights.rrf_k,
            )
        )
        lexical_rank = {s.chunk.id: r for r, s in enumerate(lexical, 1)}
        dense_rank = {s.chunk.id: r for r, s in enumerate(dense, 1)}
        lexical_score = {s.chunk.id: s.score for s in lexical}
        dense_score = {**extra, **{s.chunk.id: s.score for s in dense}}
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
