"""Scaffolding for stand-in HTTP servers on 127.0.0.1 used by adapter tests (real sockets,
scripted answers): the server base, a quiet JSON-speaking handler, and a serving context."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar


class LoopbackServer(ThreadingHTTPServer):
    """Listens on a free loopback port; ``url`` is its OpenAI-style ``/v1`` base."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class JsonHandler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        return None

    def read_json(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def send_json(self, status: int, payload: object) -> None:
        self.send_raw(status, json.dumps(payload).encode())

    def send_raw(self, status: int, raw: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


S = TypeVar("S", bound=LoopbackServer)


@contextmanager
def serving(server: S) -> Iterator[S]:
    """Serve in a daemon thread for the duration of the block, then shut down."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def write_sse_words(handler: BaseHTTPRequestHandler, reply: str) -> None:
    """Send the event-stream headers, then ``reply`` word by word as chat-completion deltas."""
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.end_headers()
    for word in reply.split(" "):
        delta = {"choices": [{"index": 0, "delta": {"content": word + " "}}]}
        handler.wfile.write(f"data: {json.dumps(delta)}\n\n".encode())
        handler.wfile.flush()
