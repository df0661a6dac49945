"""MCP over Streamable HTTP at ``/mcp`` on the FastAPI app of ``docsage serve``.

A gate in front of the SDK's transport authenticates the bearer key with
``Service.authenticate`` (the REST API's own check: 401 with the same JSON error) and puts
the caller's ``Principal`` in the request scope, where the tools find it. Host and Origin
are checked by the SDK's transport security: loopback hosts and DOCSAGE_MCP_ALLOWED_HOSTS.
The transport is stateless with JSON responses, so any worker can answer any request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

import anyio
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from docsage.errors import DocsageError
from docsage.mcp.server import PRINCIPAL, build
from docsage.service.core import Principal, Service
from docsage.service.keys import parse_list
from docsage.settings import Settings

PATH = "/mcp"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """Loopback hosts on any port, and the configured ones; Origins of the same hosts."""
    named = parse_list(settings.mcp_allowed_hosts)
    hosts = [*LOOPBACK_HOSTS, *(f"{h}:*" for h in LOOPBACK_HOSTS), *named]
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


Refuse = Callable[[Request, Exception], Awaitable[Response]]
"""The REST API's error response for a docsage error (``api.app``'s handler)."""


class Gate:
    """Authenticates each MCP request as the REST API does before the transport sees it,
    and refuses with the REST API's own error response."""

    def __init__(self, app: ASGIApp, service: Service, refuse: Refuse) -> None:
        self.app = app
        self.service = service
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            who = await anyio.to_thread.run_sync(self._authenticate, scope)
        except DocsageError as exc:
            response = await self.refuse(Request(scope), exc)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})[PRINCIPAL] = who
        await self.app(scope, receive, send)

    def _authenticate(self, scope: Scope) -> Principal:
        client = scope.get("client")
        authorization = Headers(scope=scope).get("authorization")
        return self.service.authenticate_client(authorization, client[0] if client else None)


def mcp_route(
    service: Service, refuse: Refuse
) -> tuple[Route, Callable[[], AbstractAsyncContextManager[None]]]:
    """The ``/mcp`` route, and the context manager to run for the app's lifetime (the
    SDK's session manager, which the route needs)."""
    server = build(service)
    server.streamable_http_app(
        streamable_http_path=PATH,
        json_response=True,
        stateless_http=True,
        transport_security=transport_security(service.settings),
        max_request_body_size=service.settings.max_body_bytes,
    )
    manager = server.session_manager
    return Route(PATH, endpoint=Gate(StreamableHTTPASGIApp(manager), service, refuse)), manager.run
