"""``docsage demo``: the first command a newcomer runs.

It needs no download: the corpus is the standard-library documentation of the Python that runs
docsage (``docsage.ingest.stdlib``). It ingests that into the ``stdlib`` collection, asks a few
sample questions (one the docs cannot answer, to show abstention) and prints what to try next.
A second run reuses the pages and the index, so it takes seconds.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from docsage.app import Docsage
from docsage.cli import render
from docsage.ingest.stdlib import DEFAULT_MODULES, python_version, write_stdlib_docs
from docsage.settings import Settings

COLLECTION = "stdlib"
SAMPLE_QUESTIONS: tuple[str, ...] = (
    "How do I join path components?",
    "How can I sort a list of dicts by a key?",
    "How do I parse JSON from a string?",
    "What does str.partition return?",
    "How do I read a CSV file?",
    "How do I run a shell command and capture its output?",
    "How do I count how many times each item occurs in a list?",
)
# Shown last, so the user sees docsage say "not covered" instead of guessing.
UNANSWERABLE = "How do I configure a Kubernetes ingress controller?"


def demo(
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Index folder (default: $DOCSAGE_HOME or ~/.docsage)."),
    ] = None,
    questions: Annotated[
        int,
        typer.Option(
            "--questions", "-n", min=0, help="Sample questions to ask (plus one off-topic)."
        ),
    ] = 5,
    modules: Annotated[
        str,
        typer.Option("--modules", hidden=True, help="Comma-separated modules (for tests)."),
    ] = ",".join(DEFAULT_MODULES),
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Index this Python's standard-library docs (no download) and answer sample questions."""
    settings = Settings.from_env(home=home)
    started = time.perf_counter()
    folder = settings.home / "corpora" / f"python-{python_version()}-stdlib"
    corpus = write_stdlib_docs(folder, tuple(m.strip() for m in modules.split(",") if m.strip()))
    render.console.print(
        f"[bold]Corpus:[/] {corpus.pages} pages of Python {corpus.python} docs in {folder} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    with Docsage(settings) as ds:
        with render.progress_bars(not quiet) as progress:
            report = ds.ingest(corpus.folder, collection=COLLECTION, progress=progress)
        render.print_report(report)
        _ask_samples(ds, _pick(questions))
    render.console.print(f"\n[dim]demo finished in {time.perf_counter() - started:.1f} s[/]")
    _next_steps()


def _pick(count: int) -> list[str]:
    return [*SAMPLE_QUESTIONS[:count], UNANSWERABLE] if count else []


def _ask_samples(ds: Docsage, questions: list[str]) -> None:
    for question in questions:
        render.console.rule(f"[bold]{escape(question)}")
        render.print_answer(ds.ask(question, collection=COLLECTION))


def _next_steps() -> None:
    render.console.print(
        "\n[bold]Next steps[/]\n"
        f'  docsage ask "How do I copy a directory tree?" -c {COLLECTION}\n'
        f'  docsage search "shutil.copytree" -c {COLLECTION}\n'
        "  docsage ingest YOUR_DOCS --collection mydocs   (then: docsage ask ... -c mydocs)"
    )
