"""Retries of model-server calls, one policy for every HTTP adapter (tenacity).

Only ``TransientModelError`` is retried (a timeout, an unreachable server, 429, 5xx); the
wait is exponential with jitter (0.2 s, 0.4 s, 0.8 s... plus up to 0.2 s at random, so
workers that failed together do not retry together), or what the server asked for in
``Retry-After`` (capped at 30 s). No retry starts that the request's deadline
(``docsage.deadline``) could not wait for: the last error is raised instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential_jitter

from docsage import deadline
from docsage.errors import TransientModelError

T = TypeVar("T")
MAX_RETRY_AFTER_S = 30.0
_backoff = wait_exponential_jitter(multiplier=0.2, max=5.0, jitter=0.2)


def retry_after(response: httpx.Response) -> float | None:
    """The seconds a ``Retry-After`` header asks for (the delay form), if any."""
    raw = response.headers.get("retry-after", "").strip()
    try:
        return max(float(raw), 0.0) if raw else None
    except ValueError:  # the HTTP-date form: fall back to our own backoff
        return None


def _wait(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    asked = getattr(exc, "retry_after", None)
    return min(float(asked), MAX_RETRY_AFTER_S) if asked is not None else _backoff(state)


class _OutOfTime(stop_base):
    """Stop when the request's deadline would pass during the next wait."""

    def __call__(self, retry_state: RetryCallState) -> bool:
        left = deadline.remaining()
        return left is not None and left <= _wait(retry_state)


def call_with_retries(fn: Callable[[], T], retries: int) -> T:
    """``fn()``, retried ``retries`` times on transient failures; the last error is raised."""
    retrying = Retrying(
        retry=retry_if_exception_type(TransientModelError),
        stop=stop_after_attempt(retries + 1) | _OutOfTime(),
        wait=_wait,
        reraise=True,
    )
    return retrying(fn)
