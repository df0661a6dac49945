"""OpenTelemetry spans following the GenAI semantic conventions.

Each ask, chat or search is a span (``docsage.<route>``) with one child per stage
(retrieval, rerank, then generation). Generation is one CLIENT span per model call (an
agent's four model calls are four spans) carrying ``gen_ai.operation.name``,
``gen_ai.provider.name`` (the provider in the model's name: ``openai``, ``llamacpp``),
``gen_ai.request.model`` and ``gen_ai.usage.*``; one ``execute_tool`` span per tool call; a
span with error status per failed route that was fallen back from. The extractive answerer is
one ``chat extractive`` span of provider ``docsage``. A failed request's span has error
status and ``error.type``. A caller's W3C ``traceparent`` makes the request span its child.
Spans are exported over OTLP/HTTP only when an endpoint is configured; otherwise nothing
leaves the process.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from docsage.errors import missing_extra

try:
    from opentelemetry.context import Context
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
    from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError as exc:  # pragma: no cover - the serve extra is missing
    raise missing_extra("opentelemetry-sdk", 'pip install "docsage[serve]"') from exc

__all__ = ["SpanExporter", "generation_span", "make_tracer", "stage_spans"]
PROVIDER = "docsage"
_PROPAGATOR = TraceContextTextMapPropagator()
_parent: ContextVar[Context | None] = ContextVar("docsage_trace_parent", default=None)
_request_id: ContextVar[str] = ContextVar("docsage_request_id", default="")


@contextmanager
def traced_from(headers: Mapping[str, str], request_id: str) -> Iterator[None]:
    """Within the block, spans continue the caller's trace (a valid ``traceparent``) and
    carry the request's ``X-Request-ID``."""
    context = _PROPAGATOR.extract(dict(headers)) if "traceparent" in headers else None
    tokens = (_parent.set(context), _request_id.set(request_id))
    try:
        yield
    finally:
        _parent.reset(tokens[0])
        _request_id.reset(tokens[1])


def parent() -> Context | None:
    return _parent.get()


def request_id() -> str:
    return _request_id.get()


def provider_of(model: str) -> str:
    """``openai:gpt-4o`` is served by provider ``openai``, ``llamacpp:x.gguf`` by ``llamacpp``;
    the extractive answerer by docsage itself."""
    prefix, sep, _ = model.partition(":")
    return prefix if sep else PROVIDER


def failed(span: Span, kind: str, message: str = "") -> None:
    span.set_status(Status(StatusCode.ERROR, (message or kind)[:200]))
    span.set_attribute("error.type", kind)


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
    tracer: Tracer,
    started_ns: int,
    ms: float,
    model: str,
    usage: tuple[int, int],
    *,
    error: str = "",
) -> Span:
    """One model call: a CLIENT span when a model server was called."""
    provider = provider_of(model)
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider,
        "gen_ai.request.model": model,
        "gen_ai.response.model": model,
        "gen_ai.usage.input_tokens": usage[0],
        "gen_ai.usage.output_tokens": usage[1],
    }
    # CLIENT: a call to a model server. In-process models (llama.cpp, fakes) are INTERNAL.
    kind = SpanKind.CLIENT if provider == "openai" else SpanKind.INTERNAL
    span = tracer.start_span(
        f"chat {model}", start_time=started_ns, attributes=attributes, kind=kind
    )
    if error:
        failed(span, "tool_error", error)
    span.end(end_time=started_ns + int(ms * 1e6))
    return span


def tool_span(tracer: Tracer, started_ns: int, ms: float, name: str, error: str) -> None:
    attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
    span = tracer.start_span(f"execute_tool {name}", start_time=started_ns, attributes=attributes)
    if error:
        failed(span, "tool_error", error)
    span.end(end_time=started_ns + int(ms * 1e6))
