"""``docsage report``: traffic, latency, cost, cache and abstention rates, feedback, top
questions, and the questions docsage could not answer (documentation gaps)."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from docsage.errors import UsageError
from docsage.evals.stats import percentile
from docsage.ports import RequestHistory, RequestRecord

_SPAN = re.compile(r"^(\d+)([mhdw])$")
_UNIT_S = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_since(text: str, now: float | None = None) -> float:
    """``"7d"``, ``"12h"``, ``"30m"``, ``"2w"`` -> a Unix time that long ago."""
    match = _SPAN.match(text.strip())
    if not match:
        raise UsageError(f"--since {text!r}: use a number and a unit, like 30m, 12h, 7d or 2w")
    now = time.time() if now is None else now
    return now - int(match.group(1)) * _UNIT_S[match.group(2)]


@dataclass(kw_only=True)
class Report:
    since: float
    requests: int = 0
    by_route: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    latency_ms: dict[str, float] = field(default_factory=dict)
    tokens: int = 0
    cost_usd: float = 0.0
    cache_hit_rate: float = 0.0
    abstention_rate: float = 0.0
    answers: int = 0
    feedback_up: int = 0
    feedback_down: int = 0
    top_questions: list[tuple[str, int]] = field(default_factory=list)
    gaps: list[tuple[str, int]] = field(default_factory=list)


def build_report(history: RequestHistory, since: float, top: int = 10) -> Report:
    """The report of everything logged at or after ``since``."""
    records = history.records(since)
    out = Report(since=since, requests=len(records))
    for r in records:
        out.by_route[r.route] = out.by_route.get(r.route, 0) + 1
    ok = [r for r in records if r.status < 400]
    out.errors = len(records) - len(ok)
    latencies = [r.total_ms for r in ok]
    # The eval harness's percentile (linear interpolation): one definition everywhere.
    out.latency_ms = {
        f"p{q}": round(percentile(latencies, q), 2) if latencies else 0.0 for q in (50, 95, 99)
    }
    out.tokens = sum(r.input_tokens + r.output_tokens for r in ok)
    out.cost_usd = sum(r.cost_usd for r in ok)
    out.cache_hit_rate = sum(1 for r in ok if r.cache_hit) / len(ok) if ok else 0.0
    answers = [r for r in ok if r.abstained is not None]
    out.answers = len(answers)
    out.abstention_rate = sum(1 for r in answers if r.abstained) / len(answers) if answers else 0.0
    ratings = [f.rating for f in history.feedback(since)]
    out.feedback_up = sum(1 for rating in ratings if rating > 0)
    out.feedback_down = sum(1 for rating in ratings if rating < 0)
    asked = [r for r in records if r.question is not None and r.route in ("ask", "chat")]
    out.top_questions = _most_asked(asked, top)
    out.gaps = _most_asked([r for r in asked if r.abstained], top * 5)
    return out


def _most_asked(records: list[RequestRecord], limit: int) -> list[tuple[str, int]]:
    """Questions by how often they were asked (case and surrounding space ignored), most
    asked first, ties in alphabetical order."""
    counts = Counter((r.question or "").strip().lower() for r in records)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


def gap_cases(gaps: list[tuple[str, int]]) -> list[dict[str, object]]:
    """Eval cases for unanswered questions. ``answerable`` is null on purpose: a person must
    decide (true + gold_sources once the docs cover it, or false) before the set loads."""
    return [
        {
            "id": f"gap-{i:03d}",
            "question": q,
            "gold_sources": [],
            "answerable": None,
            "tags": ["gap", f"asked-{n}x"],
        }
        for i, (q, n) in enumerate(gaps, 1)
    ]


def write_jsonl(path: Path, cases: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases), "utf-8")


def markdown(r: Report) -> str:
    lines = [
        f"# docsage report since {time.strftime('%Y-%m-%d %H:%M', time.gmtime(r.since))} UTC",
        "",
        f"- requests: {r.requests} ({', '.join(f'{k} {v}' for k, v in sorted(r.by_route.items())) or 'none'}), errors {r.errors}",  # noqa: E501
        f"- latency ms: p50 {r.latency_ms.get('p50', 0)}, p95 {r.latency_ms.get('p95', 0)}, "
        f"p99 {r.latency_ms.get('p99', 0)}",
        f"- tokens {r.tokens}, cost ${r.cost_usd:.4f}",
        f"- cache hit rate {r.cache_hit_rate:.1%}; abstention rate {r.abstention_rate:.1%} "
        f"of {r.answers} answers",
        f"- feedback: {r.feedback_up} up, {r.feedback_down} down",
        "",
        "## Top questions",
        *[f"- {n}x {q}" for q, n in r.top_questions],
        "",
        "## Documentation gaps (docsage abstained)",
        *[f"- {n}x {q}" for q, n in r.gaps],
    ]
    return "\n".join(lines) + "\n"
