"""``report.html``: one self-contained page (inline CSS and SVG, no scripts, no downloads).

Plots: metric bars with their 95% bootstrap intervals, a latency histogram, a per-tag
breakdown, and the worst cases with what was retrieved for them. SVG is written by hand
because the plots are simple and a plotting dependency would outweigh the rest of docsage.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from docsage.evals.metrics import match_gold
from docsage.evals.summary import CUTOFF, MetricRow, Summary

Record = dict[str, Any]

WIDTH, ROW, LABEL = 720, 22, 210
WORST_CASES = 15
HISTOGRAM_BINS = 20
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:2em}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:4px 6px;
text-align:left;vertical-align:top}code{font-size:12px}.gold{color:#0a7d32;font-weight:600}
.err{color:#b00020}.muted{color:#777}svg text{font:12px system-ui,sans-serif}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _svg(height: int, body: Sequence[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, label: str, anchor: str = "start") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{_e(label)}</text>'


def _rect(x: float, y: float, w: float, h: float, fill: str, title: str = "") -> str:
    tip = f"<title>{_e(title)}</title>" if title else ""
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" '
        f'fill="{fill}">{tip}</rect>'
    )


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#222"/>'


# -- plots -------------------------------------------------------------------------------------


def _bar_with_interval(y: float, name: str, row: MetricRow) -> list[str]:
    """One metric in [0, 1]: label, bar to the value, whisker from low to high."""
    span = WIDTH - LABEL - 60

    def x(value: float) -> float:
        return LABEL + span * min(max(value, 0.0), 1.0)

    colour = "#4c78a8" if row["higher_is_better"] else "#e45756"
    mid = y + ROW / 2
    tip = f"{name}: {row['value']:.3f} (95% CI {row['low']:.3f}–{row['high']:.3f}, n={row['n']})"
    return [
        _text(LABEL - 8, mid + 4, name, "end"),
        _rect(LABEL, y + 4, x(row["value"]) - LABEL, ROW - 8, colour, tip),
        _line(x(row["low"]), mid, x(row["high"]), mid),
        _line(x(row["low"]), mid - 5, x(row["low"]), mid + 5),
        _line(x(row["high"]), mid - 5, x(row["high"]), mid + 5),
        _text(WIDTH - 55, mid + 4, f"{row['value']:.3f}"),
    ]


def metric_bars(metrics: dict[str, MetricRow]) -> str:
    """Bars for every metric on a 0..1 scale (rates and scores), with their intervals."""
    rows = [
        (n, r) for n, r in metrics.items() if not n.startswith(("latency.", "tokens.", "cost."))
    ]
    body = [_line(LABEL, 0, LABEL, ROW * len(rows))]
    for i, (name, row) in enumerate(rows):
        body += _bar_with_interval(i * ROW, name, row)
    return _svg(ROW * len(rows) + 4, body)


def latency_histogram(latencies: Sequence[float], bins: int = HISTOGRAM_BINS) -> str:
    """Counts of cases per latency bin of ``ask()``, axis in milliseconds."""
    if not latencies:
        return "<p class=muted>no cases</p>"
    low, high = min(latencies), max(latencies)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in latencies:
        counts[min(int((value - low) / width), bins - 1)] += 1
    height, base, step = 160, 140, (WIDTH - 40) / bins
    top = max(counts)
    body = [_line(20, base, WIDTH - 20, base)]
    for i, count in enumerate(counts):
        h = (base - 10) * count / top
        label = f"{low + i * width:.0f}–{low + (i + 1) * width:.0f} ms: {count} cases"
        body.append(_rect(20 + i * step + 1, base - h, step - 2, h, "#72b7b2", label))
    body += [
        _text(20, base + 16, f"{low:.0f} ms"),
        _text(WIDTH - 20, base + 16, f"{high:.0f} ms", "end"),
    ]
    return _svg(height, body)


def tag_bars(tags: dict[str, dict[str, float]], metric: str) -> str:
    """One bar per tag for ``metric`` (tags where it does not apply are left out)."""
    rows = [(tag, row[metric], int(row["n"])) for tag, row in tags.items() if metric in row]
    if not rows:
        return f"<p class=muted>{_e(metric)} applies to no tagged case</p>"
    span = WIDTH - LABEL - 60
    body = [_line(LABEL, 0, LABEL, ROW * len(rows))]
    for i, (tag, value, n) in enumerate(rows):
        y = i * ROW
        body += [
            _text(LABEL - 8, y + ROW / 2 + 4, f"{tag} (n={n})", "end"),
            _rect(LABEL, y + 4, span * value, ROW - 8, "#54a24b", f"{tag}: {value:.3f}"),
            _text(WIDTH - 55, y + ROW / 2 + 4, f"{value:.3f}"),
        ]
    return _svg(ROW * len(rows) + 4, body)


# -- tables ------------------------------------------------------------------------------------


def _badness(record: Record) -> tuple[int, float]:
    """Sort key, worst first: failed, then wrong abstention, then low anchor MRR."""
    if record.get("error"):
        return (0, 0.0)
    if not record["answerable"]:
        return (1, 0.0) if not record["abstained"] else (3, 1.0)
    metrics = record["metrics"]
    if record["abstained"]:
        return (1, 0.0)
    return (2, metrics.get(f"anchor.mrr@{CUTOFF}", 0.0) + metrics.get("citation.recall", 0.0))


def worst_cases(records: Sequence[Record], limit: int = WORST_CASES) -> list[Record]:
    return sorted(records, key=_badness)[:limit]


def _refs_html(refs: Sequence[str], gold: Sequence[str], limit: int = 5) -> str:
    items = []
    for ref in refs[:limit]:
        css = "gold" if any(match_gold(ref, g) for g in gold) else ""
        items.append(f'<code class="{css}">{_e(ref)}</code>')
    return "<br>".join(items) or '<span class="muted">none</span>'


def _case_row(record: Record) -> str:
    gold = record.get("gold_sources", [])
    if record.get("error"):
        outcome = f'<span class="err">{_e(record["error"])}</span>'
    elif record["abstained"]:
        outcome = "abstained" + ("" if record["answerable"] else " (right)")
    else:
        outcome = _e(record["answer"][:300])
    golds = "<br>".join(f"<code>{_e(g)}</code>" for g in gold) or "unanswerable"
    return (
        f"<tr><td><b>{_e(record['id'])}</b><br>{_e(record['question'])}</td><td>{golds}</td>"
        f"<td>{_refs_html(record.get('retrieved', []), gold)}</td>"
        f"<td>{_refs_html(record.get('citations', []), gold)}</td><td>{outcome}</td></tr>"
    )


def _metric_table(metrics: dict[str, MetricRow]) -> str:
    rows = "".join(
        f"<tr><td><code>{_e(name)}</code></td><td>{r['value']:.4g}</td>"
        f"<td>{r['low']:.4g} – {r['high']:.4g}</td><td>{r['n']}</td></tr>"
        for name, r in metrics.items()
    )
    return f"<table><tr><th>metric</th><th>value</th><th>95% CI</th><th>n</th></tr>{rows}</table>"


def render_report(summary: Summary, records: Sequence[Record], title: str) -> str:
    """The whole page as one string."""
    run, k = summary["run"], summary["run"]["k"]
    counts = ", ".join(f"{v} {n}" for n, v in summary["counts"].items())
    cases = "".join(_case_row(r) for r in worst_cases(records))
    tag_plots = "".join(
        f"<h3><code>{_e(m)}</code></h3>{tag_bars(summary['tags'], m)}"
        for m in (f"anchor.hit@{k}", "citation.recall", "abstention.recall")
    )
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{_e(title)}</title><style>{_CSS}</style></head><body>
<h1>{_e(title)}</h1>
<p>Collection <b>{_e(run["collection"])}</b>, k={_e(k)}, mode {_e(run["mode"])},
index v{_e(run["index_version"])}: {_e(counts)}.</p>
<p class="muted">Bars: mean over the cases a metric applies to; whiskers: 95% percentile
bootstrap interval over cases. Token F1 and ROUGE-L against reference answers are change
detectors, not correctness. Failed cases are scored as failures, not left out.</p>
<h2>Metrics</h2>{metric_bars(summary["metrics"])}
<h2>Latency of ask()</h2>{latency_histogram([float(r["latency_ms"]) for r in records])}
<h2>By tag</h2>{tag_plots}
<h2>Worst cases</h2>
<table><tr><th>case</th><th>gold</th><th>retrieved (top 5)</th><th>cited</th><th>outcome</th></tr>
{cases}</table>
<h2>All metrics</h2>{_metric_table(summary["metrics"])}
</body></html>
"""
