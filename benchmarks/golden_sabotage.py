"""The golden set's sabotage table (tests/test_golden_sabotage.py's docstring): the default
configuration and each deliberate break, scored on the golden questions.

    python benchmarks/golden_sabotage.py

Ingests tests/data/golden/docs into .bench/golden-home (once) and prints one line per run:
anchor hit@10, MRR@10, nDCG@10, citation recall, groundedness, false-abstention rate and
abstention recall.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from docsage.evals.summary import summarize
from golden_support import GOLDEN, open_golden, run_golden
from test_golden_sabotage import DEFAULTS, CitationsDropped, without_dense_list

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / ".bench" / "golden-home"
RUNS: dict[str, dict[str, Any]] = {
    "default": {},
    "dense list gone": {"wrap": without_dense_list},
    "dense weight 0": {"dense_weight": 0.0},
    "lexical/dense flipped": {"lexical_weight": DEFAULTS.dense, "dense_weight": DEFAULTS.lexical},
    "reranker off": {"reranker": "none"},
    "link and title priors 0": {"link_prior": 0.0, "title_prior": 0.0},
    "citations dropped": {"cls": CitationsDropped},
}
METRICS = (
    "anchor.hit@10",
    "anchor.mrr@10",
    "anchor.ndcg@10",
    "citation.recall",
    "groundedness.lexical",
    "abstention.false_rate",
    "abstention.recall",
)


def main() -> None:
    with open_golden(HOME) as ds:
        ds.ingest(GOLDEN / "docs", collection="golden")
    print(f"    {'run':24} " + "  ".join(m.split(".")[-1] for m in METRICS))
    for name, changes in RUNS.items():
        metrics = summarize(run_golden(HOME, **changes))["metrics"]
        values = [metrics.get(m, {}).get("value") for m in METRICS]
        print(f"    {name:24} " + "  ".join("-" if v is None else f"{v:.3f}" for v in values))


if __name__ == "__main__":
    main()
