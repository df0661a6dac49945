"""MCP over Streamable HTTP at ``/mcp`` on the FastAPI app of ``docsage serve``.

A gate in front of the SDK's transport authenticates the bearer key with
``Service.authenticate`` (the REST API's own check: 401 with the same JSON error) and puts
the caller's ``Principal`` in the request scope, where the tools find it. Host and Origin
are checked by the SDK's transport security: loopback hosts and DOCSAGE_MCP_ALLOWED_HOSTS.
The transport is stateless with JSON responses, so any worker can answer any request."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import anyio
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from docsage.errors import AuthError, DocsageError, ForbiddenError
from docsage.mcp.server import PRINCIPAL, build
from docsage.service.core import Principal, Service
from docsage.service.keys import is_loopback, parse_list
from docsage.service.status import status_of
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


class Gate:
    """Authenticates each MCP request as the REST API does before the transport sees it."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            who = await anyio.to_thread.run_sync(self._authenticate, scope)
        except DocsageError as exc:
            await _refusal(exc)(scope, receive, send)
            return
        scope.setdefault("state", {})[PRINCIPAL] = who
        await self.app(scope, receive, send)

    def _authenticate(self, scope: Scope) -> Principal:
        client = scope.get("client")
        if not self.service.settings.auth and not is_loopback(client[0] if client else None):
            raise ForbiddenError("auth is off (DOCSAGE_AUTH=false): only loopback clients may call")
        return self.service.authenticate(Headers(scope=scope).get("authorization"))


def _refusal(exc: DocsageError) -> JSONResponse:
    status, kind = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthError) else None
    body = {"error": {"type": kind, "message": str(exc)}}
    return JSONResponse(body, status_code=status, headers=headers)


def mcp_route(service: Service) -> tuple[Route, Callable[[], AbstractAsyncContextManager[None]]]:
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
    return Route(PATH, endpoint=Gate(StreamableHTTPASGIApp(manager), service)), manager.run
