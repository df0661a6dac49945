"""The regression gate: absolute thresholds (``--fail-under``) and a paired baseline check.

``--fail-under METRIC=VALUE`` fails the run when the metric is worse than VALUE in the
metric's own direction: below it for scores, above it for latency, cost and error rate.
``--baseline RUN`` fails it when a per-case metric is significantly worse than in the
baseline on the same cases: the upper end of the paired bootstrap interval of
``candidate - baseline`` is below 0 (:func:`docsage.evals.stats.is_regression`).
Latency is left out of the baseline check by default: timings differ between machines
and between a loaded and an idle CI runner, and a quality gate that flips on machine load
teaches people to ignore it. Gate latency with an absolute ``--fail-under`` instead.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from docsage.errors import UsageError
from docsage.evals.stats import is_regression, paired_bootstrap_diff
from docsage.evals.summary import MetricSpec, Summary

NOT_BASELINE_GATED = ("latency.",)


@dataclass(frozen=True, slots=True)
class Threshold:
    metric: str
    value: float


def parse_thresholds(items: Sequence[str], specs: Mapping[str, MetricSpec]) -> list[Threshold]:
    """``["page.recall@10=0.8", ...]`` -> thresholds; bad syntax or names are UsageErrors."""
    out = []
    for item in items:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep:
            raise UsageError(f"--fail-under {item!r}: write METRIC=VALUE, e.g. page.recall@10=0.8")
        if name not in specs:
            raise UsageError(
                f"--fail-under: unknown metric {name!r}; valid names: {', '.join(specs)}"
            )
        try:
            out.append(Threshold(name, float(raw)))
        except ValueError as exc:
            raise UsageError(f"--fail-under {item!r}: {raw!r} is not a number") from exc
    return out


def check_thresholds(
    summary: Summary, thresholds: Sequence[Threshold], specs: Mapping[str, MetricSpec]
) -> list[str]:
    """One message per threshold the run misses; a metric the run did not measure misses."""
    failures = []
    for t in thresholds:
        row = summary["metrics"].get(t.metric)
        if row is None:
            failures.append(f"{t.metric} was not measured (no case it applies to)")
            continue
        value, better = row["value"], specs[t.metric].higher_is_better
        if (value < t.value) if better else (value > t.value):
            word = "below" if better else "above"
            failures.append(f"{t.metric} = {value:.4g} is {word} the threshold {t.value:g}")
    return failures


@dataclass(frozen=True, kw_only=True, slots=True)
class Comparison:
    """``candidate - baseline`` for one metric over the cases both runs scored."""

    metric: str
    n: int
    baseline: float
    candidate: float
    diff: float
    low: float
    high: float
    regression: bool
    higher_is_better: bool = True

    @property
    def improvement(self) -> bool:
        """Significantly better: the interval lies wholly on the good side of 0."""
        return self.low > 0.0 if self.higher_is_better else self.high < 0.0


def _paired(
    base: Mapping[str, Mapping[str, float]], cand: Mapping[str, Mapping[str, float]], metric: str
) -> tuple[list[float], list[float]]:
    ids = [i for i in base if i in cand and metric in base[i] and metric in cand[i]]
    return [base[i][metric] for i in ids], [cand[i][metric] for i in ids]


def compare(
    base: Mapping[str, Mapping[str, float]],
    cand: Mapping[str, Mapping[str, float]],
    specs: Mapping[str, MetricSpec],
) -> list[Comparison]:
    """Paired differences with bootstrap intervals for every per-case metric both runs have."""
    if not set(base) & set(cand):
        raise UsageError(
            "the two runs share no case ids, so they cannot be compared pairwise; "
            "run both on the same dataset"
        )
    rows = []
    for spec in specs.values():
        a, b = _paired(base, cand, spec.name)
        if not spec.per_case or not a:
            continue
        diff, low, high = paired_bootstrap_diff(a, b)
        rows.append(
            Comparison(
                metric=spec.name,
                n=len(a),
                baseline=sum(a) / len(a),
                candidate=sum(b) / len(b),
                diff=diff,
                low=low,
                high=high,
                regression=is_regression(a, b, higher_is_better=spec.higher_is_better),
                higher_is_better=spec.higher_is_better,
            )
        )
    return rows


def check_baseline(
    comparisons: Sequence[Comparison], skip_prefixes: Collection[str] = NOT_BASELINE_GATED
) -> list[str]:
    """One message per metric that regressed significantly against the baseline."""
    return [
        f"{c.metric} regressed: {c.baseline:.4g} -> {c.candidate:.4g} "
        f"(diff {c.diff:+.4g}, 95% CI {c.low:+.4g} .. {c.high:+.4g}, n={c.n})"
        for c in comparisons
        if c.regression and not c.metric.startswith(tuple(skip_prefixes))
    ]


def comparison_markdown(comparisons: Sequence[Comparison], label_a: str, label_b: str) -> str:
    lines = [
        f"## docsage eval compare: {label_a} -> {label_b}",
        "",
        "| metric | n | A | B | B - A | 95% CI | |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for c in comparisons:
        flag = "**worse**" if c.regression else "better" if c.improvement else ""
        lines.append(
            f"| `{c.metric}` | {c.n} | {c.baseline:.4g} | {c.candidate:.4g} | {c.diff:+.4g} "
            f"| {c.low:+.4g} .. {c.high:+.4g} | {flag} |"
        )
    return "\n".join(lines) + "\n"
