"""Ingest jobs: each collection ingests only from its own folder under the ingest root, and
one at a time (the lock is taken when the job is accepted, so a second is refused with 409).
Jobs run in a background thread of the worker that accepted them, with their own
``Docsage`` (own SQLite connection), so queries in the same worker keep reading the old index
until the ingest commits. State is kept in memory and saved to a ``JobStore`` (the SQLite
one writes in the background, as the ingest holds the write lock while it parses), so other
workers see it with a short delay. A job killed with its worker is left "running" in the
store; the index itself stays intact, and the collection's lock names a dead process, so the
next ingest takes it over.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from docsage.app import Docsage
from docsage.errors import (
    DocsageError,
    ForbiddenError,
    JobCancelledError,
    NotFoundError,
    UsageError,
)
from docsage.ports import Job, JobStore
from docsage.store.sqlite_claims import Claim
from docsage.types import IngestReport

_PROGRESS_EVERY_S = 0.5


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


class JobRunner:
    """Runs ingest jobs in threads of this worker and keeps their state in a ``JobStore``
    (in memory too, so this worker answers for its own jobs before the store has them).
    ``release`` gives a job's claim back when the job ends, however it ends."""

    def __init__(
        self,
        store: JobStore,
        make_docsage: Callable[[], Docsage],
        release: Callable[[Claim], None],
    ) -> None:
        self._store = store
        self._make = make_docsage
        self._release = release
        self._jobs: dict[str, Job] = {}
        self._jobs_lock = threading.Lock()
        self._last_saved: dict[str, float] = {}
        self._cancelled: set[str] = set()  # asked here; other workers ask through the store
        self._last_polled: dict[str, float] = {}

    def _save(self, job: Job, *, force: bool = True) -> None:
        with self._jobs_lock:
            self._jobs[job.id] = job
        last = self._last_saved.get(job.id, 0.0)
        if force or job.updated_at - last >= _PROGRESS_EVERY_S:
            self._last_saved[job.id] = job.updated_at
            self._store.save(job)

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
        except JobCancelledError:
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
            self._release(claim)
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
            self._store.request_cancel(job_id)
        return job

    def _stop_if_cancelled(self, job_id: str) -> None:
        now = time.monotonic()
        if job_id not in self._cancelled and now - self._last_polled.get(job_id, 0.0) >= 0.5:
            self._last_polled[job_id] = now
            if self._store.cancel_requested(job_id):
                self._cancelled.add(job_id)
        if job_id in self._cancelled:
            raise JobCancelledError(job_id)

    def _find(self, job_id: str) -> Job | None:
        with self._jobs_lock:
            if job_id in self._jobs:
                return self._jobs[job_id]
        return self._store.get(job_id)
