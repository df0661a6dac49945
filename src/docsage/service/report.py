"""``docsage report``: traffic, latency, cost, cache and abstention rates, feedback, top
questions, and the questions docsage could not answer (documentation gaps)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from docsage.errors import UsageError
from docsage.evals.stats import percentile
from docsage.service.db import SideStore

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


class ReportReader(SideStore):
    def report(self, since: float, top: int = 10) -> Report:
        rows = self._read(
            "SELECT route, status, total_ms, input_tokens + output_tokens, cost_usd, cache_hit,"
            " abstained FROM requests WHERE created_at >= ?",
            (since,),
        )
        out = Report(since=since, requests=len(rows))
        for route, *_ in rows:
            out.by_route[route] = out.by_route.get(route, 0) + 1
        ok = [r for r in rows if r[1] < 400]
        out.errors = len(rows) - len(ok)
        latencies = [float(r[2]) for r in ok]
        # The eval harness's percentile (linear interpolation): one definition everywhere.
        out.latency_ms = {
            f"p{q}": round(percentile(latencies, q), 2) if latencies else 0.0 for q in (50, 95, 99)
        }
        out.tokens = sum(int(r[3]) for r in ok)
        out.cost_usd = sum(float(r[4]) for r in ok)
        out.cache_hit_rate = sum(1 for r in ok if r[5]) / len(ok) if ok else 0.0
        answers = [r for r in ok if r[6] is not None]
        out.answers = len(answers)
        out.abstention_rate = sum(1 for r in answers if r[6]) / len(answers) if answers else 0.0
        out.feedback_up, out.feedback_down = self._feedback(since)
        out.top_questions = self._questions(since, "", top)
        out.gaps = self._questions(since, "AND abstained = 1", top * 5)
        return out

    def _feedback(self, since: float) -> tuple[int, int]:
        rows = self._read(
            "SELECT sum(rating > 0), sum(rating < 0) FROM feedback WHERE created_at >= ?", (since,)
        )
        return int(rows[0][0] or 0), int(rows[0][1] or 0)

    def _questions(self, since: float, where: str, limit: int) -> list[tuple[str, int]]:
        rows = self._read(
            "SELECT lower(trim(question)) AS q, count(*) AS n FROM requests"
            f" WHERE created_at >= ? AND question IS NOT NULL AND route IN ('ask', 'chat') {where}"
            " GROUP BY q ORDER BY n DESC, q LIMIT ?",
            (since, limit),
        )
        return [(str(q), int(n)) for q, n in rows]


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
