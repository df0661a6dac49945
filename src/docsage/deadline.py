"""A time budget for the work of one request, visible to every layer it passes through.

The HTTP service sets it (``DOCSAGE_REQUEST_TIMEOUT_S``) around the thread that does the
work; model adapters shorten their HTTP timeouts to what is left and stop streaming once it
is spent, and the service checks it before it caches or logs a result. So a request that
times out stops its upstream call instead of finishing in the background, and nothing it
produced late is cached or logged as a success. A budget can also be cancelled (a stream
whose client went away, or that shutdown cut): the work then stops at its next check with
the error it was cancelled with. Outside a request there is no budget and every check passes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from docsage.errors import DeadlineExceeded, RunError


@dataclass
class Budget:
    end: float
    """``time.monotonic()`` when the budget runs out."""
    cancelled: RunError | None = None

    def cancel(self, reason: RunError) -> None:
        self.cancelled = reason

    def remaining(self) -> float:
        return 0.0 if self.cancelled else self.end - time.monotonic()


_budget: ContextVar[Budget | None] = ContextVar("docsage_budget", default=None)


@contextmanager
def within(seconds: float) -> Iterator[Budget]:
    """Run the block under a budget of ``seconds`` from now (never past an outer one)."""
    outer = _budget.get()
    end = time.monotonic() + seconds
    budget = Budget(end=end if outer is None else min(outer.end, end))
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


def remaining() -> float | None:
    """Seconds left, or None without a budget."""
    budget = _budget.get()
    return None if budget is None else budget.remaining()


def expired() -> bool:
    left = remaining()
    return left is not None and left <= 0


def check(doing: str) -> None:
    """Raise if the budget is spent (``DeadlineExceeded``; ``doing`` says where it ran
    out) or was cancelled (the error it was cancelled with)."""
    budget = _budget.get()
    if budget is None:
        return
    if budget.cancelled is not None:
        raise budget.cancelled
    if budget.remaining() <= 0:
        raise DeadlineExceeded(
            f"the request ran past DOCSAGE_REQUEST_TIMEOUT_S while {doing}; it was stopped"
        )


def clamp(timeout_s: float) -> float:
    """``timeout_s``, shortened to what is left of the budget (at least a millisecond, so
    an HTTP client times out at once instead of treating 0 as "no timeout")."""
    left = remaining()
    return timeout_s if left is None else max(min(timeout_s, left), 0.001)
