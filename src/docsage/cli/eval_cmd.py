"""``docsage eval``: run a dataset through docsage and score it; list, compare, generate.

``docsage eval DATASET.jsonl ...`` is shorthand for ``docsage eval run DATASET.jsonl ...``:
the group below turns a first argument that is not a subcommand name into ``run``'s dataset,
so the common case needs no verb while ``list``, ``compare`` and ``generate`` stay commands.
"""

from __future__ import annotations

import sys
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperGroup

from docsage.app import Docsage, open_run_store
from docsage.cli import render
from docsage.errors import UsageError
from docsage.evals import gate
from docsage.evals.dataset import dump_dataset, load_dataset
from docsage.evals.generate import generate_cases
from docsage.evals.judge import ChatJudge
from docsage.evals.report import render_report
from docsage.evals.runner import EvalRun, run_eval
from docsage.evals.runs import (
    Record,
    load_records,
    new_run_id,
    per_case_metrics,
    run_records,
    stored_run,
    write_run_dir,
)
from docsage.evals.summary import Summary, run_case_metrics, spec_table, summarize, to_markdown
from docsage.retrieve import MODES, Mode
from docsage.settings import Settings

_HELP = """Measure retrieval, citation, groundedness, abstention and latency on a dataset.

\b
  docsage eval DATASET.jsonl --collection NAME [--out DIR] [-k 10]
               [--baseline RUN] [--fail-under METRIC=VALUE ...]
  docsage eval list | compare RUN_A RUN_B | generate --collection NAME -n 200

A first argument that is not one of the commands below is the dataset of `run`,
so `docsage eval DATASET.jsonl` means `docsage eval run DATASET.jsonl`; put a
command before its options (`docsage eval list --home DIR`).
"""


class DatasetFirstGroup(TyperGroup):
    """Routes ``eval DATASET ...`` (and ``eval --collection ... DATASET``) to ``run``."""

    # ctx is Any: typer vendors its own click (typer._click), whose Context is private.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


_COMMANDS = ("run", "list", "compare", "generate")
eval_app = typer.Typer(cls=DatasetFirstGroup, help=_HELP, no_args_is_help=True)

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="Index folder (default: $DOCSAGE_HOME or ~/.docsage)."),
]
CollectionOpt = Annotated[
    str | None, typer.Option("--collection", "-c", help="Collection name (default: 'default').")
]


def _judge(ds: Docsage, spec: str | None) -> ChatJudge | None:
    model = ds.chat_model(spec) if spec else None
    if spec and model is None:
        raise UsageError("--judge needs a chat model ('openai:<model>'), not 'extractive'")
    return ChatJudge(model) if model else None


def _open(home: Path | None) -> Docsage:
    return Docsage(Settings.from_env(home=home))


def _check_mode(mode: str) -> Mode:
    if mode not in MODES:
        raise UsageError(f"unknown --mode {mode!r}; use one of {', '.join(MODES)}")
    chosen: Mode = mode
    return chosen


def _write_outputs(out: Path, summary: Summary, records: list[Record]) -> str:
    markdown = to_markdown(summary)
    write_run_dir(out, summary, records, markdown)
    title = f"docsage eval {summary['run']['id']}"
    (out / "report.html").write_text(render_report(summary, records, title), encoding="utf-8")
    return markdown


def _gate(
    summary: Summary,
    per_case: dict[str, dict[str, float]],
    thresholds: list[gate.Threshold],
    baseline: tuple[str, int, list[Record]] | None,
) -> list[str]:
    specs = spec_table(int(str(summary["run"]["k"])))
    failures = gate.check_thresholds(summary, thresholds, specs)
    if baseline is not None:
        label, _, records = baseline
        comparisons = gate.compare(per_case_metrics(records), per_case, specs)
        typer.echo(gate.comparison_markdown(comparisons, label, str(summary["run"]["id"])))
        failures += gate.check_baseline(comparisons)
    return failures


def _record_run(
    ds: Docsage, run: EvalRun, dataset: Path, out: Path | None
) -> tuple[Summary, dict[str, dict[str, float]], Path, str]:
    per_case = run_case_metrics(run)
    summary = summarize(run, per_case)
    run_id = new_run_id(run.started_at)
    summary["run"] |= {"id": run_id, "dataset": str(dataset)}
    records = run_records(run, per_case)
    out = out or Path("docsage-eval") / run_id
    markdown = _write_outputs(out, summary, records)
    with closing(open_run_store(ds.settings)) as runs:
        runs.save(stored_run(run_id, run, str(dataset), summary), records)
    return summary, per_case, out, markdown


def _baseline(ds: Docsage, ref: str | None, ids: list[str]) -> tuple[str, int, list[Record]] | None:
    """The baseline's records, checked before the run so a bad --baseline fails fast."""
    if ref is None:
        return None
    with closing(open_run_store(ds.settings)) as runs:
        base = load_records(ref, runs)
    if not {str(r["id"]) for r in base[2]} & set(ids):
        raise UsageError(
            f"baseline {base[0]} shares no case id with this dataset; pick a run "
            "of the same dataset (docsage eval list)"
        )
    return base


