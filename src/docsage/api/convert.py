"""``Service`` outcomes to response bodies."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from docsage.api.models import (
    AskResponse,
    CitationOut,
    HitOut,
    RouteUsageOut,
    SearchResponse,
    SentenceCheckOut,
    TimingsOut,
    TraceStepOut,
    UsageOut,
    VerificationOut,
)
from docsage.service.outcome import AskOutcome
from docsage.types import Answer, Citation, Hit


def hit_out(hit: Hit, max_text: int = 2000) -> HitOut:
    c = hit.chunk
    return HitOut(
        ref=c.ref,
        source=c.source,
        anchor=c.anchor,
        title=c.title,
        kind=c.kind,
        score=round(hit.score, 6),
        lines=list(c.lines) if c.lines else None,
        text=c.text[:max_text],
    )


def citation_out(c: Citation) -> CitationOut:
    return CitationOut(
        number=c.number,
        ref=c.ref,
        source=c.source,
        anchor=c.anchor,
        title=c.title,
        lines=list(c.lines) if c.lines else None,
        quote=c.quote,
    )


def ask_response(out: AskOutcome, question: str, include_sources: bool) -> AskResponse:
    answer, result = out.answer, out.search
    hits = list(answer.sources) if answer else (result.hits if result else [])
    if answer is not None:
        timings = TimingsOut(**asdict(answer.timings))
    else:
        retrieve, rerank = (result.retrieve_ms, result.rerank_ms) if result else (0.0, 0.0)
        timings = TimingsOut(retrieve_ms=retrieve, rerank_ms=rerank, total_ms=retrieve + rerank)
    return AskResponse(
        id=out.id,
        collection=out.collection,
        question=question,
        answer=answer.text if answer else None,
        abstained=answer.abstained if answer else False,
        confidence=answer.confidence if answer else 0.0,
        citations=[citation_out(c) for c in answer.citations] if answer else [],
        sources=[hit_out(h, 500) for h in hits] if include_sources else [],
        timings=timings,
        usage=UsageOut(**asdict(out.usage)),
        cache_hit=out.cache_hit,
        degraded=out.degraded,
        degraded_reason=out.degraded_reason,
        index_version=answer.index_version if answer else 0,
        **(_generative(answer) if answer else {}),
    )


def _generative(answer: Answer) -> dict[str, Any]:
    check = answer.verification
    verification = (
        None
        if check is None
        else VerificationOut(
            method=check.method,
            threshold=check.threshold,
            action=check.action,
            checked=check.checked,
            supported=check.supported,
            sentences=[SentenceCheckOut(**asdict(s)) for s in check.sentences],
        )
    )
    return {
        "model": answer.model,
        "routes": [RouteUsageOut(**asdict(u)) for u in answer.usage],
        "verification": verification,
        "trace": [TraceStepOut(**asdict(t)) for t in answer.trace],
    }


def search_response(out: AskOutcome, query: str) -> SearchResponse:
    result = out.search
    assert result is not None
    return SearchResponse(
        id=out.id,
        collection=out.collection,
        query=query,
        hits=[hit_out(h) for h in result.hits],
        dense=result.dense_available,
        timings=TimingsOut(
            retrieve_ms=result.retrieve_ms,
            rerank_ms=result.rerank_ms,
            total_ms=result.retrieve_ms + result.rerank_ms,
        ),
        cache_hit=out.cache_hit,
        degraded=out.degraded,
        degraded_reason=out.degraded_reason,
    )
