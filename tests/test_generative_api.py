"""Generative answers through the HTTP API (uvicorn in a thread, auth off on loopback),
with the shipped ``fake:echo`` chat model chosen by name in the settings: usage, routes,
verification and trace in /v1/ask; verified streaming with time to first token in
/v1/chat/completions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from docsage.adapters import CHAT_MODELS
from docsage.api.app import create_app
from docsage.app import Docsage
from docsage.models.chat import ChatModelConfig
from docsage.models.fake import ScriptedChatModel, tool_call
from docsage.ports.chat import ChatModel, ChatRequest
from docsage.settings import Settings
from test_api_support import ALPHA, app_in_thread

QUESTION = "How often is a failed job retried with max_retries?"
RETRIES = "Set max_retries to control how often a failed job is attempted again"


def _serve(tmp: Path, model: str, exporter: InMemorySpanExporter | None = None) -> Iterator[str]:
    (tmp / "docs").mkdir()
    (tmp / "docs" / "guide.md").write_text(ALPHA)
    settings = Settings(
        home=tmp / "home", auth=False, embedder="fake:hash", model=model, answer_cache_size=0
    )
    with Docsage(settings) as ds:
        ds.ingest(tmp / "docs", collection="default")
    with app_in_thread(create_app(settings, span_exporter=exporter)) as url:
        yield url


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _serve(tmp_path_factory.mktemp("genapi"), "fake:echo")


def _cite_what_search_found(request: ChatRequest) -> str:
    """A final turn that quotes the retries sentence with the number search_docs gave it."""
    seen = "\n".join(m.content for m in request.messages if m.role == "tool")
    found = re.search(r"\[(\d+)\] guide\.md#retries", seen)
    return f"{RETRIES} [{found.group(1) if found else 99}]."


SPANS = InMemorySpanExporter()


@pytest.fixture(scope="module")
def agent_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose chat model is a scripted fake (no real model runs here) that searches
    the docs with the agent's tool, then answers from what the tool returned."""

    def scripted(model: str, config: ChatModelConfig) -> ChatModel:
        # Two agent runs: each searches, then answers from what the search returned.
        script = [tool_call("search_docs", query="max_retries"), _cite_what_search_found] * 2
        return ScriptedChatModel(script, name="fake:scripted")

    CHAT_MODELS.add("scripted", scripted)
    try:
        yield from _serve(tmp_path_factory.mktemp("agentapi"), "scripted:search", SPANS)
    finally:
        CHAT_MODELS.remove("scripted")


def test_ask_reports_model_usage_verification_and_trace(url: str) -> None:
    body = httpx.post(url + "/v1/ask", json={"question": QUESTION}, timeout=30).json()
    assert body["model"] == "fake:echo" and not body["abstained"]
    assert body["usage"]["model"] == "fake:echo" and body["usage"]["input_tokens"] > 0
    assert [r["model"] for r in body["routes"]] == ["fake:echo"]
    check = body["verification"]
    assert check["method"] == "lexical-support" and check["checked"] == check["supported"] >= 1
    assert body["trace"][0]["kind"] == "model"
    assert body["citations"][0]["ref"].startswith("guide.md#")


def test_agent_mode_over_the_api_searches_then_cites(agent_url: str) -> None:
    ask = {"question": QUESTION, "options": {"agent": True}}
    body = httpx.post(agent_url + "/v1/ask", json=ask, timeout=30).json()
    assert not body["abstained"] and RETRIES in body["answer"]
    assert [c["ref"] for c in body["citations"]] == ["guide.md#retries"]
    assert body["verification"]["supported"] == 1
    steps = [(step["kind"], step["name"]) for step in body["trace"]]
    assert steps == [
        ("model", "fake:scripted"),
        ("tool", "search_docs"),
        ("model", "fake:scripted"),
    ]
    # The tool really searched the index, and the citation is a chunk of it: the same ref
    # the search route finds, with the quote taken from that chunk's text.
    tool = body["trace"][1]
    assert "max_retries" in tool["detail"] and tool["result_chars"] > 0 and not tool["error"]
    found = httpx.post(agent_url + "/v1/search", json={"query": "max_retries"}, timeout=30)
    hits = {h["ref"]: h["text"] for h in found.json()["hits"]}
    cited = body["citations"][0]
    assert cited["ref"] in hits and RETRIES in hits[cited["ref"]] and RETRIES in cited["quote"]
    # What the run spent is reported, and adds up: two model calls, each with its tokens,
    # summed in the route and the usage; a tool call costs no model tokens.
    models = [s for s in body["trace"] if s["kind"] == "model"]
    assert all(s["input_tokens"] > 0 and s["output_tokens"] > 0 for s in models)
    assert tool["input_tokens"] == tool["output_tokens"] == 0
    route = body["routes"][0]
    assert route["calls"] == 2 and body["model"] == "agent:fake:scripted"
    assert (
        route["input_tokens"]
        == body["usage"]["input_tokens"]
        == sum(s["input_tokens"] for s in models)
    )
    assert route["output_tokens"] == sum(s["output_tokens"] for s in models)


def test_agent_spans_one_per_model_and_tool_call_under_the_callers_trace(agent_url: str) -> None:
    SPANS.clear()
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    ask = {"question": QUESTION, "options": {"agent": True}}
    httpx.post(agent_url + "/v1/ask", json=ask, headers=headers, timeout=30).raise_for_status()
    httpx.post(agent_url + "/v1/search", json={"query": "backoff"}, timeout=30).raise_for_status()
    spans = SPANS.get_finished_spans()
    names = [s.name for s in spans]
    assert names.count("chat fake:scripted") == 2 and names.count("execute_tool search_docs") == 1
    root = next(s for s in spans if s.name == "docsage.ask")
    assert f"{root.context.trace_id:032x}" == trace_id, "the caller's traceparent is the parent"
    assert root.parent is not None and f"{root.parent.span_id:016x}" == "00f067aa0ba902b7"
    model_call = next(s for s in spans if s.name == "chat fake:scripted")
    assert (model_call.attributes or {})["gen_ai.provider.name"] == "fake"
    assert model_call.parent is not None and model_call.parent.span_id == root.context.span_id
    search = next(s for s in spans if s.name == "docsage.search")
    assert f"{search.context.trace_id:032x}" != trace_id, "no traceparent: a trace of its own"


def _events(response: httpx.Response) -> list[dict[str, Any]]:
    lines = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]"
    return [json.loads(line) for line in lines[:-1]]


def test_chat_stream_sends_verified_text_then_citations_and_timings(url: str) -> None:
    body = {
        "model": "docsage:default",
        "stream": True,
        "messages": [{"role": "user", "content": QUESTION}],
    }
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=30) as response:
        assert response.status_code == 200
        events = _events(response)
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events)
    last = events[-1]
    assert "[1]" in text and "Sources:" in text
    assert last["choices"][0]["finish_reason"] == "stop" and last["citations"]
    assert last["docsage"]["verification"]["supported"] >= 1
    assert last["docsage"]["timings"]["first_token_ms"] > 0
    assert last["usage"]["prompt_tokens"] > 0


def test_chat_stream_of_an_unknown_collection_is_a_404_before_streaming(url: str) -> None:
    body = {
        "model": "docsage:nope",
        "stream": True,
        "messages": [{"role": "user", "content": QUESTION}],
    }
    response = httpx.post(url + "/v1/chat/completions", json=body, timeout=30)
    assert response.status_code == 404
