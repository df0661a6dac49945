"""The HTTP status and error kind of every exception, in one table: the API's error
responses, stream error events and the request log all read it, so a request that timed out
is a 504 in the response, in the log and in the metrics alike.

Upstream (model server) failures are labelled by what happened, so a client knows whether
to retry: a timeout is 504, an unreachable or overloaded server 503 (retry later), a request
the model server refused 502 (retrying will not help).
"""

from __future__ import annotations

from docsage.errors import (
    AuthError,
    ClientClosedError,
    ConflictError,
    DeadlineExceeded,
    DocsageError,
    ForbiddenError,
    ModelError,
    ModelRejectedError,
    ModelTimeoutError,
    ModelUnavailableError,
    NotFoundError,
    RateLimitError,
    ShuttingDownError,
    UsageError,
)

STATUS: tuple[tuple[type[BaseException], int, str], ...] = (
    (AuthError, 401, "unauthorized"),
    (ForbiddenError, 403, "forbidden"),
    (NotFoundError, 404, "not_found"),
    (ConflictError, 409, "conflict"),
    (RateLimitError, 429, "rate_limited"),
    (UsageError, 400, "bad_request"),
    (DeadlineExceeded, 504, "timeout"),
    (ShuttingDownError, 503, "shutting_down"),
    (ClientClosedError, 499, "client_closed"),  # nginx's code: nobody receives it
    (ModelTimeoutError, 504, "upstream_timeout"),
    (ModelUnavailableError, 503, "upstream_unavailable"),
    (ModelRejectedError, 502, "upstream_rejected"),
    (ModelError, 502, "upstream_error"),
    (TimeoutError, 504, "timeout"),
    (DocsageError, 503, "unavailable"),
)

# Seconds a client should wait before retrying a 503 from an unavailable model server.
UPSTREAM_RETRY_AFTER_S = 5


def status_of(exc: BaseException) -> tuple[int, str]:
    """(HTTP status, error kind) for ``exc``; (500, "internal_error") for a bug."""
    return next(((s, k) for cls, s, k in STATUS if isinstance(exc, cls)), (500, "internal_error"))
