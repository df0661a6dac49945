"""Ingest jobs: run in a background thread of the worker that accepted them, with their own
``Docsage`` (own SQLite connection), so queries in the same worker keep reading the old index
until the ingest commits. State is kept in memory and written through a ``WriteQueue`` (the
ingest holds the write lock while it parses), so other workers see it with a short delay.
A job killed with its worker is left "running" in the table; the index itself stays intact.
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
from docsage.errors import DocsageError, NotFoundError
from docsage.service.db import SideStore, Write, WriteQueue

JobState = Literal["queued", "running", "done", "failed"]
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
_UPSERT = f"INSERT OR REPLACE INTO jobs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


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


class JobRunner(SideStore):
    def __init__(self, path: str | Path, make_docsage: Callable[[], Docsage]) -> None:
        super().__init__(path, timeout_s=5.0)
        self._make = make_docsage
        self._writer = WriteQueue(self)
        self._jobs: dict[str, Job] = {}
        self._jobs_lock = threading.Lock()
        self._last_saved: dict[str, float] = {}

    def _save(self, job: Job, *, force: bool = True) -> None:
        with self._jobs_lock:
            self._jobs[job.id] = job
        last = self._last_saved.get(job.id, 0.0)
        if force or job.updated_at - last >= _PROGRESS_EVERY_S:
            self._last_saved[job.id] = job.updated_at
            self._writer.put(Write(_UPSERT, _params(job)))

    def start(self, key_id: str | None, collection: str, root: Path) -> Job:
        now = time.time()
        job = Job(
            id="job_" + secrets.token_hex(8),
            key_id=key_id,
            collection=collection,
            path=str(root),
            created_at=now,
            updated_at=now,
        )
        self._save(job)
        thread = threading.Thread(target=self._run, args=(job,), name=job.id, daemon=True)
        thread.start()
        return job

    def _run(self, job: Job) -> None:
        job = replace(job, state="running", updated_at=time.time())
        self._save(job)
        current = [job]

        def progress(stage: str, done: int, total: int) -> None:
            current[0] = replace(
                current[0],
                progress={**current[0].progress, stage: [done, total]},
                updated_at=time.time(),
            )
            self._save(current[0], force=done == total)

        try:
            with self._make() as ds:
                report = ds.ingest(job.path, collection=job.collection, progress=progress)
            summary = asdict(report)
            summary["skipped"] = len(report.skipped)
            done = replace(current[0], state="done", result=summary)
        except DocsageError as exc:
            done = replace(current[0], state="failed", error=str(exc))
        except Exception as exc:  # reported on the job, never lost
            done = replace(current[0], state="failed", error=f"{type(exc).__name__}: {exc}")
        self._save(replace(done, updated_at=time.time()))

    def get(self, job_id: str) -> Job:
        with self._jobs_lock:
            if job_id in self._jobs:
                return self._jobs[job_id]
        rows = self._read(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        if not rows:
            raise NotFoundError(f"no job {job_id!r}")
        return _row_to_job(rows[0])

    def flush(self) -> None:
        self._writer.join()

    def close(self) -> None:
        self._writer.close()
        super().close()
