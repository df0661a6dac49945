"""Scores for an eval run: per-case metric values, bootstrap intervals, per-tag breakdown.

Every metric has a stable name (``page.recall@10``, ``abstention.f1``, ``latency.p95_ms``) that
``summary.json``, the ``--fail-under`` gate and ``compare`` share. Most are means of per-case
values, kept per case so two runs can be compared pairwise; a few (abstention precision and
F1, latency percentiles) are not means, and get their interval from a bootstrap of the
statistic itself.

A failed case is scored, never dropped: it retrieved and cited nothing (0 on every retrieval
and citation score), its answer neither resolves nor is grounded (0), it counts as a false
abstention on an answerable case and as a missed abstention on an unanswerable one, and
``errors.rate`` counts it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
import numpy.typing as npt

from docsage.evals import metrics as m
from docsage.evals.dataset import EvalCase
from docsage.evals.runner import CaseResult, EvalRun
from docsage.evals.stats import bootstrap_ci, percentile
from docsage.text import strip_citations

CUTOFF = 10  # MRR and nDCG are always reported at 10, the usual cut (MS MARCO, BEIR)
N_RESAMPLES = 1000
IntArray = npt.NDArray[np.int64]


class MetricRow(TypedDict):
    value: float
    low: float
    high: float
    n: int
    higher_is_better: bool


class Summary(TypedDict):
    """What ``summary.json`` holds."""

    run: dict[str, object]
    counts: dict[str, int]
    metrics: dict[str, MetricRow]
    tags: dict[str, dict[str, float]]
    errors: list[dict[str, str | None]]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    higher_is_better: bool
    help: str
    per_case: bool = True  # a mean of per-case values, so runs can be compared pairwise


def metric_specs(k: int) -> list[MetricSpec]:
    """Every metric a run at cut-off ``k`` can report, in report order."""
    specs = []
    for level in ("page", "anchor"):
        specs += [
            MetricSpec(f"{level}.recall@{k}", True, f"share of gold {level}s in the top {k}"),
            MetricSpec(f"{level}.precision@{k}", True, f"gold {level}s in the top {k} / {k}"),
            MetricSpec(f"{level}.hit@{k}", True, f"any gold {level} in the top {k}"),
            MetricSpec(f"{level}.mrr@{CUTOFF}", True, "1 / rank of the first gold"),
            MetricSpec(f"{level}.ndcg@{CUTOFF}", True, "rank-discounted gain, trec_eval form"),
        ]
    return [
        *specs,
        MetricSpec("citation.precision", True, "share of cited refs that are gold (ALCE-style)"),
        MetricSpec("citation.recall", True, "share of gold refs that are cited (ALCE-style)"),
        MetricSpec("citation.resolved", True, "answers whose every citation is a real chunk"),
        MetricSpec("groundedness.lexical", True, "answer sentences supported by their citation"),
        MetricSpec("groundedness.judge", True, "the same, judged by an LLM (when configured)"),
        MetricSpec("answer.token_f1", True, "token F1 vs reference: a change detector only"),
        MetricSpec("answer.rouge_l", True, "ROUGE-L vs reference: a change detector only"),
        MetricSpec("abstention.precision", True, "abstentions that were right", per_case=False),
        MetricSpec("abstention.recall", True, "unanswerable cases abstained on"),
        MetricSpec("abstention.f1", True, "F1 of the two above", per_case=False),
        MetricSpec("abstention.false_rate", False, "answerable cases abstained on"),
        MetricSpec("latency.mean_ms", False, "mean time of ask()"),
        MetricSpec("latency.p50_ms", False, "median time of ask()", per_case=False),
        MetricSpec("latency.p95_ms", False, "95th percentile time of ask()", per_case=False),
        MetricSpec("tokens.mean", False, "model tokens per question (when a model is used)"),
        MetricSpec("cost.mean_usd", False, "model cost per question (when a model is used)"),
        MetricSpec("errors.rate", False, "cases that raised instead of answering"),
    ]


def spec_table(k: int) -> dict[str, MetricSpec]:
    return {spec.name: spec for spec in metric_specs(k)}


# -- per case ----------------------------------------------------------------------------------


def _retrieval(retrieved: Sequence[str], gold: Sequence[str], k: int) -> dict[str, float]:
    out = {}
    for level, (ids, relevant) in (
        ("page", m.page_level(retrieved, gold)),
        ("anchor", m.anchor_level(retrieved, gold)),
    ):
        out[f"{level}.recall@{k}"] = m.recall_at_k(ids, relevant, k)
        out[f"{level}.precision@{k}"] = m.precision_at_k(ids, relevant, k)
        out[f"{level}.hit@{k}"] = m.hit_at_k(ids, relevant, k)
        out[f"{level}.mrr@{CUTOFF}"] = m.mrr_at_k(ids, relevant, CUTOFF)
        out[f"{level}.ndcg@{CUTOFF}"] = m.ndcg_at_k(ids, relevant, CUTOFF)
    return out


def _answerable(case: EvalCase, result: CaseResult, k: int) -> dict[str, float]:
    gold = case.gold_sources
    out = _retrieval(result.retrieved, gold, k)
    out["citation.precision"] = m.citation_precision(result.citations, gold)
    out["citation.recall"] = m.citation_recall(result.citations, gold)
    out["abstention.false_rate"] = float(result.abstained or result.error is not None)
    if case.reference_answer is not None:
        text = strip_citations(result.answer)
        out["answer.token_f1"] = m.token_f1(text, case.reference_answer)
        out["answer.rouge_l"] = m.rouge_l(text, case.reference_answer)
    return out


def _answer_quality(result: CaseResult, judged: bool) -> dict[str, float]:
    """Scores of a produced answer; a failed case scores 0 on each."""
    failed = result.error is not None
    out = {"citation.resolved": 0.0 if failed else float(bool(result.citations_resolve))}
    for name, value, wanted in (
        ("groundedness.lexical", result.groundedness, True),
        ("groundedness.judge", result.judge_groundedness, judged),
    ):
        if failed and wanted:
            out[name] = 0.0
        elif value is not None:
            out[name] = value
    return out


def case_metrics(
    case: EvalCase, result: CaseResult, k: int, *, judged: bool = False
) -> dict[str, float]:
    """Every per-case metric that applies to this case (see the module docstring)."""
    failed = result.error is not None
    out = {"errors.rate": float(failed), "latency.mean_ms": result.latency_ms}
    if case.answerable:
        out |= _answerable(case, result, k)
    else:
        out["abstention.recall"] = float(result.abstained and not failed)
    if failed or not result.abstained:
        out |= _answer_quality(result, judged)
    if result.tokens is not None:
        out["tokens.mean"] = float(result.tokens)
    if result.cost is not None:
        out["cost.mean_usd"] = result.cost
    return out


def run_case_metrics(run: EvalRun) -> dict[str, dict[str, float]]:
    """case id -> metric -> value, for every case of the run."""
    judged = run.config.get("judge") is not None
    return {
        case.id: case_metrics(case, result, run.k, judged=judged)
        for case, result in zip(run.cases, run.results, strict=True)
    }


# -- intervals ---------------------------------------------------------------------------------


def _interval(value: float, low: float, high: float, n: int, spec: MetricSpec) -> MetricRow:
    return MetricRow(value=value, low=low, high=high, n=n, higher_is_better=spec.higher_is_better)


def bootstrap_statistic(
    n: int, statistic: Callable[[IntArray], float | None], *, seed: int = 0, alpha: float = 0.05
) -> tuple[float, float] | None:
    """Percentile interval of a statistic that is not a mean, by resampling case indices.

    Resamples where the statistic is undefined (``None``) are left out; ``None`` if all are.
    """
    rng = np.random.default_rng(seed)
    values = [statistic(rng.integers(0, n, size=n)) for _ in range(N_RESAMPLES)]
    kept = [v for v in values if v is not None]
    if not kept:
        return None
    low, high = np.quantile(kept, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _abstention(run: EvalRun, field: str) -> Callable[[IntArray], float | None]:
    predicted = [r.abstained and r.error is None for r in run.results]
    should = [not c.answerable for c in run.cases]

    def statistic(idx: IntArray) -> float | None:
        scores = m.abstention_scores([predicted[i] for i in idx], [should[i] for i in idx])
        value = scores["precision"] if field == "precision" else scores["f1"]
        return value

    return statistic


def _latency(run: EvalRun, q: float) -> Callable[[IntArray], float | None]:
    latency = np.array([r.latency_ms for r in run.results], dtype=np.float64)
    return lambda idx: percentile(latency[idx].tolist(), q)


def _aggregate(run: EvalRun, specs: dict[str, MetricSpec]) -> dict[str, MetricRow]:
    """abstention precision and F1, latency percentiles: statistics over all cases."""
    stats = {
        "abstention.precision": _abstention(run, "precision"),
        "abstention.f1": _abstention(run, "f1"),
        "latency.p50_ms": _latency(run, 50),
        "latency.p95_ms": _latency(run, 95),
    }
    out: dict[str, MetricRow] = {}
    everything = np.arange(len(run.results))
    for name, statistic in stats.items():
        value = statistic(everything)
        interval = bootstrap_statistic(len(everything), statistic)
        if value is not None and interval is not None:
            out[name] = _interval(value, *interval, len(everything), specs[name])
    return out


def metric_table(run: EvalRun, per_case: dict[str, dict[str, float]]) -> dict[str, MetricRow]:
    """metric name -> {value, low, high, n, higher_is_better}, in report order."""
    specs = spec_table(run.k)
    table = _aggregate(run, specs)
    for spec in specs.values():
        values = [v[spec.name] for v in per_case.values() if spec.name in v]
        if spec.per_case and values:
            mean, low, high = bootstrap_ci(values, n_resamples=N_RESAMPLES)
            table[spec.name] = _interval(mean, low, high, len(values), spec)
    return {name: table[name] for name in specs if name in table}


def tag_breakdown(
    cases: Sequence[EvalCase], per_case: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    """tag -> {"n": cases, metric: mean over the tag's cases where it applies}."""
    by_tag: dict[str, list[str]] = {}
    for case in cases:
        for tag in case.tags or ("(untagged)",):
            by_tag.setdefault(tag, []).append(case.id)
    out = {}
    for tag, ids in sorted(by_tag.items()):
        row: dict[str, float] = {"n": float(len(ids))}
        names = dict.fromkeys(name for i in ids for name in per_case[i])
        for name in names:
            values = [per_case[i][name] for i in ids if name in per_case[i]]
            row[name] = sum(values) / len(values)
        out[tag] = row
    return out


def summarize(run: EvalRun, per_case: dict[str, dict[str, float]] | None = None) -> Summary:
    """The content of ``summary.json``."""
    per_case = per_case if per_case is not None else run_case_metrics(run)
    errors = [r for r in run.results if r.error is not None]
    return Summary(
        run={
            "collection": run.collection,
            "k": run.k,
            "mode": run.mode,
            "candidates": run.candidates,
            "index_version": run.index_version,
            "seconds": round(run.seconds, 3),
            **run.config,
        },
        counts={
            "cases": len(run.cases),
            "answerable": sum(1 for c in run.cases if c.answerable),
            "unanswerable": sum(1 for c in run.cases if not c.answerable),
            "abstained": sum(1 for r in run.results if r.abstained),
            "errors": len(errors),
        },
        metrics=metric_table(run, per_case),
        tags=tag_breakdown(run.cases, per_case),
        errors=[{"id": r.id, "error": r.error} for r in errors],
    )


# -- Markdown ----------------------------------------------------------------------------------

HEADLINE_TAG_METRICS = (
    "anchor.hit@{k}",
    "anchor.mrr@10",
    "page.recall@{k}",
    "citation.recall",
    "abstention.recall",
    "abstention.false_rate",
    "errors.rate",
)


def _num(value: object) -> str:
    if not isinstance(value, (int, float)):
        return "-"
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.3f}"


