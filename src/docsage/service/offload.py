"""Blocking service work run off the event loop, bounded by DOCSAGE_REQUEST_TIMEOUT_S: how
the REST routes and the MCP tools run theirs."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio

from docsage import deadline
from docsage.service.core import Service

T = TypeVar("T")


async def run(svc: Service, fn: Callable[[], T]) -> T:
    """Run blocking work in a thread, bounded by DOCSAGE_REQUEST_TIMEOUT_S (TimeoutError).

    The thread runs under the same deadline (``docsage.deadline``), so it stops its model
    call and logs a 504 too, rather than finishing in the background and caching a 200."""
    timeout = svc.settings.request_timeout_s
    with anyio.fail_after(timeout):
        return await anyio.to_thread.run_sync(_bounded(fn, timeout), abandon_on_cancel=True)


def _bounded(fn: Callable[[], T], timeout_s: float) -> Callable[[], T]:
    def within_deadline() -> T:
        with deadline.within(timeout_s):
            return fn()

    return within_deadline
