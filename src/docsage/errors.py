"""One exception tree. Messages say what went wrong and what to do about it.

DocsageError
├── UsageError          the caller asked for something impossible: fix the call
│   ├── ConfigError         a bad setting or a missing optional extra
│   ├── NotFoundError       an unknown collection, run or source
│   ├── AuthError           no or an unknown API key (HTTP 401)
│   ├── ForbiddenError      the key lacks the scope for this (HTTP 403)
│   ├── ConflictError       clashes with the current state (another ingest running) (409)
│   └── RateLimitError      over a rate limit or budget: retry after ``retry_after`` s (429)
└── RunError            the run failed though the call was right: retry or inspect
    ├── ParseError          one source could not be parsed (skipped, never fatal)
    ├── StoreError          the index could not be read or written
    ├── ModelError          an embedding or chat model failed (HTTP 502)
    │   ├── ModelRejectedError      the model server refused the request (4xx): not retryable
    │   └── TransientModelError     worth retrying elsewhere (routing falls back on it)
    │       ├── ModelTimeoutError       the server did not answer in time (HTTP 504)
    │       └── ModelUnavailableError   unreachable, overloaded (429) or failing (5xx) (503)
    ├── DeadlineExceeded    the request ran past DOCSAGE_REQUEST_TIMEOUT_S (HTTP 504)
    ├── ShuttingDownError   the server stopped before the work finished (HTTP 503)
    ├── ClientClosedError   the client went away before the answer finished (logged as 499)
    └── JobCancelledError   a job was cancelled by its owner (its ingest rolls back)
"""

from __future__ import annotations


class DocsageError(Exception):
    """Base of every error docsage raises on purpose."""


class UsageError(DocsageError):
    """The call was wrong; the message says how to make it right."""


class ConfigError(UsageError):
    """A setting is invalid or an optional dependency is missing."""


class NotFoundError(UsageError):
    """A named collection, run or source does not exist."""


class AuthError(UsageError):
    """No API key, or one that is unknown or revoked."""


class ForbiddenError(UsageError):
    """The API key is valid but lacks the scope for the operation."""


class ConflictError(UsageError):
    """The call clashes with the state of the index: another ingest of the collection is
    running, or it would replace the collection's source folder without being asked to."""


class RateLimitError(UsageError):
    """Over a rate limit (or a budget set to reject); ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RunError(DocsageError):
    """The call was right but the work failed."""


class ParseError(RunError):
    """A source could not be parsed; ingest skips it and reports the reason."""


class StoreError(RunError):
    """The index could not be read or written."""


class ModelError(RunError):
    """An embedding or chat model failed."""


class ModelRejectedError(ModelError):
    """The model server answered 4xx (other than 408/429): the request or the credentials are
    wrong, so retrying (or routing elsewhere) would fail the same way."""


class TransientModelError(ModelError):
    """A model call failed in a way worth retrying elsewhere: a timeout, a dropped
    connection, 429 or a 5xx. Routing falls back to the next model on this error only.
    ``retry_after`` is the wait the server asked for (``Retry-After``), if it did."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ModelTimeoutError(TransientModelError):
    """The model server accepted the connection but did not answer within its timeout."""


class ModelUnavailableError(TransientModelError):
    """The model server could not be reached, or answered 429 or 5xx."""


class DeadlineExceeded(RunError, TimeoutError):
    """The request's time budget (DOCSAGE_REQUEST_TIMEOUT_S) ran out; the work was stopped."""


class ShuttingDownError(RunError):
    """The server is shutting down: it finished what it could in its grace period."""


class ClientClosedError(RunError):
    """The client closed the connection; the work for it was stopped."""


class JobCancelledError(RunError):
    """A job's owner cancelled it; raised inside its ingest to stop it (the text transaction
    rolls back; embedding batches already committed stay and the next ingest resumes)."""


def missing_extra(package: str, install: str) -> ConfigError:
    """The error for an optional dependency that is not installed."""
    return ConfigError(f"{package} is not installed; install it with: {install}")
