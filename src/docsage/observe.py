"""Spans around the work, with no tracing library below the service.

Features mark their stages where the work happens (``with span("retrieval"):``); a model
call is ``model_call``, a tool call ``tool_call``. Nothing is recorded unless a front end
installs a ``Sink`` for the current context (``recording_to``): the service installs an
OpenTelemetry one, so ``docsage.ask`` in a script costs nothing. A span ends when its block
does, so its duration is the work's, and an exception leaving the block marks it failed
with ``error.type`` before it propagates.

Names and attributes follow the OpenTelemetry GenAI conventions: ``chat <model>`` spans
carry ``gen_ai.operation.name``, ``gen_ai.provider.name`` (the prefix of the model's name:
``openai``, ``llamacpp``; ``docsage`` for the extractive answerer), ``gen_ai.request.model``
and, once known, ``gen_ai.usage.*``; a tool call is ``execute_tool <name>``. Both are CLIENT
spans: a call out of docsage's own logic, to a model or to a tool.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Literal, Protocol

SpanKind = Literal["internal", "client"]
Value = str | bool | int | float
PROVIDER = "docsage"


class Span(Protocol):
    def set(self, attributes: Mapping[str, Value]) -> None: ...

    def fail(self, error_type: str, message: str) -> None:
        """Mark the span failed without an exception (a tool error the agent saw)."""
        ...


class Sink(Protocol):
    def start(
        self, name: str, kind: SpanKind, attributes: Mapping[str, Value]
    ) -> AbstractContextManager[Span]:
        """A span that is current inside the block, a child of the one current outside it;
        an exception leaving the block fails the span and is re-raised."""
        ...


class _Unrecorded:
    def set(self, attributes: Mapping[str, Value]) -> None:
        return None

    def fail(self, error_type: str, message: str) -> None:
        return None


_UNRECORDED = _Unrecorded()
_sink: ContextVar[Sink | None] = ContextVar("docsage_span_sink", default=None)


@contextmanager
def recording_to(sink: Sink) -> Iterator[None]:
    """Within the block (and the threads that copy its context), spans go to ``sink``."""
    token = _sink.set(sink)
    try:
        yield
    finally:
        _sink.reset(token)


@contextmanager
def span(
    name: str, attributes: Mapping[str, Value] | None = None, *, kind: SpanKind = "internal"
) -> Iterator[Span]:
    sink = _sink.get()
    if sink is None:
        yield _UNRECORDED
        return
    with sink.start(name, kind, dict(attributes or {})) as recorded:
        yield recorded


def provider_of(model: str) -> str:
    """``openai:gpt-4o`` is served by provider ``openai``, ``llamacpp:x.gguf`` by
    ``llamacpp``; a name without a provider (``extractive``) by docsage itself."""
    prefix, sep, _ = model.partition(":")
    return prefix if sep else PROVIDER


def model_call(model: str) -> AbstractContextManager[Span]:
    """A ``chat <model>`` span; set ``usage(...)`` on it once the response is in."""
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider_of(model),
        "gen_ai.request.model": model,
    }
    return span(f"chat {model}", attributes, kind="client")


def usage(model: str, input_tokens: int, output_tokens: int) -> dict[str, Value]:
    return {
        "gen_ai.response.model": model,
        "gen_ai.usage.input_tokens": input_tokens,
        "gen_ai.usage.output_tokens": output_tokens,
    }


def tool_call(name: str) -> AbstractContextManager[Span]:
    attributes = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name}
    return span(f"execute_tool {name}", attributes, kind="client")
