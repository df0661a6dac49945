"""The job port: what the service keeps of ingest jobs, so any worker can answer for them.
Running jobs is the service's (``service/jobs.py: JobRunner``); this only persists them
(contract: ``docsage.testing.JobStoreContract``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

JobState = Literal["queued", "running", "done", "failed", "cancelled"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Job:
    id: str
    key_id: str | None
    collection: str
    path: str
    state: JobState = "queued"
    progress: dict[str, list[int]] = field(default_factory=dict)
    """stage -> [done, total]."""
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0


class JobStore(Protocol):
    """Writes may be asynchronous (an ingest holds the index's write lock while it parses):
    what was saved is visible to every reader once ``flush`` returns."""

    def save(self, job: Job) -> None:
        """Insert or replace the job's state; never clears a cancel request."""
        ...

    def get(self, job_id: str) -> Job | None: ...

    def request_cancel(self, job_id: str) -> None:
        """Ask the job to stop: the worker running it polls ``cancel_requested``."""
        ...

    def cancel_requested(self, job_id: str) -> bool: ...

    def flush(self) -> None:
        """Wait until every save and cancel request is committed."""
        ...

    def close(self) -> None: ...
