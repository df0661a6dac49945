"""A model-backed ``docsage serve`` whose model server misbehaves: it stalls past the request
timeout, answers 4xx or 5xx, or streams slowly while the service is told to stop. The model
server is a stand-in on loopback (a fake OpenAI-compatible server: a real model cannot be
made to fail on demand); ``docsage serve`` is the real one, in its own process.
"""

from __future__ import annotations

import json
import re
import select
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from loopback import JsonHandler, LoopbackServer, serving
from test_api_support import ALPHA, cli, start, stop

# Starts real docsage serve processes.
pytestmark = pytest.mark.slow

SUPPORTED = "Set max_retries to control how often a failed job is attempted again [1].\n\n"
TAIL = "Backoff doubles the wait between attempts, starting at one second [1]. " * 4


class StandInModel(LoopbackServer):
    """Answers ``status`` (200: ``reply``, streamed word by word ``word_delay_s`` apart when
    asked to stream) after ``stall_s``; notes when a client hangs up during a stall."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.status = 200
        self.stall_s = 0.0
        self.word_delay_s = 0.0
        self.reply = SUPPORTED
        self.calls = 0
        self.hung_up_after: float | None = None


class _Handler(JsonHandler):
    server: StandInModel

    def do_POST(self) -> None:
        body = self.read_json()
        self.server.calls += 1
        if not self._stall():
            return
        if self.server.status != 200:
            self.send_json(self.server.status, {"error": {"message": "stand-in says no"}})
        elif body.get("stream"):
            self._stream()
        else:
            message = {"role": "assistant", "content": self.server.reply}
            usage = {"prompt_tokens": 50, "completion_tokens": 20}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            self.send_json(200, {"choices": [choice], "usage": usage})

    def _stall(self) -> bool:
        """Wait ``stall_s``; False (and the time noted) if the client hung up first."""
        started = time.monotonic()
        while time.monotonic() - started < self.server.stall_s:
            readable, _, _ = select.select([self.connection], [], [], 0.05)
            if readable and self.connection.recv(1, socket.MSG_PEEK) == b"":
                self.server.hung_up_after = time.monotonic() - started
                return False
        return True

    def _stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        try:
            for word in self.server.reply.split(" "):
                delta = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
                self.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
                self.wfile.flush()
                time.sleep(self.server.word_delay_s)
            self.wfile.write(b"data: [DONE]\n\n")
        except (BrokenPipeError, ConnectionResetError):
            return


@dataclass
class Served:
    url: str
    home: Path
    model: StandInModel
    process: Any


def _serve(base: Path, model: StandInModel, env: dict[str, str]) -> Iterator[Served]:
    (base / "docs").mkdir()
    (base / "docs" / "guide.md").write_text(ALPHA)
    home = base / "home"
    prices = base / "prices.json"
    prices.write_text(json.dumps({"openai:stand-in": {"input": 0.0, "output": 0.0}}))
    settings = {
        "DOCSAGE_AUTH": "false",
        "DOCSAGE_MODEL": "openai:stand-in",
        "DOCSAGE_MODEL_URL": model.url,
        "DOCSAGE_MODEL_RETRIES": "0",
        "DOCSAGE_PRICE_TABLE": str(prices),
        **env,
    }
    cli(home, "ingest", str(base / "docs"), "-c", "default", "-q", env=settings)
    url, process = start(home, settings)
    yield Served(url=url, home=home, model=model, process=process)
    if process.poll() is None:
        assert stop(process) == 0


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """No fallback: model failures reach the client. Requests time out after 3 s."""
    with serving(StandInModel()) as model:
        env = {"DOCSAGE_FALLBACK_MODEL": "", "DOCSAGE_REQUEST_TIMEOUT_S": "3"}
        yield from _serve(tmp_path_factory.mktemp("strict"), model, env)


@pytest.fixture(scope="module")
def forgiving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """Falls back to the extractive answerer; drains for 1.5 s, then 2 s of grace."""
    with serving(StandInModel()) as model:
        base = tmp_path_factory.mktemp("forgiving")
        (base / "tmp").mkdir()
        env = {
            "DOCSAGE_FALLBACK_MODEL": "extractive",
            "DOCSAGE_SHUTDOWN_DELAY_S": "1.5",
            "DOCSAGE_SHUTDOWN_GRACE_S": "2",
            "TMPDIR": str(base / "tmp"),  # where serve puts the workers' metric files
        }
        yield from _serve(base, model, env)


def _ask(served: Served, question: str) -> httpx.Response:
    return httpx.post(served.url + "/v1/ask", json={"question": question}, timeout=30)


def _logged_status(home: Path, answer_id: str | None = None) -> int:
    """The status the request log recorded (for ``answer_id``, or the latest ask)."""
    time.sleep(0.5)  # the log writes in the background
    with sqlite3.connect(home / "index.sqlite") as conn:
        if answer_id:
            row = conn.execute("SELECT status FROM requests WHERE id = ?", (answer_id,))
        else:
            row = conn.execute(
                "SELECT status FROM requests WHERE route = 'ask' ORDER BY created_at DESC LIMIT 1"
            )
        return int(row.fetchone()[0])


def test_a_timed_out_request_stops_its_model_call_is_logged_504_and_not_cached(
    strict: Served,
) -> None:
    question = "How often is a failed job retried with max_retries?"
    strict.model.stall_s, strict.model.status = 8.0, 200
    started = time.monotonic()
    response = _ask(strict, question)
    assert response.status_code == 504, response.text
    assert response.json()["error"]["type"] == "timeout"
    assert time.monotonic() - started < 5
    for _ in range(40):  # the worker's own deadline ends its model call at the same moment
        if strict.model.hung_up_after is not None:
            break
        time.sleep(0.05)
    hung_up = strict.model.hung_up_after
    assert hung_up is not None and hung_up < 4, "the model call must be cancelled, not left running"
    assert _logged_status(strict.home) == 504
    strict.model.stall_s = 0.0
    calls = strict.model.calls
    again = _ask(strict, question)
    assert again.status_code == 200 and again.json()["cache_hit"] is False
    assert strict.model.calls == calls + 1, "the timed-out answer was not cached"


@pytest.mark.parametrize(
    ("upstream", "status", "kind", "retry_after"),
    [
        (400, 502, "upstream_rejected", False),  # our request is wrong: retrying won't help
        (503, 503, "upstream_unavailable", True),
        (429, 503, "upstream_unavailable", True),
        (504, 504, "upstream_timeout", False),
    ],
)
def test_upstream_failures_are_labelled_by_what_happened(
    strict: Served, upstream: int, status: int, kind: str, retry_after: bool
) -> None:
    strict.model.stall_s, strict.model.status = 0.0, upstream
    try:
        response = _ask(strict, "How does backoff double the wait between attempts?")
    finally:
        strict.model.status = 200
    assert response.status_code == status, response.text
    assert response.json()["error"]["type"] == kind
    assert ("retry-after" in response.headers) is retry_after
    assert "x-request-id" in response.headers
    assert _logged_status(strict.home) == status


def test_model_errors_are_counted_by_reason(strict: Served) -> None:
    metrics = httpx.get(strict.url + "/metrics").text
    for reason in ("ModelRejectedError", "ModelUnavailableError", "ModelTimeoutError"):
        assert f'docsage_model_errors_total{{reason="{reason}"}}' in metrics
    assert "docsage_in_flight_requests" in metrics


def test_a_client_request_id_is_echoed_and_a_bad_one_replaced(strict: Served) -> None:
    given = httpx.get(strict.url + "/healthz", headers={"X-Request-ID": "trace-42.a"})
    assert given.headers["x-request-id"] == "trace-42.a"
    bad = httpx.get(strict.url + "/healthz", headers={"X-Request-ID": "no spaces <b>"})
    assert bad.headers["x-request-id"].startswith("req_")


def test_a_fallback_answer_is_not_cached(forgiving: Served) -> None:
    question = "How often is a failed job attempted again?"
    forgiving.model.status = 503
    first = _ask(forgiving, question).json()
    assert first["model"] == "extractive" and not first["abstained"], first
    forgiving.model.status = 200
    second = _ask(forgiving, question).json()
    assert second["cache_hit"] is False and second["model"] == "openai:stand-in", second
    later = [_ask(forgiving, question).json() for _ in range(4)]  # two workers, two caches
    hits = [a for a in later if a["cache_hit"]]
    assert hits, "the model's own answer is cached"
    assert max(a["timings"]["total_ms"] for a in hits) < second["timings"]["total_ms"]
    metrics = httpx.get(forgiving.url + "/metrics").text
    assert 'docsage_fallbacks_total{reason="ModelUnavailableError"} 1.0' in metrics
    assert 'docsage_model_call_seconds_count{model="openai:stand-in"}' in metrics
    workers = set(re.findall(r'process_resident_memory_bytes\{pid="(\d+)"\}', metrics))
    assert len(workers) == 2, "every worker's process metrics, not only the one that answered"


def test_sigterm_drains_then_ends_a_running_stream_with_an_error_event(
    forgiving: Served,
) -> None:
    forgiving.model.status, forgiving.model.word_delay_s = 200, 0.4
    forgiving.model.reply = SUPPORTED + TAIL  # about 14 s of words
    body = {
        "model": "docsage:default",
        "stream": True,
        "messages": [{"role": "user", "content": "How is a failed job retried, with backoff?"}],
    }
    events: list[str] = []
    streaming = threading.Event()

    def read() -> None:
        with httpx.stream(
            "POST", forgiving.url + "/v1/chat/completions", json=body, timeout=30
        ) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line.startswith("data: "):
                    events.append(line[6:])
                    streaming.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert streaming.wait(20), "the stream started"
    forgiving.process.send_signal(signal.SIGTERM)  # the supervisor passes it on within 0.5 s
    time.sleep(0.7)
    ready = httpx.get(forgiving.url + "/readyz", timeout=5)  # still listening while draining
    assert ready.status_code == 503 and ready.json()["error"]["type"] == "shutting_down"
    reader.join(timeout=30)
    assert forgiving.process.wait(timeout=30) == 0
    assert events[-1] == "[DONE]", events[-3:]
    error = json.loads(events[-2])["error"]
    assert error["type"] == "shutting_down" and "shut down" in error["message"]
    text = "".join(
        json.loads(e)["choices"][0]["delta"].get("content", "")
        for e in events[:-2]
        if "choices" in json.loads(e) and json.loads(e)["choices"]
    )
    assert "max_retries" in text, "what was verified before the cut reached the client"
    assert list((forgiving.home.parent / "tmp").glob("docsage-metrics-*")) == [], "removed"
