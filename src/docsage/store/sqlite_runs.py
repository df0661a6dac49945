"""Eval runs in the same SQLite file as the index (tables of migration ``0002_eval_runs``):
the ``RunStore`` port's default adapter."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

from docsage.errors import NotFoundError, UsageError
from docsage.ports import Record, StoredRun
from docsage.store.sqlite_db import SQLiteDatabase

_RUN_COLUMNS = (
    "id, created_at, collection, dataset, k, mode, index_version, n_cases, n_errors, summary"
)


def _row_to_run(row: Sequence[Any]) -> StoredRun:
    return StoredRun(
        id=str(row[0]),
        created_at=float(row[1]),
        collection=str(row[2]),
        dataset=str(row[3]),
        k=int(row[4]),
        mode=str(row[5]),
        index_version=int(row[6]),
        n_cases=int(row[7]),
        n_errors=int(row[8]),
        summary=cast(dict[str, Any], json.loads(row[9])),
    )


class SQLiteRunStore(SQLiteDatabase):
    """Eval runs in the same SQLite file as the index (``Settings.index_path``)."""

    label = "the eval runs"

    def save(self, run: StoredRun, records: Sequence[Record]) -> None:
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO eval_runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.id,
                    run.created_at,
                    run.collection,
                    run.dataset,
                    run.k,
                    run.mode,
                    run.index_version,
                    run.n_cases,
                    run.n_errors,
                    json.dumps(run.summary),
                ),
            )
            conn.executemany(
                "INSERT INTO eval_results (run_id, ordinal, case_id, record) VALUES (?, ?, ?, ?)",
                [(run.id, i, r["id"], json.dumps(r)) for i, r in enumerate(records)],
            )

    def runs(self, collection: str | None = None, limit: int = 50) -> list[StoredRun]:
        """Most recent first."""
        where, params = ("WHERE collection = ?", [collection]) if collection else ("", [])
        rows = self._read(
            f"SELECT {_RUN_COLUMNS} FROM eval_runs {where} ORDER BY created_at DESC LIMIT ?",
            [*params, limit],
        )
        return [_row_to_run(r) for r in rows]

    def resolve(self, ref: str) -> str:
        """A run id from an id, a unique prefix of one, or ``latest``."""
        if ref == "latest":
            rows = self._read("SELECT id FROM eval_runs ORDER BY created_at DESC LIMIT 1")
        else:
            escaped = ref.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            rows = self._read(
                "SELECT id FROM eval_runs WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (escaped + "%",)
            )
        if len(rows) == 1:
            return str(rows[0][0])
        if rows:
            raise UsageError(f"run {ref!r} is ambiguous; give more of its id (docsage eval list)")
        raise NotFoundError(f"no eval run {ref!r}; list runs with: docsage eval list")

    def get(self, ref: str) -> StoredRun:
        run_id = self.resolve(ref)
        rows = self._read(f"SELECT {_RUN_COLUMNS} FROM eval_runs WHERE id = ?", (run_id,))
        return _row_to_run(rows[0])

    def records(self, ref: str) -> list[Record]:
        rows = self._read(
            "SELECT record FROM eval_results WHERE run_id = ? ORDER BY ordinal",
            (self.resolve(ref),),
        )
        return [cast(Record, json.loads(r[0])) for r in rows]
