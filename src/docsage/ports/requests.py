"""The request-log ports: one record per API request, feedback on answers, and each key's
usage, which rate limits and budgets read (contract: ``docsage.testing.RequestLogContract``).

``RequestLog`` is what serving requests needs; ``RequestHistory`` what ``docsage report``
reads; ``RequestStore`` both, for adapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestRecord:
    id: str
    created_at: float
    key_id: str | None
    route: str
    status: int
    collection: str | None = None
    question: str | None = None
    answer: str | None = None
    citations: str | None = None
    abstained: bool | None = None
    confidence: float | None = None
    retrieve_ms: float = 0.0
    rerank_ms: float = 0.0
    generate_ms: float = 0.0
    total_ms: float = 0.0
    model: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cache_hit: bool = False
    degraded: str | None = None
    index_version: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class KeyUsage:
    """Requests, tokens and cost of one key's successful requests (status < 400) since a time;
    ``oldest`` is when the first of them was made. (Not ``docsage.types.Usage``, which is
    what one model call cost.)"""

    requests: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    oldest: float | None = None

    def __add__(self, other: KeyUsage) -> KeyUsage:
        oldest = [t for t in (self.oldest, other.oldest) if t is not None]
        return KeyUsage(
            requests=self.requests + other.requests,
            tokens=self.tokens + other.tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            oldest=min(oldest) if oldest else None,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Feedback:
    request_id: str
    key_id: str | None
    created_at: float
    rating: int
    comment: str | None = None


class RequestLog(Protocol):
    """Requests never wait on it: ``submit`` and ``add_feedback`` may write in the background,
    and ``flush`` waits until they are committed. A record counts in ``usage`` and ``owner``
    from the moment it is submitted (or reserved), before it is committed."""

    def submit(self, record: RequestRecord) -> None:
        """Log a finished request (replacing a reservation with the same id)."""
        ...

    def reserve(self, request_id: str, key_id: str, route: str, now: float) -> None:
        """Count a request from its admission on, before its record is submitted."""
        ...

    def release(self, request_id: str) -> None:
        """Forget a reservation whose request was refused."""
        ...

    def usage(self, key_id: str, since: float) -> KeyUsage:
        """The key's successful requests since ``since``, committed or not (one committed a
        moment ago may count twice: the error is on the safe side)."""
        ...

    def owner(self, request_id: str) -> str | None:
        """The key that made a request; NotFoundError when there is no such request."""
        ...

    def add_feedback(self, request_id: str, key_id: str | None, rating: int, comment: str) -> None:
        """NotFoundError when there is no such request."""
        ...

    def flush(self) -> None:
        """Wait until everything submitted is committed and visible to every reader."""
        ...

    def close(self) -> None: ...


class RequestHistory(Protocol):
    """The committed log, for reports."""

    def records(self, since: float) -> list[RequestRecord]:
        """Records made at or after ``since``, oldest first."""
        ...

    def feedback(self, since: float) -> list[Feedback]:
        """Feedback given at or after ``since``, oldest first."""
        ...


class RequestStore(RequestLog, RequestHistory, Protocol):
    """Both halves: what a request-log adapter implements."""
