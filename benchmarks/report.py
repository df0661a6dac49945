"""Markdown tables for benchmark output, and rewriting one marked section of BENCHMARKS.md."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from docsage.evals.stats import paired_bootstrap_diff

Scores = dict[str, list[float]]
"""Per-question values of each metric of one system, in the same question order."""


def fmt(value: float) -> str:
    return f"{value:.3f}"


class Table:
    def __init__(self, title: str, columns: list[str]) -> None:
        self.title = title
        self.columns = columns
        self.rows: list[list[str]] = []

    def add(self, *cells: str) -> Table:
        self.rows.append(list(cells))
        return self

    def markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.columns) + " |"]
        lines.append("|" + "|".join("---" for _ in self.columns) + "|")
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def means_table(title: str, label: str, runs: dict[str, Scores]) -> Table:
    """One row per system: the mean of each metric (the first system's metrics as columns)."""
    columns = list(next(iter(runs.values())))
    table = Table(title, [label, *columns])
    for name, values in runs.items():
        table.add(name, *(fmt(statistics.fmean(values[c])) for c in columns))
    return table


def paired_cells(before: Scores, after: Scores, digits: int = 2) -> list[str]:
    """``after - before`` for each metric, with its paired bootstrap 95% CI."""
    cells = []
    for column in before:
        mean, low, high = paired_bootstrap_diff(before[column], after[column])
        cells.append(f"{mean:+.3f} [{low:+.{digits}f}, {high:+.{digits}f}]")
    return cells


def write_section(path: Path, name: str, body: str) -> None:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->``
    (appending the section if absent), leaving the rest of the file alone."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    text = (
        pattern.sub(lambda _: block, text)
        if pattern.search(text)
        else text.rstrip() + "\n\n" + block + "\n"
    )
    path.write_text(text, encoding="utf-8")
