"""The request log, stage histograms and spans for each finished search or ask."""

from __future__ import annotations

import json
import time
from typing import TypedDict

from opentelemetry.trace import Tracer

from docsage.errors import UsageError
from docsage.service import metrics
from docsage.service.outcome import EXTRACTIVE, AskOutcome
from docsage.service.requestlog import RequestLog, RequestRecord
from docsage.service.tracing import generation_span, stage_spans
from docsage.types import Answer


class Recorder:
    def __init__(self, log: RequestLog, tracer: Tracer, *, capture_content: bool) -> None:
        self.log = log
        self.tracer = tracer
        self.capture_content = capture_content

    def failure(
        self, request_id: str, key_id: str | None, route: str, name: str, exc: BaseException
    ) -> None:
        status = 400 if isinstance(exc, UsageError) else 500
        self.log.submit(
            RequestRecord(
                id=request_id,
                created_at=time.time(),
                key_id=key_id,
                route=route,
                status=status,
                collection=name,
            )
        )

    def success(self, key_id: str | None, route: str, question: str, out: AskOutcome) -> None:
        answer = out.answer
        record = RequestRecord(
            id=out.id,
            created_at=time.time(),
            key_id=key_id,
            route=route,
            status=200,
            collection=out.collection,
            **_stage_ms(out),
            **(_content(question, answer) if self.capture_content else {}),
            abstained=answer.abstained if answer else None,
            confidence=answer.confidence if answer else None,
            model=out.usage.model if answer else None,
            input_tokens=out.usage.input_tokens,
            output_tokens=out.usage.output_tokens,
            cost_usd=out.usage.cost_usd,
            cache_hit=out.cache_hit,
            degraded=out.degraded,
            index_version=answer.index_version if answer else None,
        )
        self.log.submit(record)
        self._observe(record, answer)

    def _observe(self, record: RequestRecord, answer: Answer | None) -> None:
        for stage in ("retrieve", "rerank", "generate"):
            metrics.STAGE.labels(stage).observe(getattr(record, f"{stage}_ms") / 1000)
        if answer is None:
            return
        metrics.ANSWERS.labels(str(answer.abstained).lower()).inc()
        for used in answer.usage if not record.cache_hit else ():  # cost by route
            metrics.TOKENS.labels(used.model, "input").inc(used.input_tokens)
            metrics.TOKENS.labels(used.model, "output").inc(used.output_tokens)
            metrics.COST.labels(used.model).inc(used.cost_usd)
        started = time.time_ns() - int(record.total_ms * 1e6)
        with self.tracer.start_as_current_span("docsage.ask", start_time=started) as span:
            span.set_attributes(
                {
                    "docsage.collection": record.collection or "",
                    "docsage.cache_hit": record.cache_hit,
                    "docsage.abstained": answer.abstained,
                }
            )
            stage_spans(
                self.tracer,
                started,
                [("retrieval", record.retrieve_ms), ("rerank", record.rerank_ms)],
            )
            gen_start = started + int((record.retrieve_ms + record.rerank_ms) * 1e6)
            generation_span(
                self.tracer,
                gen_start,
                record.generate_ms,
                record.model or EXTRACTIVE,
                (record.input_tokens, record.output_tokens),
            )


class _StageMs(TypedDict, total=False):
    retrieve_ms: float
    rerank_ms: float
    generate_ms: float
    total_ms: float


class _Content(TypedDict, total=False):
    question: str
    answer: str
    citations: str


def _stage_ms(out: AskOutcome) -> _StageMs:
    if out.answer is not None:
        t = out.answer.timings
        return {
            "retrieve_ms": t.retrieve_ms,
            "rerank_ms": t.rerank_ms,
            "generate_ms": t.generate_ms,
            "total_ms": t.total_ms,
        }
    r = out.search
    retrieve, rerank = (r.retrieve_ms, r.rerank_ms) if r else (0.0, 0.0)
    return {"retrieve_ms": retrieve, "rerank_ms": rerank, "total_ms": retrieve + rerank}


def _content(question: str, answer: Answer | None) -> _Content:
    """What privacy mode (DOCSAGE_CAPTURE_CONTENT=false) leaves out of the request log."""
    if answer is None:
        return {"question": question}
    cites = [{"ref": c.ref, "title": c.title, "lines": c.lines} for c in answer.citations]
    return {"question": question, "answer": answer.text, "citations": json.dumps(cites)}
