"""The request log, stage histograms and spans for each finished search or ask."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypedDict

from opentelemetry.trace import Tracer

from docsage import observe
from docsage.errors import ModelError
from docsage.ports import RequestLog, RequestRecord
from docsage.service import metrics, tracing
from docsage.service.outcome import AskOutcome
from docsage.service.status import status_of
from docsage.types import Answer


class Recorder:
    def __init__(self, log: RequestLog, tracer: Tracer, *, capture_content: bool) -> None:
        self.log = log
        self.tracer = tracer
        self.capture_content = capture_content

    def failure(
        self,
        request_id: str,
        key_id: str | None,
        route: str,
        name: str,
        exc: BaseException,
        started: float,
    ) -> None:
        """Log a failed request with the status its response gets and count a model failure
        by reason (its span failed as the exception left ``request``). ``started`` is
        ``time.perf_counter()`` at the start of the request."""
        status, _ = status_of(exc)
        self._plain(request_id, key_id, route, name, status, started)
        if isinstance(exc, ModelError):
            metrics.MODEL_ERRORS.labels(type(exc).__name__).inc()

    def read(
        self, request_id: str, key_id: str | None, route: str, name: str, started: float
    ) -> None:
        """Log a successful read (no answer, no model, no tokens)."""
        self._plain(request_id, key_id, route, name, 200, started)

    def _plain(
        self,
        request_id: str,
        key_id: str | None,
        route: str,
        name: str,
        status: int,
        started: float,
    ) -> None:
        took = (time.perf_counter() - started) * 1000
        self.log.submit(
            RequestRecord(
                id=request_id,
                created_at=time.time(),
                key_id=key_id,
                route=route,
                status=status,
                collection=name,
                total_ms=took,
            )
        )

    @contextmanager
    def request(self, route: str, collection: str) -> Iterator[observe.Span]:
        """The request's span, current for the work inside the block, which records its
        own spans (retrieval, rerank, model and tool calls) under it."""
        sink = tracing.OtelSink(self.tracer)
        attributes = {"docsage.collection": collection, "docsage.request_id": tracing.request_id()}
        with (
            observe.recording_to(sink),
            sink.start(f"docsage.{route}", "internal", attributes) as span,
        ):
            try:
                yield span
            except BaseException as exc:
                span.set({"http.response.status_code": status_of(exc)[0]})
                raise

    def success(
        self, key_id: str | None, route: str, question: str, out: AskOutcome, span: observe.Span
    ) -> None:
        """Log and count a request that is being answered with 200; call it inside
        ``request`` so ``span`` is still open."""
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
        self._count(record, answer)
        span.set({"docsage.cache_hit": record.cache_hit, "http.response.status_code": 200})
        if answer is not None:
            span.set({"docsage.abstained": answer.abstained})

    def _count(self, record: RequestRecord, answer: Answer | None) -> None:
        for stage in ("retrieve", "rerank", "generate"):
            metrics.STAGE.labels(stage).observe(getattr(record, f"{stage}_ms") / 1000)
        if answer is None or record.cache_hit:
            return
        metrics.ANSWERS.labels(str(answer.abstained).lower()).inc()
        for used in answer.usage:  # cost by route
            metrics.TOKENS.labels(used.model, "input").inc(used.input_tokens)
            metrics.TOKENS.labels(used.model, "output").inc(used.output_tokens)
            metrics.COST.labels(used.model).inc(used.cost_usd)
        for step in answer.trace:
            if step.kind == "model":
                metrics.MODEL_CALL.labels(step.name).observe(step.ms / 1000)


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
