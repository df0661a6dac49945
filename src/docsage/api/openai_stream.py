"""The streaming path of ``/v1/chat/completions``.

The answer starts in a worker thread before any byte is sent, and the response only begins
once the first verified text arrives (or the answer is done). So everything that fails
early (auth, rate limits, budgets, an unknown collection, a model that refuses the
request) is an ordinary HTTP error with its status and headers (429 with Retry-After), and
only a failure after the first byte becomes an error event. Such an event carries the
error's kind and class, is logged with its traceback, and is followed by ``[DONE]``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from docsage.errors import DocsageError, RateLimitError, UsageError
from docsage.models.chat import OnToken
from docsage.service.outcome import AskOutcome

log = logging.getLogger(__name__)
# Streamed answers get their own threads, as many as anyio gives the other routes: the
# loop's default executor has only cores + 4, too few for streams that wait on a model.
STREAM_THREADS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="docsage-stream")
DONE = "data: [DONE]\n\n"


def event(payload: dict[str, object]) -> str:
    return f"data: {json.dumps(payload)}\n\n"


def error_kind(exc: BaseException) -> str:
    """The kind the HTTP error mapping would give ``exc`` (see ``docsage.api.app``)."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, RateLimitError):
        return "rate_limited"
    if isinstance(exc, UsageError):
        return "bad_request"
    return "unavailable" if isinstance(exc, DocsageError) else "internal_error"


def error_event(exc: BaseException) -> str:
    message = str(exc) or type(exc).__name__
    return event(
        {"error": {"type": error_kind(exc), "code": type(exc).__name__, "message": message}}
    )


@dataclass
class AnswerFeed:
    """An answer running in a thread, read as the pieces of text it releases.

    ``next()`` returns the next piece, None once the answer is done, or raises the
    answer's error; past ``deadline`` (``time.monotonic()``) it raises TimeoutError."""

    deadline: float
    future: asyncio.Future[AskOutcome] | None = None
    _pieces: collections.deque[str] = field(default_factory=collections.deque)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def start(cls, work: Callable[[OnToken], AskOutcome], timeout_s: float) -> AnswerFeed:
        loop = asyncio.get_running_loop()
        feed = cls(deadline=time.monotonic() + timeout_s)

        def on_token(text: str) -> None:
            loop.call_soon_threadsafe(feed._put, text)

        # Token callbacks are queued on the loop before the future's result, so no piece
        # is ever read after the answer reports done.
        feed.future = loop.run_in_executor(STREAM_THREADS, work, on_token)
        return feed

    def _put(self, text: str) -> None:
        self._pieces.append(text)
        self._arrived.set()

    async def next(self) -> str | None:
        assert self.future is not None
        while not self._pieces:
            if self.future.done():
                self.future.result()
                return None
            self._arrived.clear()
            waiter: asyncio.Future[Any] = asyncio.ensure_future(self._arrived.wait())
            pending: set[asyncio.Future[Any]] = {self.future, waiter}
            try:
                await asyncio.wait(
                    pending,
                    timeout=max(self.deadline - time.monotonic(), 0),
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                waiter.cancel()
            if not self._pieces and not self.future.done() and time.monotonic() >= self.deadline:
                raise TimeoutError("the answer took longer than DOCSAGE_REQUEST_TIMEOUT_S")
        return self._pieces.popleft()

    def outcome(self) -> AskOutcome:
        assert self.future is not None and self.future.done()
        return self.future.result()


async def first_piece(feed: AnswerFeed) -> str | None:
    """Wait for the first text (or the end) before the response starts: an error here
    propagates to the route and becomes a normal HTTP error."""
    return await feed.next()


async def guarded(events: AsyncIterator[str]) -> AsyncIterator[str]:
    """``events``, with a failure after the first byte sent as an error event and logged."""
    try:
        async for item in events:
            yield item
    except Exception as exc:  # headers are gone: the error travels as the last event
        log.error("chat stream failed after the response started", exc_info=exc)
        yield error_event(exc)
        yield DONE
