"""Ingest jobs in the index file (table ``jobs`` of migrations ``0003_service`` and
``0005_job_cancel``): the ``JobStore`` port's default adapter. Saves and cancel requests go
through a ``WriteQueue``: the ingest a job runs holds the write lock while it parses."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docsage.ports.jobs import Job
from docsage.store.sqlite_db import SQLiteDatabase
from docsage.store.sqlite_writes import Write, WriteQueue

_COLUMNS = "id, key_id, collection, path, state, progress, result, error, created_at, updated_at"
_UPSERT = (
    f"INSERT INTO jobs ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO"
    " UPDATE SET state = excluded.state, progress = excluded.progress,"
    " result = excluded.result, error = excluded.error, updated_at = excluded.updated_at"
)  # never touches cancel_requested, which another worker may have set


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


class SQLiteJobStore(SQLiteDatabase):
    label = "the jobs table"

    def __init__(self, path: str | Path, *, timeout_s: float = 5.0) -> None:
        super().__init__(path, timeout_s=timeout_s)
        self._writer = WriteQueue(self)

    def save(self, job: Job) -> None:
        self._writer.put(Write(_UPSERT, _params(job)))

    def get(self, job_id: str) -> Job | None:
        rows = self._read(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", (job_id,))
        return _row_to_job(rows[0]) if rows else None

    def request_cancel(self, job_id: str) -> None:
        sql = "UPDATE jobs SET cancel_requested = ? WHERE id = ?"
        self._writer.put(Write(sql, (time.time(), job_id)))

    def cancel_requested(self, job_id: str) -> bool:
        sql = "SELECT 1 FROM jobs WHERE id = ? AND cancel_requested IS NOT NULL"
        return bool(self._read(sql, (job_id,)))

    def flush(self) -> None:
        self._writer.join()

    def close(self) -> None:
        self._writer.close()
        super().close()
