"""Fixtures for the API tests: a real ``docsage serve`` (two workers) on 127.0.0.1 over a
small index of two tenants' collections, built with the real ONNX embedder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

DOCSAGE = Path(sys.executable).parent / "docsage"

ALPHA = """\
# Tidepool guide

Install with pip install tidepool.

## Retries

Set max_retries to control how often a failed job is attempted again. The default is 3.

## Backoff

Backoff doubles the wait between attempts, starting at one second.
"""

BETA = """\
# Beta internal handbook

## Deploy keys

Rotate the deploy key every ninety days with the rotate-keys command.
"""


@contextmanager
def app_in_thread(app: Any) -> Iterator[str]:
    """The ASGI ``app`` served by uvicorn on a free loopback port in a thread of this
    process (for tests that read the app's in-memory spans); yields its base URL."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "uvicorn did not start within 10 s"
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(home: Path, *args: str, env: dict[str, str] | None = None) -> str:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DOCSAGE_")}
    full |= {"DOCSAGE_HOME": str(home), "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    done = subprocess.run(
        [str(DOCSAGE), *args], env=full, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def new_key(home: Path, name: str, *args: str) -> str:
    return cli(home, "keys", "create", "--name", name, *args).strip().splitlines()[-1]


@dataclass
class Server:
    url: str
    home: Path
    root: Path
    keys: dict[str, str]
    process: subprocess.Popen[bytes]

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.keys[key]}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def post(self, key: str | None, path: str, body: Any) -> httpx.Response:
        with self.client(key) as c:
            return c.post(path, json=body)


def write_docs(root: Path) -> None:
    (root / "alpha").mkdir(parents=True)
    (root / "beta").mkdir()
    (root / "alpha" / "guide.md").write_text(ALPHA)
    (root / "beta" / "handbook.md").write_text(BETA)


def start(home: Path, env: dict[str, str], workers: int = 2) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    full = {k: v for k, v in os.environ.items() if not k.startswith("DOCSAGE_")}
    full |= {"DOCSAGE_HOME": str(home), **env}
    full.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen(
        [
            str(DOCSAGE),
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=full,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=5).status_code == 200:
                return url, process
        except httpx.TransportError:
            pass
        assert process.poll() is None, "docsage serve exited"
        time.sleep(0.2)
    raise AssertionError("docsage serve did not become ready")


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=60)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("api")
    home, root = base / "home", base / "root"
    write_docs(root)
    cli(home, "ingest", str(root / "alpha"), "-c", "alpha", "-q")
    cli(home, "ingest", str(root / "beta"), "-c", "beta", "-q")
    keys = {
        "alpha": new_key(home, "alpha", "--scopes", "ask", "--collections", "alpha"),
        "beta": new_key(home, "beta", "--scopes", "ask", "--collections", "beta"),
        "alpha_ingest": new_key(home, "ai", "--scopes", "ask,ingest", "--collections", "alpha"),
        "admin": new_key(home, "admin", "--scopes", "admin", "--collections", "*"),
        "limited": new_key(home, "lim", "--collections", "alpha", "--rpm", "3"),
        "budget": new_key(home, "bud", "--collections", "alpha", "--requests-day", "2"),
        "revoked": new_key(home, "gone", "--collections", "alpha"),
        "fuzz": new_key(home, "fuzz", "--scopes", "ask", "--collections", "alpha"),
    }
    url, process = start(home, {"DOCSAGE_INGEST_ROOT": str(root)})
    yield Server(url=url, home=home, root=root, keys=keys, process=process)
    assert stop(process) == 0
