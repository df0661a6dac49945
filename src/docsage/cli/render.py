"""Terminal rendering: progress bars, answers, hits and summaries (rich), and JSON forms."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from docsage.agent.trace import COLUMNS, trace_json, trace_rows
from docsage.ingest.pipeline import ProgressFn
from docsage.retrieve import SearchResult
from docsage.types import Answer, Hit, IngestReport

console = Console()
err_console = Console(stderr=True)


class _RateColumn(TextColumn):
    def __init__(self) -> None:
        super().__init__("")

    def render(self, task: Any) -> Any:
        speed = task.finished_speed or task.speed
        return f"{speed:,.1f}/s" if speed else "-/s"


@contextmanager
def progress_bars(enabled: bool) -> Iterator[ProgressFn]:
    """A ProgressFn drawing one bar per stage on stderr (files, chunks, embeddings); a stage
    whose total is not known in advance (chunks) shows its count and rate."""
    if not enabled:
        yield lambda stage, done, total: None
        return
    bars = Progress(
        TextColumn("{task.description:<11}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
    )
    tasks: dict[str, TaskID] = {}

    def update(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bars.add_task(stage, total=total or None)
        bars.update(tasks[stage], completed=done, total=total or None)

    with bars:
        yield update


def hit_json(hit: Hit) -> dict[str, Any]:
    chunk = hit.chunk
    return {
        "ref": chunk.ref,
        "source": chunk.source,
        "anchor": chunk.anchor,
        "title": chunk.title,
        "heading_path": list(chunk.heading_path),
        "kind": chunk.kind,
        "score": round(hit.score, 6),
        "lines": list(chunk.lines) if chunk.lines else None,
        "lexical_rank": hit.lexical_rank,
        "dense_rank": hit.dense_rank,
        "text": chunk.text,
    }


def search_json(query: str, result: SearchResult) -> str:
    body = {
        "query": query,
        "hits": [hit_json(h) for h in result.hits],
        "dense": result.dense_available,
        "timings": {"retrieve_ms": result.retrieve_ms, "rerank_ms": result.rerank_ms},
    }
    return json.dumps(body, indent=2, ensure_ascii=False)


def answer_json(answer: Answer) -> str:
    body = {
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "confidence": answer.confidence,
        "citations": [
            {**asdict(c), "ref": c.ref, "lines": list(c.lines) if c.lines else None}
            for c in answer.citations
        ],
        "sources": [hit_json(h) | {"text": h.chunk.text[:500]} for h in answer.sources],
        "timings": asdict(answer.timings),
        "index_version": answer.index_version,
        "model": answer.model,
        "usage": [asdict(u) for u in answer.usage],
        "cost_usd": answer.cost_usd,
        "verification": verification_json(answer),
        "trace": trace_json(answer.trace),
    }
    return json.dumps(body, indent=2, ensure_ascii=False)


def _lines(lines: tuple[int, int] | None) -> str:
    return f" (lines {lines[0]}-{lines[1]})" if lines else ""


def print_hits(result: SearchResult) -> None:
    if not result.hits:
        console.print("[yellow]No results.[/]")
        return
    for rank, hit in enumerate(result.hits, 1):
        chunk = hit.chunk
        console.print(
            f"[bold]{rank:>2}.[/] [cyan]{escape(chunk.ref)}[/]{_lines(chunk.lines)}  "
            f"[dim]{hit.score:.4f}[/]\n    [bold]{escape(chunk.title)}[/]\n"
            f"    {escape(chunk.text[:220].replace(chr(10), ' '))}"
        )
    if not result.dense_available:
        console.print("[dim]lexical results only: vectors not built yet (docsage embed)[/]")


def verification_json(answer: Answer) -> dict[str, Any] | None:
    check = answer.verification
    if check is None:
        return None
    return {
        "method": check.method,
        "threshold": check.threshold,
        "action": check.action,
        "checked": check.checked,
        "supported": check.supported,
        "sentences": [asdict(s) for s in check.sentences],
    }


def stream_printer() -> Callable[[str], None]:
    """An ``on_token`` that prints verified text as it arrives."""

    def emit(text: str) -> None:
        console.print(escape(text), end="", soft_wrap=True)
        console.file.flush()

    return emit


def print_answer(answer: Answer, *, streamed: bool = False) -> None:
    style = "yellow" if answer.abstained else "green"
    if streamed:
        console.print()
    else:
        console.print(escape(answer.text), style=None if not answer.abstained else style)
    if answer.citations:
        console.print("\n[bold]Sources[/]")
        for c in answer.citations:
            console.print(f"  [{c.number}] [cyan]{escape(c.ref)}[/]{_lines(c.lines)}")
    _print_verification(answer)
    console.print(f"\n[dim]{_footer(answer)}[/]")


def _footer(answer: Answer) -> str:
    parts = [f"confidence {answer.confidence:.2f}", f"{answer.timings.total_ms:.0f} ms"]
    if answer.timings.first_token_ms:
        parts.append(f"first token {answer.timings.first_token_ms:.0f} ms")
    if answer.usage:
        estimated = "~" if any(u.estimated for u in answer.usage) else ""
        parts.append(f"{answer.model} · {estimated}{answer.tokens} tokens · ${answer.cost_usd:.5f}")
    return " · ".join(parts)


def _print_verification(answer: Answer) -> None:
    check = answer.verification
    if check is None:
        return
    console.print(
        f"\n[bold]Checked[/] {check.supported}/{check.checked} sentences supported by the "
        f"source they cite ({check.method} >= {check.threshold:.2f}; unsupported: {check.action})"
    )
    for s in check.sentences:
        if not s.supported:
            console.print(f"  [yellow]✗[/] {escape(s.sentence[:100])} [dim]({escape(s.reason)})[/]")


def print_trace(answer: Answer) -> None:
    if not answer.trace:
        console.print("\n[dim]no model or tool calls (extractive answer)[/]")
        return
    table = Table(show_header=True, header_style="bold", title="trace")
    for column in COLUMNS:
        table.add_column(column, justify="right" if column[0] in "#tcUm" else "left")
    for row in trace_rows(answer.trace):
        table.add_row(*(escape(cell) for cell in row))
    console.print(table)


def print_report(report: IngestReport) -> None:
    console.print(
        f"[bold green]Ingested[/] {report.files_ingested} files / {report.chunks_written} chunks"
        f" into [bold]{report.collection}[/] (index v{report.index_version}) in "
        f"{report.seconds:.1f} s; {report.files_unchanged} unchanged, "
        f"{report.files_removed} removed, {report.chunks_embedded} chunks embedded."
    )
    if report.vectors_missing:
        console.print(
            f"[yellow]{report.vectors_missing} chunks still lack vectors; search is lexical for "
            "them until `docsage embed` (or the next ingest) finishes.[/]"
        )
    if report.invisible_removed or report.markup_removed:
        console.print(
            f"[yellow]Removed {report.invisible_removed} invisible characters and "
            f"{report.markup_removed} hidden or executable markup items from the files.[/]"
        )
    for note in report.notes:
        console.print(f"[yellow]Note:[/] {escape(note.source)}: {escape(note.note)}")
    if report.skipped:
        reasons = Counter(_reason_key(s.reason) for s in report.skipped)
        console.print(f"[yellow]Skipped {len(report.skipped)} files:[/]")
        table = Table(show_header=True, header_style="bold")
        table.add_column("reason")
        table.add_column("files", justify="right")
        table.add_column("example")
        examples = {_reason_key(s.reason): s.source for s in reversed(report.skipped)}
        for reason, count in reasons.most_common():
            table.add_row(escape(reason), str(count), escape(examples[reason]))
        console.print(table)


def _reason_key(reason: str) -> str:
    return reason.split(" (")[0] if reason.startswith(("over the size", "not UTF-8")) else reason
