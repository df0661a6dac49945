"""``create_app(settings)``: the FastAPI app, its error mapping and its health routes, and
MCP at ``/mcp`` (``docsage.mcp.http``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from docsage.api import chat, routes
from docsage.api.deps import Caller
from docsage.api.middleware import BodyLimit, Metrics, RequestContext
from docsage.api.models import ErrorResponse
from docsage.api.openai_params import OpenAIRequestError, openai_error
from docsage.api.shutdown import install_drain
from docsage.errors import (
    AuthError,
    DocsageError,
    ModelUnavailableError,
    RateLimitError,
    ShuttingDownError,
)
from docsage.mcp.http import mcp_route
from docsage.service import metrics
from docsage.service.core import Service
from docsage.service.status import UPSTREAM_RETRY_AFTER_S, status_of
from docsage.service.tracing import SpanExporter
from docsage.settings import Settings

API_VERSION = "1"


def error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"type": kind, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


async def _docsage_error(request: Request, exc: Exception) -> Response:
    status, kind = status_of(exc)
    headers = {}
    if isinstance(exc, RateLimitError):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, ModelUnavailableError):
        headers["Retry-After"] = str(UPSTREAM_RETRY_AFTER_S)
    if isinstance(exc, AuthError):
        headers["WWW-Authenticate"] = "Bearer"
    return error(status, kind, str(exc), headers)


# OpenAI answers an invalid body with 400 in its own shape; its SDKs expect that.
_OPENAI_ROUTES = ("/v1/chat/completions", "/v1/embeddings")


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    reasons = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10]]
    if request.url.path in _OPENAI_ROUTES:
        first = exc.errors()[0]["loc"] if exc.errors() else ()
        param = ".".join(str(p) for p in first[1:]) or "body"
        return await openai_error(
            request, OpenAIRequestError("; ".join(reasons), param, "invalid_value")
        )
    return error(422, "invalid_request", "; ".join(reasons))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error(exc.status_code, "http_error", str(exc.detail), dict(exc.headers or {}))


async def _timeout(request: Request, exc: Exception) -> Response:
    message = str(exc) or "the request took longer than DOCSAGE_REQUEST_TIMEOUT_S"
    return error(504, "timeout", message)


def create_app(settings: Settings, *, span_exporter: SpanExporter | None = None) -> FastAPI:
    service = Service(settings, span_exporter=span_exporter)
    mcp, run_mcp = mcp_route(service, _docsage_error)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        install_drain(service, asyncio.get_running_loop())
        async with run_mcp():
            yield
        service.close()

    app = FastAPI(
        title="docsage",
        version=API_VERSION,
        lifespan=lifespan,
        summary="Cited answers from a project's own docs.",
    )
    app.state.service = service
    app.include_router(routes.router)
    app.include_router(chat.router)
    app.router.routes.append(mcp)  # MCP over Streamable HTTP: not part of the OpenAPI spec
    _health(app, service)
    app.add_exception_handler(DocsageError, _docsage_error)
    app.add_exception_handler(OpenAIRequestError, openai_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(TimeoutError, _timeout)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Metrics)
    app.add_middleware(RequestContext)  # outermost: even a 413 carries X-Request-ID
    return app


def _health(app: FastAPI, service: Service) -> None:
    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], responses={503: {"model": ErrorResponse}})
    def readyz() -> dict[str, Any]:
        """The index can be read and the embedder is loaded; 503 once shutdown began."""
        if service.draining:
            raise ShuttingDownError("shutting down: send new requests to another instance")
        return {"status": "ready", **service.ready()}

    @app.get(
        "/metrics",
        tags=["ops"],
        response_class=Response,
        responses={401: {"model": ErrorResponse}, 403: {"model": ErrorResponse}},
    )
    def prometheus(who: Caller) -> Response:
        """Prometheus metrics (all workers). Needs an admin key when auth is on: the
        per-collection gauges name every tenant's collections."""
        service.require(who, "admin")
        for info in service.ds.collections():
            metrics.DOCUMENTS.labels(info.name).set(info.documents)
            metrics.CHUNKS.labels(info.name).set(info.chunks)
        body, content_type = metrics.exposition()
        return Response(body, media_type=content_type)
