"""OpenTelemetry spans following the GenAI semantic conventions.

Each ask or search is a span with one child per stage (retrieval, rerank, generation); the
generation span carries ``gen_ai.operation.name``, ``gen_ai.provider.name``,
``gen_ai.request.model`` and ``gen_ai.usage.*``. Spans are exported over OTLP/HTTP only when
an endpoint is configured; otherwise nothing leaves the process.
"""

from __future__ import annotations

import time
from typing import Any

from docsage.errors import missing_extra

try:
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
    from opentelemetry.trace import Span, Tracer
except ImportError as exc:  # pragma: no cover - the serve extra is missing
    raise missing_extra("opentelemetry-sdk", 'pip install "docsage[serve]"') from exc

__all__ = ["SpanExporter", "generation_span", "make_tracer", "stage_spans"]
PROVIDER = "docsage"


def make_tracer(otlp_endpoint: str, exporter: SpanExporter | None = None) -> Tracer:
    """A tracer of its own provider (the global one is left alone)."""
    provider = TracerProvider(resource=Resource.create({"service.name": "docsage"}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        otlp = OTLPSpanExporter(endpoint=otlp_endpoint, timeout=5)
        provider.add_span_processor(BatchSpanProcessor(otlp))
    return provider.get_tracer("docsage")


def stage_spans(tracer: Tracer, started_ns: int, stages: list[tuple[str, float]]) -> None:
    """Child spans of the current span, laid end to end from ``started_ns``: one per
    (name, milliseconds) stage, as measured inside ``Docsage``."""
    at = started_ns
    for name, ms in stages:
        end = at + int(ms * 1e6)
        tracer.start_span(name, start_time=at).end(end_time=end)
        at = end


def generation_span(
    tracer: Tracer, started_ns: int, ms: float, model: str, usage: tuple[int, int]
) -> None:
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": PROVIDER,
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.usage.input_tokens": usage[0],
        "gen_ai.usage.output_tokens": usage[1],
    }
    span = tracer.start_span(f"chat {model}", start_time=started_ns, attributes=attributes)
    span.end(end_time=started_ns + int(ms * 1e6))


def set_attributes(span: Span, **attributes: Any) -> None:
    span.set_attributes({k.replace("__", "."): v for k, v in attributes.items() if v is not None})


def now_ns() -> int:
    return time.time_ns()
