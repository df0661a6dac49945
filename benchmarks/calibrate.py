"""Fit the extractive answerer's confidence model and abstention threshold on data.

Answerable: the 149 conala-dev questions (Python 3.11 docs). Unanswerable: the 60 questions
in benchmarks/data/python-docs-unanswerable.jsonl (other languages, tools, third-party
libraries, off-topic), written for this purpose. Features come from the same retrieval path
``docsage ask`` uses. A logistic regression (Newton's method) maps features to a probability
that the docs cover the question; the threshold maximises abstention F1. Two-fold cross-
validation reports how the fitted rule does on questions it was not fitted on.

    python benchmarks/calibrate.py     # needs the index built by benchmarks/retrieval.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import WORK, conala
from report import Table, write_section

from docsage.answer.extractive import CONFIDENCE_DEPTH, confidence_features
from docsage.app import Docsage
from docsage.evals.metrics import abstention_scores
from docsage.retrieve import SearchOptions
from docsage.settings import Settings

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "src" / "docsage" / "answer" / "calibration.json"


def features(ds: Docsage, questions: list[str]) -> np.ndarray:
    rows = []
    for question in questions:
        hits = ds.retriever.search(question, "pydocs", SearchOptions(k=CONFIDENCE_DEPTH)).hits
        rows.append(confidence_features(question, hits))
    return np.asarray(rows, dtype=np.float64)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 50) -> np.ndarray:
    """Weights (w..., bias) of an L2-regularised logistic regression, by Newton's method."""
    design = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(design.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-design @ w))
        grad = design.T @ (p - y) + l2 * w
        hess = design.T @ (design * (p * (1 - p))[:, None]) + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w


def probabilities(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ w[:-1] + w[-1])))


def best_threshold(p: np.ndarray, answerable: np.ndarray) -> float:
    candidates = np.unique(np.round(p, 4))

    def f1(t: float) -> float:
        scores = abstention_scores(list(p < t), list(~answerable))
        return scores["f1"] or 0.0

    return float(max(candidates, key=f1))


def main() -> None:
    ds = Docsage(Settings.from_env(environ={}, home=WORK / "home"))
    answerable = [c.question for c in conala()]
    lines = (HERE / "data" / "python-docs-unanswerable.jsonl").read_text().splitlines()
    unanswerable = [json.loads(line)["question"] for line in lines]
    x = features(ds, answerable + unanswerable)
    y = np.array([1.0] * len(answerable) + [0.0] * len(unanswerable))
    ans = y.astype(bool)
    rng = np.random.default_rng(0)
    fold = rng.permutation(len(y)) % 2
    held_out = []
    for k in (0, 1):
        train, test = fold != k, fold == k
        w = fit_logistic(x[train], y[train])
        t = best_threshold(probabilities(x[train], w), ans[train])
        held_out.append(abstention_scores(list(probabilities(x[test], w) < t), list(~ans[test])))
    w = fit_logistic(x, y)
    t = best_threshold(probabilities(x, w), ans)
    fitted = abstention_scores(list(probabilities(x, w) < t), list(~ans))
    result = {
        "w_dense": round(float(w[0]), 4),
        "w_coverage": round(float(w[1]), 4),
        "bias": round(float(w[2]), 4),
        "threshold": round(t, 4),
        "fitted_on": f"{len(answerable)} conala-dev + {len(unanswerable)} unanswerable "
        "questions, Python 3.11 docs",
        "abstention_on_fit_data": fitted,
        "abstention_two_fold_held_out": held_out,
        "command": "python benchmarks/calibrate.py",
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    write_section(HERE.parent / "BENCHMARKS.md", "abstention", abstention_table(result))


def abstention_table(result: dict[str, object]) -> str:
    table = Table(
        "Abstention of the extractive answerer (confidence model fitted by logistic regression)",
        ["evaluated on", "precision", "recall", "F1", "false-abstention rate"],
    )
    rows = [("fit data (all 209)", result["abstention_on_fit_data"])]
    held = result["abstention_two_fold_held_out"]
    assert isinstance(held, list)
    rows += [(f"held-out fold {i + 1}", scores) for i, scores in enumerate(held)]
    for name, scores in rows:
        assert isinstance(scores, dict)
        table.add(
            name,
            *(f"{scores[k]:.2f}" for k in ("precision", "recall", "f1", "false_abstention_rate")),
        )
    return (
        "Command: `python benchmarks/calibrate.py`. Answerable: conala-dev (149); unanswerable: "
        "benchmarks/data/python-docs-unanswerable.jsonl (60). Threshold "
        f"{result['threshold']}.\n\n" + table.markdown()
    )


if __name__ == "__main__":
    main()