@eval_app.command("run")
def run_command(
    dataset: Annotated[Path, typer.Argument(help="JSONL file, one case per line.")],
    collection: CollectionOpt = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Output folder (default ./docsage-eval/RUN).")
    ] = None,
    k: Annotated[int, typer.Option("-k", min=1, max=100, help="Cut-off of @k metrics.")] = 10,
    mode: Annotated[str, typer.Option(help=f"Search mode: {', '.join(MODES)}.")] = "hybrid",
    candidates: Annotated[int, typer.Option(min=1, help="Ranked refs kept per case.")] = 100,
    baseline: Annotated[
        str | None,
        typer.Option(
            help="Run id, id prefix, 'latest' or output folder to compare against; "
            "a significant drop in a quality metric fails the run."
        ),
    ] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-under",
            help="METRIC=VALUE; fails when the metric is worse "
            "(below for scores, above for latency/errors). Repeatable.",
        ),
    ] = None,
    home: HomeOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    model: Annotated[
        str | None,
        typer.Option(
            help="Answer model: 'extractive', 'openai:<model>', 'llamacpp:<path>' "
            "(default: $DOCSAGE_MODEL)."
        ),
    ] = None,
    judge: Annotated[
        str | None,
        typer.Option(help="Chat model that also judges groundedness (groundedness.judge)."),
    ] = None,
) -> None:
    """Run DATASET through search and ask, score it, store the run, apply the gate."""
    chosen = _check_mode(mode)
    if not dataset.exists() and str(dataset) in _COMMANDS:
        raise UsageError(
            f"{dataset!s} is a command: put it first, e.g. docsage eval {dataset!s} "
            "--home DIR (options before it are read as `run` options)"
        )
    cases = load_dataset(dataset)
    thresholds = gate.parse_thresholds(fail_under or [], spec_table(k))
    with _open(home) as ds:
        if model:
            ds.settings = ds.settings.but(model=model)
        name = collection or ds.settings.collection
        base = _baseline(ds, baseline, [c.id for c in cases])
        with render.progress_bars(not quiet) as progress:
            run = run_eval(
                ds,
                cases,
                collection=name,
                k=k,
                mode=chosen,
                candidates=candidates,
                progress=progress,
                judge=_judge(ds, judge),
            )
        summary, per_case, folder, markdown = _record_run(ds, run, dataset, out)
    typer.echo(markdown)
    failures = _gate(summary, per_case, thresholds, base)
    typer.echo(f"run {summary['run']['id']}: {folder}/report.html")
    if failures:
        render.err_console.print("[red]eval gate failed:[/]\n  " + "\n  ".join(failures))
        raise typer.Exit(1)


@eval_app.command("list")
def list_command(
    collection: CollectionOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="Most recent runs shown.")] = 20,
    home: HomeOpt = None,
) -> None:
    """List stored eval runs, most recent first."""
    settings = Settings.from_env(home=home)
    with closing(open_run_store(settings)) as runs:
        stored = runs.runs(collection, limit)
    if not stored:
        render.console.print("No eval runs yet: docsage eval DATASET.jsonl --collection NAME")
        return
    table = Table()
    table.add_column("run", no_wrap=True)
    for header in ("collection", "cases", "errors", "anchor hit@k", "cit. recall", "abst. F1"):
        table.add_column(header, justify="right")
    for r in stored:
        metrics = r.summary["metrics"]
        cells = [f"anchor.hit@{r.k}", "citation.recall", "abstention.f1"]
        values = [f"{metrics[c]['value']:.3f}" if c in metrics else "-" for c in cells]
        table.add_row(r.id, r.collection, str(r.n_cases), str(r.n_errors), *values)
    render.console.print(table)


@eval_app.command("compare")
def compare_command(
    run_a: Annotated[str, typer.Argument(help="Baseline: run id, prefix, 'latest' or folder.")],
    run_b: Annotated[str, typer.Argument(help="Candidate: run id, prefix, 'latest' or folder.")],
    home: HomeOpt = None,
) -> None:
    """Paired differences B - A per metric over shared cases, with bootstrap intervals."""
    settings = Settings.from_env(home=home)
    with closing(open_run_store(settings)) as runs:
        label_a, k_a, records_a = load_records(run_a, runs)
        label_b, k_b, records_b = load_records(run_b, runs)
    specs = spec_table(k_a) | spec_table(k_b)
    rows = gate.compare(per_case_metrics(records_a), per_case_metrics(records_b), specs)
    typer.echo(gate.comparison_markdown(rows, label_a, label_b))


@eval_app.command("generate")
def generate_command(
    collection: CollectionOpt = None,
    n: Annotated[int, typer.Option("-n", min=1, help="About how many cases.")] = 200,
    out: Annotated[Path | None, typer.Option("--out", help="JSONL file (default stdout).")] = None,
    unanswerable_share: Annotated[
        float, typer.Option(min=0.0, max=0.9, help="Share of unanswerable cases.")
    ] = 0.2,
    seed: Annotated[int, typer.Option(help="Sampling seed.")] = 0,
    home: HomeOpt = None,
) -> None:
    """Build a synthetic test set (tag 'synthetic') from API entries and headings, no LLM."""
    with _open(home) as ds:
        name = collection or ds.settings.collection
        if ds.store.index_version(name) == 0:
            raise UsageError(f"no collection named {name!r}; ingest it first")
        cases = generate_cases(ds.store, name, n, unanswerable_share=unanswerable_share, seed=seed)
    text = dump_dataset(cases)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
        answerable = sum(1 for c in cases if c.answerable)
        render.console.print(
            f"Wrote {len(cases)} cases ({answerable} answerable, "
            f"{len(cases) - answerable} unanswerable) to {out}"
        )
