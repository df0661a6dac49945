"""Run eval cases through the same ``search`` and ``ask`` calls users get.

Per case the runner records what scoring needs and nothing it could recompute: the ranked
refs of ``Docsage.search`` (up to ``candidates``, deduped in rank order), the answer of
``Docsage.ask`` with its citations, abstention and confidence, timings, and two facts that
need the store: whether every citation resolves to a real chunk, and the lexical
groundedness of the answer against the passages it cites. Page-level metrics map the same
ranked list to pages (first occurrence wins), so a page's rank is its best chunk's rank;
anchor-level metrics score the list as is. Both are cut at k when scored, but the longer
list is kept so the report can show where a gold source ranked when it missed the top k.

A case that raises is recorded with ``error`` set and scored as a failure by ``summary``;
it is never skipped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from docsage.answer.verify import units
from docsage.errors import NotFoundError
from docsage.evals.dataset import EvalCase
from docsage.evals.metrics import dedupe
from docsage.grounding import groundedness
from docsage.ports import IndexReader
from docsage.retrieve import Mode, SearchResult
from docsage.types import Answer, Citation

ProgressFn = Callable[[str, int, int], None]


class Docsage(Protocol):
    """What the harness needs of ``docsage.app.Docsage``: the user-facing search and ask
    paths and the store (a Protocol, so this feature does not import the composition root)."""

    @property
    def store(self) -> IndexReader: ...

    def search(
        self, query: str, *, collection: str | None = ..., k: int = ..., mode: Mode = ...
    ) -> SearchResult: ...

    def ask(self, question: str, *, collection: str | None = ...) -> Answer: ...


class GroundednessJudge(Protocol):
    """Hook for an LLM-judged groundedness score, used when a chat model is configured.

    ``docsage.evals.judge.ChatJudge`` implements it (``docsage eval --judge MODEL``):
    ``run_eval`` fills ``CaseResult.judge_groundedness`` only when a judge is passed in, and
    the summary reports ``groundedness.judge`` only when some case has it. An implementation
    answers whether ``sentence`` is entailed by at least one of ``passages``.
    """

    def supports(self, sentence: str, passages: Sequence[str]) -> bool: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class CaseResult:
    """What one case produced. ``latency_ms`` is the ``ask`` call, what a user waits for;
    ``search_ms`` is the extra ranked search the harness makes for retrieval metrics.
    ``tokens``/``cost`` are the answer's model usage, ``None`` for the extractive answerer."""

    id: str
    retrieved: tuple[str, ...] = ()
    answer: str = ""
    citations: tuple[str, ...] = ()
    abstained: bool = False
    confidence: float = 0.0
    latency_ms: float = 0.0
    search_ms: float = 0.0
    citations_resolve: bool | None = None
    groundedness: float | None = None
    judge_groundedness: float | None = None
    tokens: int | None = None
    cost: float | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class EvalRun:
    """A finished run: the cases, one result per case in the same order, and its setup."""

    collection: str
    k: int
    mode: Mode
    candidates: int
    index_version: int
    cases: tuple[EvalCase, ...]
    results: tuple[CaseResult, ...]
    started_at: float
    seconds: float
    config: dict[str, object] = field(default_factory=dict)


# -- groundedness ------------------------------------------------------------------------------


def cited_sentences(text: str) -> list[tuple[str, list[int]]]:
    """``(sentence without markers, citation numbers)`` for each sentence of an answer, read
    as the answer-time verifier reads it (:func:`docsage.answer.verify.units`): the harness
    scores what the verifier checks.

    A sentence without its own ``[n]`` takes the markers of its paragraph: answers (the
    extractive one included) put one marker after a multi-sentence quote, and that marker
    vouches for the whole quote, not only its last sentence. A fenced code block is one unit,
    with the markers of the sentence that introduces it when it has none of its own.
    """
    return [(unit.text, list(unit.cited)) for unit in units(text)]


def _passages(ds: Docsage, collection: str, citations: Sequence[Citation]) -> dict[int, str]:
    """Citation number -> the text of the chunk it points at ("" if it is gone)."""
    passages: dict[int, str] = {}
    for citation in citations:
        chunks = ds.store.chunks(collection, citation.source, citation.anchor)
        match = [c for c in chunks if c.id == citation.chunk_id] or chunks
        passages[citation.number] = "\n".join(f"{c.title}\n{c.text}" for c in match[:1])
    return passages


