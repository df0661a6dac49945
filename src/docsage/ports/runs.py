"""The eval-run port: runs kept for ``docsage eval list`` / ``compare``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Record = dict[str, Any]
"""One case of a stored eval run: the case, what docsage did, its per-case metric values."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredRun:
    id: str
    created_at: float
    collection: str
    dataset: str
    k: int
    mode: str
    index_version: int
    n_cases: int
    n_errors: int
    summary: dict[str, Any]


class RunStore(Protocol):
    """Eval runs (SQLite: ``store/sqlite_runs``; contract: ``docsage.testing.RunStoreContract``)."""

    def save(self, run: StoredRun, records: Sequence[Record]) -> None: ...

    def runs(self, collection: str | None = None, limit: int = 50) -> list[StoredRun]:
        """Most recent first."""
        ...

    def get(self, ref: str) -> StoredRun:
        """A run by id, unique id prefix, or ``latest``; NotFoundError / UsageError if none
        or ambiguous."""
        ...

    def records(self, ref: str) -> list[Record]:
        """The run's records in the order they were saved (``ref`` as for ``get``)."""
        ...

    def close(self) -> None: ...