def _metrics_markdown(table: dict[str, MetricRow], k: int) -> list[str]:
    specs = spec_table(k)
    lines = ["| metric | value | 95% CI | n | |", "|---|---:|---|---:|---|"]
    for name, row in table.items():
        better = "higher is better" if specs[name].higher_is_better else "lower is better"
        lines.append(
            f"| `{name}` | {_num(row['value'])} | {_num(row['low'])} – {_num(row['high'])} "
            f"| {row['n']} | {specs[name].help}; {better} |"
        )
    return lines


def _tags_markdown(tags: dict[str, dict[str, float]], k: int) -> list[str]:
    names = [n.format(k=k) for n in HEADLINE_TAG_METRICS]
    lines = [
        "| tag | n | " + " | ".join(f"`{n}`" for n in names) + " |",
        "|---|---:|" + "---:|" * len(names),
    ]
    for tag, row in tags.items():
        cells = " | ".join(_num(row.get(n)) for n in names)
        lines.append(f"| {tag} | {row['n']:.0f} | {cells} |")
    return lines


def to_markdown(summary: Summary) -> str:
    """The summary as Markdown: counts, metric table, per-tag table, failed cases."""
    run, counts = summary["run"], summary["counts"]
    k = int(str(run["k"]))
    lines = [
        f"## docsage eval: {run['collection']} (k={k}, mode {run['mode']})",
        "",
        ", ".join(f"{n} {name}" for name, n in counts.items()),
        "",
        *_metrics_markdown(summary["metrics"], k),
        "",
        "### By tag",
        "",
        *_tags_markdown(summary["tags"], k),
    ]
    errors = summary["errors"]
    if errors:
        lines += ["", f"### Failed cases ({len(errors)})", ""]
        lines += [f"- `{e['id']}`: {e['error']}" for e in errors[:20]]
    return "\n".join(lines) + "\n"
