"""Spans are opened around the work where it happens (``docsage.observe``), so they nest as
the work does and fail where it failed: through the real ``Service`` with an in-memory
exporter, a scripted fake chat model (no real model runs here) and the fake hash embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from docsage import observe
from docsage.app import Docsage
from docsage.errors import ModelRejectedError, ModelTimeoutError
from docsage.models.fake import ScriptedChatModel, ScriptItem, tool_call
from docsage.service.core import Principal, Service
from docsage.settings import Settings
from test_api_support import ALPHA

QUESTION = "How often is a failed job retried with max_retries?"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Service, InMemorySpanExporter]]:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(ALPHA)
    settings = Settings(
        home=tmp_path / "home",
        auth=False,
        embedder="fake:hash",
        model="fake:scripted",
        fallback_model="extractive",
        answer_cache_size=0,
    )
    with Docsage(settings) as ds:
        ds.ingest(tmp_path / "docs", collection="default")
    exporter = InMemorySpanExporter()
    service = Service(settings, span_exporter=exporter)
    yield service, exporter
    service.close()


def _play(service: Service, *script: ScriptItem) -> None:
    service.ds.add_chat_model("fake:scripted", ScriptedChatModel(script))


def _named(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [s for s in spans if s.name == name]


def _parent_of(span: ReadableSpan, spans: tuple[ReadableSpan, ...]) -> ReadableSpan:
    assert span.parent is not None, f"{span.name} has no parent"
    return next(s for s in spans if s.context and s.context.span_id == span.parent.span_id)


def test_a_tool_calls_search_is_a_child_of_its_tool_span(
    served: tuple[Service, InMemorySpanExporter],
) -> None:
    service, exporter = served
    _play(service, tool_call("search_docs", query="max_retries"), "Jobs are retried. [1]")
    service.ask(Principal(key=None), QUESTION, None, "", agent=True)
    spans = exporter.get_finished_spans()
    tool = _named(spans, "execute_tool search_docs")
    assert len(tool) == 1 and tool[0].kind is SpanKind.CLIENT
    # The search the tool ran is inside the tool's span: spans made where the work is.
    inside_tool = [s for s in _named(spans, "retrieval") if _parent_of(s, spans) is tool[0]]
    assert len(inside_tool) == 1
    calls = _named(spans, "chat fake:scripted")
    assert len(calls) == 2 and all(c.kind is SpanKind.CLIENT for c in calls)
    assert all((c.attributes or {})["gen_ai.usage.input_tokens"] > 0 for c in calls)
    root = _named(spans, "docsage.ask")[0]
    assert all(_parent_of(s, spans) is root for s in [*calls, *tool])
    for child in [*calls, *tool, *inside_tool]:  # each lies within the request's own time
        assert root.start_time <= child.start_time <= child.end_time <= root.end_time
    ordered = sorted([*calls, *tool], key=lambda s: s.start_time)
    assert [s.name for s in ordered] == [calls[0].name, tool[0].name, calls[0].name]


def test_a_failed_model_call_is_an_error_span_and_the_fallback_answers(
    served: tuple[Service, InMemorySpanExporter],
) -> None:
    service, exporter = served
    _play(service, ModelTimeoutError("the model server took too long"))
    out = service.ask(Principal(key=None), QUESTION, None, "")
    assert out.answer is not None and out.answer.model == "extractive"
    spans = exporter.get_finished_spans()
    failed = _named(spans, "chat fake:scripted")[0]
    assert failed.status.status_code is StatusCode.ERROR
    assert (failed.attributes or {})["error.type"] == "ModelTimeoutError"
    assert [e.name for e in failed.events] == ["exception"]
    fallback = _named(spans, "chat extractive")[0]
    assert fallback.status.status_code is StatusCode.UNSET
    assert failed.end_time <= fallback.start_time
    root = _named(spans, "docsage.ask")[0]
    assert root.status.status_code is StatusCode.UNSET
    assert (root.attributes or {})["http.response.status_code"] == 200


def test_a_failed_request_is_an_error_span_with_its_status(
    served: tuple[Service, InMemorySpanExporter],
) -> None:
    service, exporter = served
    _play(service, ModelRejectedError("the model server refused the key"))
    with pytest.raises(ModelRejectedError):
        service.ask(Principal(key=None), QUESTION, None, "")
    spans = exporter.get_finished_spans()
    root = _named(spans, "docsage.ask")[0]
    assert root.status.status_code is StatusCode.ERROR
    attributes = root.attributes or {}
    assert attributes["error.type"] == "ModelRejectedError"
    assert attributes["http.response.status_code"] >= 500
    call = _named(spans, "chat fake:scripted")[0]
    assert _parent_of(call, spans) is root and call.status.status_code is StatusCode.ERROR


def test_the_provider_is_the_prefix_of_the_model_name() -> None:
    assert observe.provider_of("openai:gpt-4o") == "openai"
    assert observe.provider_of("llamacpp:qwen.gguf") == "llamacpp"
    assert observe.provider_of("extractive") == "docsage"
