"""Streams of a model-backed ``docsage serve`` whose chat model is a scripted stand-in (a
fake OpenAI-compatible server on loopback, for what a real model will not do on demand:
answer unsupported text, or drop the connection mid-answer)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from loopback import JsonHandler, LoopbackServer, serving, write_sse_words
from test_api_support import ALPHA, cli, start, stop

SUPPORTED = "Set max_retries to control how often a failed job is attempted again [1].\n\n"


class FakeStreamingModel(LoopbackServer):
    """Streams ``reply`` word by word; with ``cut`` it drops the connection after it."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.reply = SUPPORTED
        self.cut = False


class _Handler(JsonHandler):
    server: FakeStreamingModel

    def do_POST(self) -> None:
        self.read_json()
        write_sse_words(self, self.server.reply)
        if self.server.cut:
            self.wfile.write(b"data: {broken")
            self.close_connection = True
            return
        end = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())


@pytest.fixture(scope="module")
def model() -> Iterator[FakeStreamingModel]:
    with serving(FakeStreamingModel()) as server:
        yield server


@pytest.fixture(scope="module")
def served(
    model: FakeStreamingModel, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:

    base = tmp_path_factory.mktemp("oaimodel")
    (base / "docs").mkdir()
    (base / "docs" / "guide.md").write_text(ALPHA)
    home = base / "home"
    prices = base / "prices.json"
    prices.write_text(json.dumps({"openai:stand-in": {"input": 0.0, "output": 0.0}}))
    cli(home, "ingest", str(base / "docs"), "-c", "default", "-q")
    env = {
        "DOCSAGE_AUTH": "false",
        "DOCSAGE_MODEL": "openai:stand-in",
        "DOCSAGE_MODEL_URL": model.url,
        "DOCSAGE_MODEL_RETRIES": "0",
        "DOCSAGE_FALLBACK_MODEL": "",
        "DOCSAGE_VERIFY_ACTION": "mark",
        "DOCSAGE_ANSWER_CACHE_SIZE": "0",
        "DOCSAGE_PRICE_TABLE": str(prices),
    }
    url, process = start(home, env)
    yield url, home
    assert stop(process) == 0


def _stream(url: str, question: str) -> list[Any]:
    body = {"model": "docsage:default", "stream": True}
    body["messages"] = [{"role": "user", "content": question}]  # type: ignore[assignment]
    with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=30) as response:
        assert response.status_code == 200
        lines = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "[DONE]", "a stream always ends with [DONE]"
    return [json.loads(line) for line in lines[:-1]]


def _text(chunks: list[Any]) -> str:
    return "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c.get("choices"))


def test_with_mark_what_streams_is_exactly_the_final_answer(
    model: FakeStreamingModel, served: tuple[str, Path]
) -> None:
    model.reply, model.cut = "The moon is made of green cheese [1].\n\n", False
    url, _ = served
    question = "How often is a failed job retried?"
    chunks = _stream(url, question)
    assert chunks[-1]["docsage"]["abstained"]
    assert "[unverified]" not in _text(chunks)
    assert _text(chunks).startswith("Not found in the docs")


def test_a_failure_after_the_first_byte_is_a_typed_error_event(
    model: FakeStreamingModel, served: tuple[str, Path]
) -> None:
    model.reply, model.cut = SUPPORTED, True
    url, _ = served
    chunks = _stream(url, "How often is a failed job retried?")
    assert "max_retries" in _text(chunks)
    error = chunks[-1]["error"]
    assert error["type"] == "upstream_error" and error["code"] != "ExceptionGroup"
    assert error["code"].endswith("Error") and error["message"]
