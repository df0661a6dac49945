"""``docsage report``: what the service did, from the request log."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from docsage.app import open_service_stores
from docsage.cli import render
from docsage.service.report import build_report, gap_cases, markdown, parse_since, write_jsonl
from docsage.settings import Settings


def report(
    since: Annotated[str, typer.Option(help="Window: 30m, 12h, 7d, 2w.")] = "7d",
    home: Annotated[Path | None, typer.Option("--home", help="Index folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    gaps_to_eval: Annotated[
        Path | None,
        typer.Option(help="Write unanswered questions as eval cases (JSONL) to this file."),
    ] = None,
) -> None:
    """Traffic, latency p50/p95/p99, cost, cache hit and abstention rates, feedback, top
    questions and documentation gaps."""
    with open_service_stores(Settings.from_env(home=home)) as stores:
        result = build_report(stores.requests, parse_since(since))
    if as_json:
        typer.echo(json.dumps(asdict(result), indent=2, ensure_ascii=False))
    else:
        render.console.print(markdown(result), markup=False, highlight=False)
    if gaps_to_eval is not None:
        cases = gap_cases(result.gaps)
        write_jsonl(gaps_to_eval, cases)
        render.err_console.print(
            f"Wrote {len(cases)} gap cases to {gaps_to_eval}: set 'answerable' (and "
            "'gold_sources' once the docs cover a question) in each before running an eval."
        )
