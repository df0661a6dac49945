"""Fusion benchmark: how hybrid search's default fusion was chosen, and whether it holds on
questions it was not chosen on. Prints tables and rewrites the `fusion` part of BENCHMARKS.md.

    python benchmarks/fusion.py      # after benchmarks/retrieval.py has built .bench/home

The protocol: the dense weight a of z-score fusion (lexical weight 1 - a) is picked on one
half of conala-dev (odd lines) by the mean of six metrics (R@10, MRR@10, nDCG@10 at page
and anchor level) and scored on the other half; the same is done the other way round.
SciFact and the golden set (tests/data/golden, a made-up library) are never used to pick
anything. Every row runs docsage's real search over the benchmark index.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import WORK, Case, conala, python_docs, scifact
from report import Table, fmt, write_section
from retrieval import PREVIOUS, REPO_BENCH, RRF_PREVIOUS, docsage_runs, machine, score_run

from docsage.app import Docsage
from docsage.evals.dataset import load_dataset
from docsage.evals.stats import paired_bootstrap_diff
from docsage.settings import Settings

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "data" / "golden"
ALPHAS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9)
SIX = tuple(f"{lvl}.{m}" for lvl in ("page", "anchor") for m in ("recall@10", "mrr@10", "ndcg@10"))
Scores = dict[str, list[float]]
_DEFAULT = Settings()
DEFAULT_ALPHA = round(_DEFAULT.dense_weight / (_DEFAULT.dense_weight + _DEFAULT.lexical_weight), 2)


def zscore_env(alpha: float) -> dict[str, str]:
    return {"DOCSAGE_DENSE_WEIGHT": f"{alpha}", "DOCSAGE_LEXICAL_WEIGHT": f"{1 - alpha:.2f}"}


def golden() -> list[Case]:
    return [
        Case(c.id, c.question, c.gold_sources)
        for c in load_dataset(GOLDEN / "questions.jsonl")
        if c.answerable and c.gold_sources
    ]


CORPORA: dict[str, tuple[str, list[Case]]] = {}


def corpora() -> dict[str, tuple[str, list[Case]]]:
    """collection and cases of each corpus, ingested into the benchmark home once."""
    if not CORPORA:
        ds = Docsage(Settings.from_env(environ={}, home=WORK / "home"))
        folder, scifact_cases = scifact()
        for collection, root in (
            ("pydocs", python_docs()),
            ("scifact", folder),
            ("golden", GOLDEN / "docs"),
        ):
            ds.ingest(root, collection=collection)
        ds.close()
        CORPORA["conala"] = ("pydocs", conala())
        CORPORA["scifact"] = ("scifact", scifact_cases)
        CORPORA["golden"] = ("golden", golden())
    return CORPORA


def scores(env: Mapping[str, str], mode: str = "hybrid") -> dict[str, Scores]:
    """Per-case metric values of one configuration on every corpus."""
    ds = Docsage(Settings.from_env(environ=dict(env), home=WORK / "home"))
    try:
        return {
            name: score_run(docsage_runs(ds, cases, collection, mode)[0], cases)
            for name, (collection, cases) in corpora().items()
        }
    finally:
        ds.close()


def mean_of(values: Scores, keys: Sequence[str], rows: Sequence[int] | None = None) -> float:
    picked = [values[k] if rows is None else [values[k][i] for i in rows] for k in keys]
    return statistics.fmean(statistics.fmean(v) for v in picked)


def sweep_table(sweep: dict[float, dict[str, Scores]], references: dict[str, dict[str, Scores]]):
    table = Table(
        f"Dense weight a of z-score fusion (lexical 1 - a); the default is a = {DEFAULT_ALPHA}",
        [
            "system",
            "conala page.R@10",
            "conala page.nDCG",
            "conala anchor.R@10",
            "conala anchor.MRR",
            "conala anchor.nDCG",
            "SciFact nDCG@10",
            "golden anchor.MRR",
        ],
    )

    def add(name: str, s: dict[str, Scores]) -> None:
        cells = [
            ("conala", k)
            for k in (
                "page.recall@10",
                "page.ndcg@10",
                "anchor.recall@10",
                "anchor.mrr@10",
                "anchor.ndcg@10",
            )
        ]
        cells += [("scifact", "anchor.ndcg@10"), ("golden", "anchor.mrr@10")]
        table.add(name, *(fmt(statistics.fmean(s[c][k])) for c, k in cells))

    for name, s in references.items():
        add(name, s)
    for alpha, s in sweep.items():
        add(f"zscore a = {alpha}", s)
    return table


def held_out_table(sweep: dict[float, dict[str, Scores]], parts: dict[str, dict[str, Scores]]):
    n = len(corpora()["conala"][1])
    odd, even = list(range(0, n, 2)), list(range(1, n, 2))
    table = Table(
        "a chosen on one half of conala-dev, scored on the other half (never seen when choosing)",
        ["tuned on → scored on", "system", *SIX],
    )
    for tune, test, label in ((odd, even, "odd → even"), (even, odd, "even → odd")):
        best = max(ALPHAS, key=lambda a: mean_of(sweep[a]["conala"], SIX, tune))
        systems = {k: v["conala"] for k, v in parts.items()}
        systems[f"hybrid a = {best}"] = sweep[best]["conala"]
        for name, s in systems.items():
            table.add(label, name, *(fmt(statistics.fmean(s[k][i] for i in test)) for k in SIX))
    return table


def paired_table(default: dict[str, Scores], others: dict[str, dict[str, Scores]]):
    table = Table(
        "Default hybrid minus each alternative, paired bootstrap 95% CI (positive: default better)",
        ["corpus", "against", "metric", "difference", "95% CI"],
    )
    for corpus, keys in (
        ("conala", SIX),
        ("scifact", ("anchor.ndcg@10",)),
        ("golden", ("anchor.mrr@10", "anchor.ndcg@10")),
    ):
        for name, other in others.items():
            for key in keys:
                diff, low, high = paired_bootstrap_diff(other[corpus][key], default[corpus][key])
                table.add(corpus, name, key, f"{diff:+.3f}", f"[{low:+.3f}, {high:+.3f}]")
    return table


def main() -> None:
    started = time.perf_counter()
    parts = {"dense only": scores({}, "dense"), "lexical only": scores({}, "lexical")}
    references = {**parts, PREVIOUS.removeprefix("docsage "): scores(RRF_PREVIOUS)}
    sweep = {alpha: scores(zscore_env(alpha)) for alpha in ALPHAS}
    tables = [
        sweep_table(sweep, references),
        held_out_table(sweep, parts),
        paired_table(sweep[DEFAULT_ALPHA], references),
    ]
    text = "\n\n".join(t.markdown() for t in tables)
    print(text)
    header = (
        f"Machine: {machine()}. Command: `python benchmarks/fusion.py` "
        f"({time.perf_counter() - started:.0f} s). Date: {time.strftime('%Y-%m-%d')}. "
        "conala = conala-dev on the Python 3.11 docs; "
        f"golden = tests/data/golden ({len(golden())} answerable)."
    )
    write_section(REPO_BENCH, "fusion", header + "\n\n" + text)


if __name__ == "__main__":
    main()
