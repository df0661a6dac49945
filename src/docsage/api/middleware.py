"""Pure ASGI middleware: a bound on request bodies, per-route metrics, and the request's
context (``X-Request-ID``, the caller's ``traceparent``)."""

from __future__ import annotations

import json
import re
import secrets
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from docsage.service import metrics, tracing

# What a caller's X-Request-ID may be; anything else is replaced by one of ours, so a log
# line or a span never carries arbitrary client bytes.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


async def _error(send: Send, status: int, kind: str, message: str) -> None:
    body = json.dumps({"error": {"type": kind, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """413 for a body over ``max_bytes``, by Content-Length or while it streams in.

    A body without Content-Length (chunked) is read here, up to the bound, before the app
    sees it: an exception raised from inside the app's own read would reach the framework's
    body parser, which answers 400 for anything that goes wrong there.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request body over {self.max_bytes} bytes (DOCSAGE_MAX_BODY_BYTES)"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > self.max_bytes:
                await _error(send, 413, "payload_too_large", message)
                return
            await self.app(scope, receive, send)
            return
        first = await self._read_bounded(receive)
        if first is None:
            await _error(send, 413, "payload_too_large", message)
            return
        await self.app(scope, _replay(first, receive), send)

    async def _read_bounded(self, receive: Receive) -> Message | None:
        """The whole body as one message, or None once it passes the bound."""
        chunks: list[bytes] = []
        seen = 0
        while True:
            msg = await receive()
            if msg["type"] != "http.request":
                return msg  # a disconnect: let the app see it
            chunks.append(msg.get("body", b""))
            seen += len(chunks[-1])
            if seen > self.max_bytes:
                return None
            if not msg.get("more_body", False):
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}


def _replay(first: Message, receive: Receive) -> Receive:
    """``first`` once, then the server's own messages (so disconnects still arrive)."""
    pending = [first]

    async def replayed() -> Message:
        return pending.pop() if pending else await receive()

    return replayed


class Metrics:
    """Requests and latency by route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def recording(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                status[0] = int(msg["status"])
            await send(msg)

        try:
            await self.app(scope, receive, recording)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            metrics.REQUESTS.labels(name, str(status[0])).inc()
            metrics.LATENCY.labels(name, str(status[0])).observe(time.perf_counter() - started)


class RequestContext:
    """Every response carries ``X-Request-ID`` (the caller's, if it sent a well-formed one);
    the work of the request continues the caller's W3C trace; in-flight requests are
    counted."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.get("x-request-id", "")
        request_id = given if _REQUEST_ID.fullmatch(given) else "req_" + secrets.token_hex(8)

        async def tagged(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                msg["headers"] = [*msg.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(msg)

        metrics.IN_FLIGHT.inc()
        try:
            with tracing.traced_from(headers, request_id):
                await self.app(scope, receive, tagged)
        finally:
            metrics.IN_FLIGHT.dec()
