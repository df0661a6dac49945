"""The eval harness end to end over a small real corpus (tests/data/golden), with the real
ONNX embedder and SQLite store, including the regression gate our own CI relies on."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from docsage.app import Docsage
from docsage.cli import app, eval_cmd
from docsage.errors import UsageError
from docsage.evals import gate
from docsage.evals.dataset import load_dataset
from docsage.evals.generate import generate_cases
from docsage.evals.report import render_report, worst_cases
from docsage.evals.runner import EvalRun, cited_sentences
from docsage.evals.runs import run_records, stored_run
from docsage.evals.summary import run_case_metrics, spec_table, summarize
from docsage.retrieve import Retriever, SearchOptions, SearchResult
from docsage.settings import Settings
from docsage.store.sqlite_runs import SQLiteRunStore
from docsage.types import Answer
from golden_support import (
    GOLDEN_GATE,
    N_ANSWERABLE,
    N_CASES,
    QUESTIONS,
    gate_failures,
    open_golden,
    run_golden,
    tripped,
)

CONALA = Path(__file__).resolve().parents[2] / "shared" / "bench" / "conala-dev.jsonl"

pytestmark = pytest.mark.slow


class DeliberatelyBrokenRetriever(Retriever):
    """A deliberately broken component: it ranks every candidate in reverse order, so the
    best hits come last. The gate must catch the damage it does."""

    def search(self, query: str, collection: str, options: SearchOptions) -> SearchResult:
        full = super().search(query, collection, replace(options, k=options.candidates))
        return replace(full, hits=list(reversed(full.hits))[: options.k])


def broken_retriever(good: Retriever) -> Retriever:
    """:class:`DeliberatelyBrokenRetriever` in place of the real one, behind search and ask."""
    return DeliberatelyBrokenRetriever(
        good.store, good.embedder, weights=good.weights, reranker=good.reranker
    )


class FailingDocsage(Docsage):
    """Docsage whose ask raises for one question, to check failures are counted."""

    def ask(self, question: str, **kwargs: object) -> Answer:
        if "receives SIGTERM" in question:  # g08 only
            raise RuntimeError("model server went away")
        return super().ask(question, **kwargs)  # type: ignore[arg-type]


# -- dataset -----------------------------------------------------------------------------------


def test_bad_dataset_line_is_a_usage_error_naming_the_line(tmp_path: Path) -> None:
    good = '{"id": "a", "question": "q?", "gold_sources": ["x.md"]}'
    cases = {
        "{not json": "not valid JSON",
        '{"id": "b", "question": "q?"}': "needs at least one gold source",
        '{"id": "b", "question": "q?", "gold_sources": ["x"], "answerable": "maybe"}': "answerable",
        '{"id": "b", "question": " ", "answerable": false}': "question is blank",
        '{"id": "b", "question": "q?", "gold": ["x"], "answerable": false}': "gold",
        '["a list"]': "expected a JSON object",
    }
    for bad, message in cases.items():
        path = tmp_path / "set.jsonl"
        path.write_text(f"{good}\n\n{bad}\n")
        with pytest.raises(UsageError, match=rf"set\.jsonl:3: .*{re.escape(message)}"):
            load_dataset(path)


def test_repeated_ids_are_renamed_and_conala_loads(tmp_path: Path) -> None:
    path = tmp_path / "dup.jsonl"
    line = '{"id": "a", "question": "q?", "answerable": false}\n'
    path.write_text(line * 3)
    assert [c.id for c in load_dataset(path)] == ["a", "a~2", "a~3"]
    if CONALA.is_file():
        cases = load_dataset(CONALA)
        assert len(cases) == 149 and len({c.id for c in cases}) == 149


def test_paragraph_marker_vouches_for_each_sentence_of_its_quote() -> None:
    text = "Retries back off. They cap at 300 s. [1]\n\nUse `max_retries=0`. [2] Or not [1]."
    assert cited_sentences(text) == [
        ("Retries back off.", [1]),
        ("They cap at 300 s.", [1]),
        ("Use `max_retries=0`.", [2]),
        ("Or not.", [1]),
    ]


# -- runs and metrics --------------------------------------------------------------------------


def test_golden_eval_passes_the_ci_gate(golden_run: EvalRun) -> None:
    run = golden_run
    summary = summarize(run)
    assert summary["counts"] == {
        "cases": N_CASES,
        "answerable": N_ANSWERABLE,
        "unanswerable": N_CASES - N_ANSWERABLE,
        "abstained": summary["counts"]["abstained"],
        "errors": 0,
    }
    metrics = summary["metrics"]
    for name in (
        "page.recall@10",
        "anchor.ndcg@10",
        "citation.precision",
        "abstention.f1",
        "latency.p95_ms",
        "answer.rouge_l",
        "groundedness.lexical",
    ):
        row = metrics[name]
        assert row["low"] <= row["value"] <= row["high"], name
    assert "groundedness.judge" not in metrics and "tokens.mean" not in metrics
    assert gate_failures(summary) == []
    first = run.results[0]
    assert first.retrieved[0] == "README.md#installation" and first.error is None
    assert first.tokens is None and first.cost is None  # extractive: no model usage


def test_a_failing_case_is_counted_and_scored_as_a_failure(golden_home: Path) -> None:
    run = run_golden(golden_home, FailingDocsage)
    failed = [r for r in run.results if r.error is not None]
    assert [r.id for r in failed] == ["g08"] and "model server went away" in str(failed[0].error)
    per_case = run_case_metrics(run)
    assert per_case["g08"]["anchor.hit@10"] == 0.0
    assert per_case["g08"]["groundedness.lexical"] == 0.0
    assert per_case["g08"]["abstention.false_rate"] == 1.0
    summary = summarize(run, per_case)
    assert summary["counts"]["errors"] == 1
    assert summary["metrics"]["errors.rate"]["value"] == pytest.approx(1 / N_CASES)
    assert summary["errors"] == [{"id": "g08", "error": "RuntimeError: model server went away"}]
    assert json.dumps(summary).count("NaN") == 0
    # One lost case is within the gate's margin on every score; only the error itself (and
    # its answer, which resolves to nothing) trips it.
    assert tripped(gate_failures(summary)) == {"errors.rate", "citation.resolved"}


def test_broken_retriever_trips_fail_under_and_baseline(
    golden_home: Path, golden_run: EvalRun
) -> None:
    good, broken = golden_run, run_golden(golden_home, wrap=broken_retriever)
    specs = spec_table(10)
    failures = gate_failures(summarize(broken))
    assert "anchor.mrr@10" in tripped(failures), failures
    rows = gate.compare(run_case_metrics(good), run_case_metrics(broken), specs)
    regressions = gate.check_baseline(rows)
    assert any(r.startswith("anchor.mrr@10 regressed") for r in regressions), regressions
    assert (
        gate.check_baseline(gate.compare(run_case_metrics(good), run_case_metrics(good), specs))
        == []
    )


def test_gate_names_are_checked() -> None:
    specs = spec_table(10)
    with pytest.raises(UsageError, match=r"unknown metric 'recall'.*page\.recall@10"):
        gate.parse_thresholds(["recall=0.5"], specs)
    with pytest.raises(UsageError, match="METRIC=VALUE"):
        gate.parse_thresholds(["page.recall@10"], specs)
    with pytest.raises(UsageError, match="not a number"):
        gate.parse_thresholds(["page.recall@10=high"], specs)


def test_report_is_self_contained_with_plots(golden_run: EvalRun) -> None:
    run = golden_run
    per_case = run_case_metrics(run)
    summary = summarize(run, per_case)
    summary["run"]["id"] = "r1"
    records = run_records(run, per_case)
    page = render_report(summary, records, "eval <r1>")
    assert (
        page.count("<svg") >= 4
        and "<script" not in page
        and "http" not in page.split("</style>")[0]
    )
    worst = worst_cases(records)
    assert "eval &lt;r1&gt;" in page and worst and all(f"<b>{r['id']}</b>" in page for r in worst)


def test_generate_builds_synthetic_cases_from_the_corpus(golden_home: Path) -> None:
    with open_golden(golden_home) as ds:
        cases = generate_cases(ds.store, "golden", 20, seed=1)
        corpus = " ".join(
            c.text + c.anchor
            for s in ds.store.documents("golden")
            for c in ds.store.chunks("golden", s)
        ).lower()
    assert all("synthetic" in c.tags for c in cases)
    absent = [c for c in cases if not c.answerable]
    assert len(absent) == 4
    for case in absent:
        name = re.search(r"`([^`]+)`", case.question)
        assert name and name.group(1).split(".")[-1].lower() not in corpus
    assert len({c.gold_sources for c in cases if c.answerable}) == len(cases) - 4


# -- command line ------------------------------------------------------------------------------


def _invoke(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _run_id(output: str) -> str:
    match = re.search(r"^run (\S+): ", output, re.M)
    assert match, output
    return match.group(1)


def test_cli_run_list_compare_and_gate(
    golden_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = golden_home
    gate_args = [a for t in GOLDEN_GATE for a in ("--fail-under", t)]
    code, out = _invoke(
        "eval", QUESTIONS, "-c", "golden", "--home", home, "--out", tmp_path / "a", "-q", *gate_args
    )
    assert code == 0, out
    good = _run_id(out)
    assert "| `anchor.mrr@10` |" in out
    assert "<svg" in (tmp_path / "a" / "report.html").read_text()
    lines = (tmp_path / "a" / "results.jsonl").read_text().splitlines()
    assert len(lines) == N_CASES and {"retrieved", "citations", "latency_ms"} <= set(
        json.loads(lines[0])
    )
    assert "anchor.ndcg@10" in json.loads((tmp_path / "a" / "summary.json").read_text())["metrics"]

    code, out = _invoke("eval", "list", "--home", home)
    assert code == 0 and good in out

    monkeypatch.setattr(eval_cmd, "_open", lambda h: open_golden(h, wrap=broken_retriever))
    code, out = _invoke(
        "eval",
        "run",
        QUESTIONS,
        "-c",
        "golden",
        "--home",
        home,
        "--out",
        tmp_path / "b",
        "-q",
        "--baseline",
        good,
    )
    assert code == 1, out
    assert "anchor.mrr@10 regressed" in out and "eval gate failed" in out
    broken = _run_id(out)
    code, out = _invoke(
        "eval",
        QUESTIONS,
        "-c",
        "golden",
        "--home",
        home,
        "--out",
        tmp_path / "c",
        "-q",
        "--fail-under",
        "anchor.hit@10=0.9",
    )
    assert code == 1 and "anchor.hit@10 = " in out

    code, out = _invoke("eval", "compare", good[:18], broken, "--home", home)  # unique prefix
    assert code == 0 and f"| `anchor.mrr@10` | {N_ANSWERABLE} |" in out and "**worse**" in out
    code, out = _invoke("eval", "compare", tmp_path / "a", good, "--home", home)
    assert code == 0 and "**worse**" not in out


def test_cli_generate_then_eval(golden_home: Path, tmp_path: Path) -> None:
    home = golden_home
    target = tmp_path / "synthetic.jsonl"
    code, out = _invoke(
        "eval", "generate", "-c", "golden", "-n", "15", "--out", target, "--home", home
    )
    assert code == 0 and "15 cases" in out
    assert len(load_dataset(target)) == 15
    code, out = _invoke(
        "eval", target, "-c", "golden", "--home", home, "--out", tmp_path / "o", "-q"
    )
    assert code == 0, out
    assert "| synthetic | 15 |" in out


def test_runs_are_stored_in_the_index_database(golden_home: Path, golden_run: EvalRun) -> None:
    run = golden_run
    per_case = run_case_metrics(run)
    with SQLiteRunStore(Settings.from_env(environ={}, home=golden_home).index_path) as runs:
        summary = summarize(run, per_case)
        runs.save(stored_run("test-run-1", run, "q.jsonl", summary), run_records(run, per_case))
        stored = runs.get("test-run")
        assert stored.n_cases == N_CASES and stored.summary["counts"]["cases"] == N_CASES
        assert [r["id"] for r in runs.records("test-run-1")][:2] == ["g01", "g02"]
        with pytest.raises(UsageError, match="no eval run"):
            runs.get("nope")
