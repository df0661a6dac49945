"""OpenTelemetry behind ``docsage.observe``: the spans features open where they work.

Each ask, chat or search is a span (``docsage.<route>``) around the whole request; inside
it, the spans ``docsage.observe`` describes (retrieval, rerank, one CLIENT ``chat <model>``
per model call, one ``execute_tool <name>`` per tool call) are its descendants. A span
left by an exception (a failed request, a model call fallen back from) has error status,
``error.type`` and the exception as an event. A caller's W3C ``traceparent`` makes the
request span its child. Spans are exported over OTLP/HTTP only when an endpoint is
configured; otherwise nothing leaves the process.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from docsage import observe
from docsage.errors import missing_extra
from docsage.observe import Value

try:
    from opentelemetry.context import Context
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
    from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, get_current_span
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError as exc:  # pragma: no cover - the serve extra is missing
    raise missing_extra("opentelemetry-sdk", 'pip install "docsage[serve]"') from exc

__all__ = ["OtelSink", "SpanExporter", "make_tracer"]
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


class _Recorded:
    def __init__(self, span: Span) -> None:
        self.span = span

    def set(self, attributes: Mapping[str, Value]) -> None:
        self.span.set_attributes(dict(attributes))

    def fail(self, error_type: str, message: str) -> None:
        failed(self.span, error_type, message)


class OtelSink:
    """``docsage.observe.Sink`` over one tracer; spans nest through OpenTelemetry's own
    current-span context, starting under the caller's ``traceparent`` if there was one."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    @contextmanager
    def start(
        self, name: str, kind: observe.SpanKind, attributes: Mapping[str, Value]
    ) -> Iterator[_Recorded]:
        with self.tracer.start_as_current_span(
            name,
            context=None if get_current_span().get_span_context().is_valid else parent(),
            kind=SpanKind.CLIENT if kind == "client" else SpanKind.INTERNAL,
            attributes=dict(attributes),
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                yield _Recorded(span)
            except BaseException as exc:
                span.record_exception(exc)
                failed(span, type(exc).__name__, str(exc))
                raise
