"""Generative answers through the HTTP API (uvicorn in a thread, auth off on loopback),
with the shipped ``fake:echo`` chat model chosen by name in the settings: usage, routes,
verification and trace in /v1/ask; verified streaming with time to first token in
/v1/chat/completions."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from docsage.api.app import create_app
from docsage.app import Docsage
from docsage.settings import Settings
from test_api_support import ALPHA, free_port

QUESTION = "How often is a failed job retried with max_retries?"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("genapi")
    (tmp / "docs").mkdir()
    (tmp / "docs" / "guide.md").write_text(ALPHA)
    settings = Settings(
        home=tmp / "home", auth=False, embedder="fake:hash", model="fake:echo", answer_cache_size=0
    )
    with Docsage(settings) as ds:
        ds.ingest(tmp / "docs", collection="default")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=30)


def test_ask_reports_model_usage_verification_and_trace(url: str) -> None:
    body = httpx.post(url + "/v1/ask", json={"question": QUESTION}, timeout=30).json()
    assert body["model"] == "fake:echo" and not body["abstained"]
    assert body["usage"]["model"] == "fake:echo" and body["usage"]["input_tokens"] > 0
    assert [r["model"] for r in body["routes"]] == ["fake:echo"]
    check = body["verification"]
    assert check["method"] == "lexical-support" and check["checked"] == check["supported"] >= 1
    assert body["trace"][0]["kind"] == "model"
    assert body["citations"][0]["ref"].startswith("guide.md#")


def test_agent_mode_over_the_api(url: str) -> None:
    ask = {"question": QUESTION, "options": {"agent": True}}
    body = httpx.post(url + "/v1/ask", json=ask, timeout=30).json()
    assert body["model"] == "agent:fake:echo" and body["trace"][0]["kind"] == "model"


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
