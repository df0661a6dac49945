"""``docsage serve``: the HTTP service on uvicorn, one or more worker processes."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from docsage.app import prepare_index
from docsage.errors import UsageError, missing_extra
from docsage.service.keys import is_loopback
from docsage.settings import Settings


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
    home: Annotated[
        Path | None, typer.Option(help="Index folder (default: $DOCSAGE_HOME).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Run the HTTP API (OpenAPI at /docs and /openapi.json)."""
    try:
        import uvicorn
    except ImportError as exc:
        raise missing_extra("uvicorn", 'pip install "docsage[serve]"') from exc
    settings = Settings.from_env(home=home)
    if not settings.auth and not is_loopback(host):
        raise UsageError(
            f"DOCSAGE_AUTH=false is only allowed on a loopback address, not {host}; "
            "create API keys with: docsage keys create"
        )
    os.environ["DOCSAGE_HOME"] = str(settings.home)  # the workers read settings from env
    prepare_index(settings)  # migrate once, before the workers start
    metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        metrics_dir = tempfile.mkdtemp(prefix="docsage-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    try:
        _run(uvicorn, settings, host, port, workers, log_level)
    finally:  # the worker metric files are ours to remove (a given PROMETHEUS_MULTIPROC_DIR is not)
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _run(
    uvicorn: Any, settings: Settings, host: str, port: int, workers: int, log_level: str
) -> None:
    config = uvicorn.Config(
        "docsage.api.server:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        timeout_graceful_shutdown=settings.shutdown_grace_s,
        log_level=log_level,
        access_log=False,
    )
    if workers == 1:
        uvicorn.Server(config).run()
        return
    from uvicorn.supervisors import Multiprocess

    sock = config.bind_socket()
    # Accepted sockets inherit TCP_NODELAY from the listening one. Without it, uvicorn's
    # multi-worker mode answers every keep-alive request ~40 ms late (Nagle + delayed ACK).
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[sock]).run()