def _resolves(ds: Docsage, collection: str, citations: Sequence[Citation]) -> bool:
    return all(ds.store.chunks(collection, c.source, c.anchor) for c in citations)


def _grounded(
    pairs: list[tuple[str, list[int]]],
    passages: dict[int, str],
    judge: GroundednessJudge | None,
) -> float | None:
    if not pairs:
        return None
    items = [(s, [passages.get(n, "") for n in nums]) for s, nums in pairs]
    if judge is None:
        return groundedness(items)
    return sum(1 for s, ps in items if judge.supports(s, ps)) / len(items)


# -- running -----------------------------------------------------------------------------------


def _score_answer(
    ds: Docsage, collection: str, answer: Answer, judge: GroundednessJudge | None
) -> tuple[bool | None, float | None, float | None]:
    """(citations resolve, lexical groundedness, judged groundedness); None when abstained."""
    if answer.abstained:
        return (None, None, None)
    pairs = cited_sentences(answer.text)
    passages = _passages(ds, collection, answer.citations)
    judged = _grounded(pairs, passages, judge) if judge else None
    return (_resolves(ds, collection, answer.citations), _grounded(pairs, passages, None), judged)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Setup:
    collection: str
    candidates: int
    mode: Mode
    judge: GroundednessJudge | None


def _run_case(ds: Docsage, case: EvalCase, setup: _Setup) -> CaseResult:
    started = time.perf_counter()
    try:
        found = ds.search(
            case.question, collection=setup.collection, k=setup.candidates, mode=setup.mode
        )
        searched = time.perf_counter()
        answer = ds.ask(case.question, collection=setup.collection)
        answered = time.perf_counter()
        resolve, grounded, judged = _score_answer(ds, setup.collection, answer, setup.judge)
        return CaseResult(
            id=case.id,
            retrieved=tuple(dedupe(h.chunk.ref for h in found.hits)),
            answer=answer.text,
            citations=tuple(dedupe(c.ref for c in answer.citations)),
            abstained=answer.abstained,
            confidence=answer.confidence,
            latency_ms=(answered - searched) * 1000,
            search_ms=(searched - started) * 1000,
            citations_resolve=resolve,
            groundedness=grounded,
            judge_groundedness=judged,
            tokens=answer.tokens if answer.usage else None,
            cost=answer.cost_usd if answer.usage else None,
        )
    except Exception as exc:  # one bad case must not hide the others: it is counted instead
        return CaseResult(
            id=case.id,
            latency_ms=(time.perf_counter() - started) * 1000,
            error=f"{type(exc).__name__}: {exc}",
        )


def _model(ds: Docsage) -> str:
    """The answer model the run used (``settings.model`` when ``ds`` has settings)."""
    return str(getattr(getattr(ds, "settings", None), "model", "extractive"))


def _require_collection(ds: Docsage, collection: str) -> int:
    version = ds.store.index_version(collection)
    if version == 0:
        known = ", ".join(c.name for c in ds.store.collections()) or "none yet"
        raise NotFoundError(
            f"no collection named {collection!r} (known: {known}); "
            f"create it with: docsage ingest PATH --collection {collection}"
        )
    return version


def run_eval(
    ds: Docsage,
    cases: Sequence[EvalCase],
    *,
    collection: str,
    k: int = 10,
    mode: Mode = "hybrid",
    candidates: int = 100,
    judge: GroundednessJudge | None = None,
    progress: ProgressFn | None = None,
) -> EvalRun:
    """Run every case; a missing collection fails the whole run, a failing case only itself."""
    version = _require_collection(ds, collection)
    setup = _Setup(collection=collection, candidates=max(candidates, k), mode=mode, judge=judge)
    started, clock = time.time(), time.perf_counter()
    results = []
    for done, case in enumerate(cases, 1):
        results.append(_run_case(ds, case, setup))
        if progress is not None:
            progress("questions", done, len(cases))
    return EvalRun(
        collection=collection,
        k=k,
        mode=mode,
        candidates=setup.candidates,
        index_version=version,
        cases=tuple(cases),
        results=tuple(results),
        started_at=started,
        seconds=time.perf_counter() - clock,
        config={"judge": type(judge).__name__ if judge else None, "model": _model(ds)},
    )
