"""Ingest jobs: each collection ingests only from its own folder under the ingest root, and
one at a time (the lock is taken when the job is accepted, so a second is refused with 409).
Jobs run in a background thread of the worker that accepted them, with their own
``Docsage`` (own SQLite connection), so queries in the same worker keep reading the old index
until the ingest commits. State is kept in memory and written through a ``WriteQueue`` (the
ingest holds the write lock while it parses), so other workers see it with a short delay.
A job killed with its worker is left "running" in the table; the index itself stays intact,
and the collection's lock names a dead process, so the next ingest takes it over.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from docsage.app import Docsage
from docsage.errors import DocsageError, ForbiddenError, NotFoundError, UsageError
from docsage.service.db import SideStore, Write, WriteQueue
from docsage.store.sqlite_claims import Claim, SourceClaims
from docsage.types import IngestReport

JobState = Literal["queued", "running", "done", "failed", "cancelled"]
_PROGRESS_EVERY_S = 0.5


@dataclass(frozen=True, kw_only=True, slots=True)
class Job:
    id: str
    key_id: str | None
    collection: str
    path: str
    state: JobState = "queued"
    progress: dict[str, list[int]] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: float = 0.0
    updated_at: float = 0.0


_COLUMNS = "id, key_id, collection, path, state, progress, result, error, created_at, updated_at"
_UPSERT = (
    f"INSERT INTO jobs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO"
    " UPDATE SET state = excluded.state, progress = excluded.progress,"
    " result = excluded.result, error = excluded.error, updated_at = excluded.updated_at"
)  # never touches cancel_requested, which another worker may have set


class JobCancelled(Exception):
    """Raised inside a job's progress callback to stop its ingest (the text transaction
    rolls back; embedding batches already committed stay and the next ingest resumes)."""


def _row_to_job(row: Sequence[Any]) -> Job:
    return Job(
        id=str(row[0]),
        key_id=row[1],
        collection=str(row[2]),
        path=str(row[3]),
        state=row[4],
        progress=json.loads(row[5]),
        result=None if row[6] is None else json.loads(row[6]),
        error=row[7],
        created_at=float(row[8]),
        updated_at=float(row[9]),
    )


def _params(job: Job) -> tuple[object, ...]:
    result = None if job.result is None else json.dumps(job.result)
    return (
        job.id,
        job.key_id,
        job.collection,
        job.path,
        job.state,
        json.dumps(job.progress),
        result,
        job.error,
        job.created_at,
        job.updated_at,
    )


def collection_folder(ingest_root: str, collection: str, path: str) -> Path:
    """The folder ``path`` (relative to the ingest root) if it lies in ``collection``'s own
    source root, ``<ingest root>/<collection>/``: a key that may write one collection must
    never pull another collection's sources into it.

    Every refusal is checked before the folder's existence, so a key cannot probe for
    folders outside its collection's root.
    """
    if not ingest_root:
        raise ForbiddenError("ingest over HTTP is off; set DOCSAGE_INGEST_ROOT to enable it")
    if "\x00" in path:
        raise UsageError("path contains a NUL character; send a folder name relative to the root")
    root = Path(ingest_root).resolve()
    try:
        own = (root / collection).resolve()
        target = (root / path).resolve()
        if not target.is_relative_to(root):
            raise ForbiddenError(f"{path!r} is outside the allowed ingest root")
        if not target.is_relative_to(own) or not own.is_relative_to(root):
            raise ForbiddenError(
                f"{path!r} is not in the source folder of collection {collection!r}: each "
                f"collection ingests only from its own folder, {collection}/ under the ingest "
                "root"
            )
        if not target.is_dir():
            raise NotFoundError(f"{path!r} is not a folder under the ingest root")
    except OSError as exc:
        raise UsageError(f"{path!r} is not a usable folder name: {exc.strerror}") from exc
    return target


def job_result(report: IngestReport) -> dict[str, Any]:
    """The report as a job's result: every count, each skipped file with its reason and each
    note (a guessed charset), as the CLI prints them."""
    summary = asdict(report)
    summary["skipped"] = [{"source": s.source, "reason": s.reason} for s in report.skipped]
    summary["notes"] = [{"source": n.source, "note": n.note} for n in report.notes]
    return summary


class JobRunner(SideStore):
    def __init__(self, path: str | Path, make_docsage: Callable[[], Docsage]) -> None:
        super().__init__(path, timeout_s=5.0)
        self._make = make_docsage
        self._writer = WriteQueue(self)
        self._jobs: dict[str, Job] = {}
        self._jobs_lock = threading.Lock()
        self._last_saved: dict[str, float] = {}
        self._cancelled: set[str] = set()  # asked here; other workers ask through the table
        self._last_polled: dict[str, float] = {}

    def _save(self, job: Job, *, force: bool = True) -> None:
        with self._jobs_lock:
            self._jobs[job.id] = job
        last = self._last_saved.get(job.id, 0.0)
        if force or job.updated_at - last >= _PROGRESS_EVERY_S:
            self._last_saved[job.id] = job.updated_at
            self._writer.put(Write(_UPSERT, _params(job)))

    def start(self, key_id: str | None, claim: Claim, root: Path) -> Job:
        """Run an ingest of ``root`` under ``claim`` (which the job releases when it ends)."""
        now = time.time()
        job = Job(
            id="job_" + secrets.token_hex(8),
            key_id=key_id,
            collection=claim.collection,
            path=str(root),
            created_at=now,
            updated_at=now,
        )
        self._save(job)
        thread = threading.Thread(target=self._run, args=(job, claim), name=job.id, daemon=True)
        thread.start()
        return job

    def _run(self, job: Job, claim: Claim) -> None:
        job = replace(job, state="running", updated_at=time.time())
        self._save(job)
        current = [job]

        def progress(stage: str, done: int, total: int) -> None:
            self._stop_if_cancelled(job.id)
            current[0] = replace(
                current[0],
                progress={**current[0].progress, stage: [done, total]},
                updated_at=time.time(),
            )
            self._save(current[0], force=done == total)

        try:
            with self._make() as ds:
                report = ds.ingest(
                    job.path, collection=job.collection, claim=claim, progress=progress
                )
            done = replace(current[0], state="done", result=job_result(report))
        except JobCancelled:
            reason = "cancelled; the index keeps what was committed before (text: the old one)"
            done = replace(current[0], state="cancelled", error=reason)
        except DocsageError as exc:
            done = replace(current[0], state="failed", error=str(exc))
        except Exception as exc:  # reported on the job, never lost
            done = replace(current[0], state="failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            # The ingest released the lock itself unless it never started (the Docsage could
            # not be built, say); releasing again is a no-op, and without it the collection
            # would stay locked for as long as this worker lives.
            with SourceClaims(self.path) as claims:
                claims.release(claim, completed=False)
        self._save(replace(done, updated_at=time.time()))

    def get(self, job_id: str, key_id: str | None, *, admin: bool = False) -> Job:
        """The job if ``key_id`` started it (any job for ``admin``); a job of another key
        raises exactly the error a missing one does, so ids cannot be probed."""
        job = self._find(job_id)
        if job is None or not (admin or key_id is None or job.key_id == key_id):
            raise NotFoundError(f"no job {job_id!r} for this key")
        return job

    def cancel(self, job_id: str, key_id: str | None, *, admin: bool = False) -> Job:
        """Ask a queued or running job to stop; it ends "cancelled" at its next progress
        step. A job that already ended is returned as it is."""
        job = self.get(job_id, key_id, admin=admin)
        if job.state in ("queued", "running"):
            self._cancelled.add(job_id)
            sql = "UPDATE jobs SET cancel_requested = ? WHERE id = ?"
            self._writer.put(Write(sql, (time.time(), job_id)))
        return job

    def _stop_if_cancelled(self, job_id: str) -> None:
        now = time.monotonic()
        if job_id not in self._cancelled and now - self._last_polled.get(job_id, 0.0) >= 0.5:
            self._last_polled[job_id] = now
            sql = "SELECT 1 FROM jobs WHERE id = ? AND cancel_requested IS NOT NULL"
            if self._read(sql, (job_id,)):
                self._cancelled.add(job_id)
        if job_id in self._cancelled:
            raise JobCancelled(job_id)

    def _find(self, job_id: str) -> Job | None:
        with self._jobs_lock:
            if job_id in self._jobs:
                return self._jobs[job_id]
        rows = self._read(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        return _row_to_job(rows[0]) if rows else None

    def flush(self) -> None:
        self._writer.join()

    def close(self) -> None:
        self._writer.close()
        super().close()
