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
from dataclasses import asdict
from pathlib import Path

from docsage.evals.dataset import EvalCase
from docsage.evals.runner import CaseResult, EvalRun
from docsage.evals.summary import Summary
from docsage.ports import Record, RunStore, StoredRun

__all__ = ["Record", "RunStore", "StoredRun", "load_records", "stored_run", "write_run_dir"]


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


def per_case_metrics(records: Sequence[Record]) -> dict[str, dict[str, float]]:
    """case id -> metric -> value, from stored records."""
    return {str(r["id"]): {str(k): float(v) for k, v in r["metrics"].items()} for r in records}


def stored_run(run_id: str, run: EvalRun, dataset: str, summary: Summary) -> StoredRun:
    """What a ``RunStore`` keeps of a finished run."""
    return StoredRun(
        id=run_id,
        created_at=run.started_at,
        collection=run.collection,
        dataset=dataset,
        k=run.k,
        mode=run.mode,
        index_version=run.index_version,
        n_cases=len(run.cases),
        n_errors=sum(1 for r in run.results if r.error is not None),
        summary=dict(summary),
    )


def load_records(ref: str, store: RunStore) -> tuple[str, int, list[Record]]:
    """``(label, k, records)`` of a run given as a stored run id or an output folder."""
    folder = Path(ref)
    if (folder / "results.jsonl").is_file() and (folder / "summary.json").is_file():
        text = (folder / "results.jsonl").read_text(encoding="utf-8")
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
        return str(folder), int(summary["run"]["k"]), records
    run = store.get(ref)
    return run.id, run.k, store.records(run.id)
