"""Eval runs on disk and in the docsage database, so they can be listed and compared later.

A run is written twice: as files in its output folder (``results.jsonl``, ``summary.json``,
``summary.md``) for people and CI artefacts, and as rows in the index database (tables of
migration ``0002_eval_runs``) so ``docsage eval list`` / ``compare`` work without the files.
Each stored per-case record carries its metric values, so a comparison never re-scores.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, cast

from docsage.errors import NotFoundError, UsageError
from docsage.evals.dataset import EvalCase
from docsage.evals.runner import CaseResult, EvalRun
from docsage.evals.summary import Summary
from docsage.store.sqlite_db import SQLiteDatabase

Record = dict[str, Any]


def new_run_id(now: float | None = None) -> str:
    """``YYYYmmdd-HHMMSS-xxxx``: sorts by time, and unique across parallel CI jobs."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    return f"{stamp}-{secrets.token_hex(2)}"


def result_record(case: EvalCase, result: CaseResult, metrics: dict[str, float]) -> Record:
    """One line of ``results.jsonl``: the case, what docsage did, and its per-case scores."""
    body = asdict(result)
    body["retrieved"] = list(result.retrieved)
    body["citations"] = list(result.citations)
    for optional in ("tokens", "cost", "error", "judge_groundedness"):
        if body[optional] is None:
            del body[optional]  # absent, not null: no model was used, nothing failed
    return {
        "id": case.id,
        "question": case.question,
        "answerable": case.answerable,
        "gold_sources": list(case.gold_sources),
        "tags": list(case.tags),
        **{k: v for k, v in body.items() if k != "id"},
        "metrics": metrics,
    }


def run_records(run: EvalRun, per_case: dict[str, dict[str, float]]) -> list[Record]:
    return [
        result_record(case, result, per_case[case.id])
        for case, result in zip(run.cases, run.results, strict=True)
    ]


def write_run_dir(out: Path, summary: Summary, records: Sequence[Record], markdown: str) -> None:
    """``results.jsonl``, ``summary.json`` and ``summary.md`` in ``out`` (created)."""
    out.mkdir(parents=True, exist_ok=True)
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    (out / "results.jsonl").write_text(lines, encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (out / "summary.md").write_text(markdown, encoding="utf-8")


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
    summary: Summary


def per_case_metrics(records: Sequence[Record]) -> dict[str, dict[str, float]]:
    """case id -> metric -> value, from stored records."""
    return {str(r["id"]): {str(k): float(v) for k, v in r["metrics"].items()} for r in records}


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
        summary=cast(Summary, json.loads(row[9])),
    )


class SQLiteRunStore(SQLiteDatabase):
    """Eval runs in the same SQLite file as the index (``Settings.index_path``)."""

    label = "the eval runs"

    def save(
        self, run_id: str, run: EvalRun, dataset: str, summary: Summary, records: Sequence[Record]
    ) -> None:
        errors = sum(1 for r in run.results if r.error is not None)
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO eval_runs ({_RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    run.started_at,
                    run.collection,
                    dataset,
                    run.k,
                    run.mode,
                    run.index_version,
                    len(run.cases),
                    errors,
                    json.dumps(summary),
                ),
            )
            conn.executemany(
                "INSERT INTO eval_results (run_id, ordinal, case_id, record) VALUES (?, ?, ?, ?)",
                [(run_id, i, r["id"], json.dumps(r)) for i, r in enumerate(records)],
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


def load_records(ref: str, store: SQLiteRunStore) -> tuple[str, int, list[Record]]:
    """``(label, k, records)`` of a run given as a stored run id or an output folder."""
    folder = Path(ref)
    if (folder / "results.jsonl").is_file() and (folder / "summary.json").is_file():
        text = (folder / "results.jsonl").read_text(encoding="utf-8")
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
        return str(folder), int(summary["run"]["k"]), records
    run = store.get(ref)
    return run.id, run.k, store.records(run.id)
