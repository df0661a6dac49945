"""Shared pieces of the routes: the service, the caller, and running work off the loop."""

from __future__ import annotations

import re
from typing import Annotated, NoReturn, TypeVar

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from docsage.api.models import NOT_BLANK, ErrorResponse
from docsage.service.core import Principal, Service

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
    header = f"Bearer {credentials.credentials}" if credentials else None
    return service(request).authenticate_client(
        header, request.client.host if request.client else None
    )


ServiceDep = Annotated[Service, Depends(service)]
Caller = Annotated[Principal, Depends(principal)]


def check_question(svc: Service, text: str) -> None:
    limit = svc.settings.max_question_chars
    if len(text) > limit:
        # The same 422 as the schema's own bounds: a limit is a validation rule, just configurable.
        _invalid(f"{len(text)} characters; the limit is {limit} (DOCSAGE_MAX_QUESTION_CHARS)")
    if not re.search(NOT_BLANK, text):
        _invalid("question is blank")


def _invalid(reason: str) -> NoReturn:
    raise RequestValidationError([{"loc": ("body", "question"), "msg": reason}])
