"""Shared pieces of the routes: the service, the caller, and running work off the loop."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, NoReturn, TypeVar

import anyio
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from docsage import deadline
from docsage.api.models import NOT_BLANK, ErrorResponse
from docsage.errors import ForbiddenError
from docsage.service.core import Principal, Service
from docsage.service.keys import is_loopback

T = TypeVar("T")
# The error statuses every /v1 route documents (each with the JSON error shape).
ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorResponse} for code in (400, 401, 403, 404, 413, 422, 429, 502, 503, 504)
}
bearer = HTTPBearer(auto_error=False, description="An API key from `docsage keys create`.")


def service(request: Request) -> Service:
    svc: Service = request.app.state.service
    return svc


def principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    svc = service(request)
    if not svc.settings.auth and not is_loopback(request.client.host if request.client else None):
        raise ForbiddenError("auth is off (DOCSAGE_AUTH=false): only loopback clients may call")
    header = f"Bearer {credentials.credentials}" if credentials else None
    return svc.authenticate(header)


ServiceDep = Annotated[Service, Depends(service)]
Caller = Annotated[Principal, Depends(principal)]


async def run(svc: Service, fn: Callable[[], T]) -> T:
    """Run blocking work in a thread, bounded by DOCSAGE_REQUEST_TIMEOUT_S (TimeoutError).

    The thread runs under the same deadline (``docsage.deadline``), so it stops its model
    call and logs a 504 too, rather than finishing in the background and caching a 200."""
    timeout = svc.settings.request_timeout_s
    with anyio.fail_after(timeout):
        return await anyio.to_thread.run_sync(bounded(fn, timeout), abandon_on_cancel=True)


def bounded(fn: Callable[[], T], timeout_s: float) -> Callable[[], T]:
    def within_deadline() -> T:
        with deadline.within(timeout_s):
            return fn()

    return within_deadline


def check_question(svc: Service, text: str) -> None:
    limit = svc.settings.max_question_chars
    if len(text) > limit:
        # The same 422 as the schema's own bounds: a limit is a validation rule, just configurable.
        _invalid(f"{len(text)} characters; the limit is {limit} (DOCSAGE_MAX_QUESTION_CHARS)")
    if not re.search(NOT_BLANK, text):
        _invalid("question is blank")


def _invalid(reason: str) -> NoReturn:
    raise RequestValidationError([{"loc": ("body", "question"), "msg": reason}])
