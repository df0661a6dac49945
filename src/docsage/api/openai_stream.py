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

from docsage.deadline import Budget, within
from docsage.errors import ClientClosedError, RunError, ShuttingDownError
from docsage.ports.chat import OnToken
from docsage.service.outcome import AskOutcome
from docsage.service.status import status_of

log = logging.getLogger(__name__)
# Streamed answers get their own threads, as many as anyio gives the other routes: the
# loop's default executor has only cores + 4, too few for streams that wait on a model.
STREAM_THREADS = ThreadPoolExecutor(max_workers=40, thread_name_prefix="docsage-stream")
DONE = "data: [DONE]\n\n"


def event(payload: dict[str, object]) -> str:
    return f"data: {json.dumps(payload)}\n\n"


def error_event(exc: BaseException) -> str:
    """The kind the HTTP error mapping gives ``exc`` (``docsage.service.status``)."""
    message = str(exc) or type(exc).__name__
    _, kind = status_of(exc)
    return event({"error": {"type": kind, "code": type(exc).__name__, "message": message}})


@dataclass
class AnswerFeed:
    """An answer running in a thread, read as the pieces of text it releases.

    ``next()`` returns the next piece, None once the answer is done, or raises the
    answer's error; past ``deadline`` (``time.monotonic()``) it raises TimeoutError."""

    deadline: float
    future: asyncio.Future[AskOutcome] | None = None
    budget: Budget | None = None
    """The worker's budget: cancelling it stops the answer (and its model call)."""
    stop_at: Callable[[], float | None] = lambda: None
    """When a draining server wants this stream to end (``time.monotonic()``), if it does."""
    _pieces: collections.deque[str] = field(default_factory=collections.deque)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def start(
        cls,
        work: Callable[[OnToken], AskOutcome],
        timeout_s: float,
        stop_at: Callable[[], float | None] = lambda: None,
    ) -> AnswerFeed:
        loop = asyncio.get_running_loop()
        feed = cls(deadline=time.monotonic() + timeout_s, stop_at=stop_at)

        def on_token(text: str) -> None:
            loop.call_soon_threadsafe(feed._put, text)

        # Token callbacks are queued on the loop before the future's result, so no piece
        # is ever read after the answer reports done.
        def bounded_work() -> AskOutcome:
            with within(timeout_s) as budget:
                feed.budget = budget
                return work(on_token)

        feed.future = loop.run_in_executor(STREAM_THREADS, bounded_work)
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
            try:  # short waits, so that a shutdown that starts meanwhile is seen in time
                left = self.deadline - time.monotonic()
                await asyncio.wait(
                    pending, timeout=min(max(left, 0), 0.25), return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                waiter.cancel()
            if self._pieces or self.future.done():
                continue
            end = self.stop_at()
            if end is not None and time.monotonic() >= end:
                raise ShuttingDownError("the server shut down before the answer finished")
            if time.monotonic() >= self.deadline:
                raise TimeoutError("the answer took longer than DOCSAGE_REQUEST_TIMEOUT_S")
        return self._pieces.popleft()

    def cancel(self, reason: RunError) -> None:
        if self.budget is not None:
            self.budget.cancel(reason)

    def outcome(self) -> AskOutcome:
        assert self.future is not None and self.future.done()
        return self.future.result()


async def first_piece(feed: AnswerFeed) -> str | None:
    """Wait for the first text (or the end) before the response starts: an error here
    propagates to the route and becomes a normal HTTP error."""
    return await feed.next()


async def guarded(events: AsyncIterator[str], feed: AnswerFeed) -> AsyncIterator[str]:
    """``events``, with a failure after the first byte sent as an error event and logged;
    the answer behind the stream is stopped whenever the stream ends early (a failure, a
    shutdown, a client that went away)."""
    try:
        async for item in events:
            yield item
    except ShuttingDownError as exc:
        log.warning("chat stream ended early: the server is shutting down")
        feed.cancel(exc)
        yield error_event(exc)
        yield DONE
    except Exception as exc:  # headers are gone: the error travels as the last event
        log.error("chat stream failed after the response started", exc_info=exc)
        feed.cancel(ClientClosedError("the stream failed"))
        yield error_event(exc)
        yield DONE
    except (asyncio.CancelledError, GeneratorExit):  # nobody is listening any more
        feed.cancel(ClientClosedError("the client closed the stream"))
        raise
