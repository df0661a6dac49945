"""``docsage mcp``: the MCP server over stdio, for an agent on this machine. The caller is
the local user (every collection, as on the CLI), or the API key given, with its scopes,
collections, limits and request log, exactly as over HTTP."""

from __future__ import annotations

import anyio

from docsage.mcp.server import build
from docsage.service.core import Principal, Service
from docsage.settings import Settings


def serve_stdio(settings: Settings, key: str | None = None) -> None:
    """Serve until the client closes stdin. Nothing else may write to stdout."""
    if key:  # a key is checked even where DOCSAGE_AUTH=false: the caller asked for it
        settings = settings.model_copy(update={"auth": True})
    service = Service(settings)
    try:
        who = service.authenticate(f"Bearer {key}") if key else Principal(key=None)
        anyio.run(build(service, who).run_stdio_async)
    finally:
        service.close()
