"""Fit the answerers' confidence model and abstention threshold on data, and show how it
transfers to corpora it was not fitted on.

Three corpora, each with answerable questions and unanswerable controls:
- python: the 149 conala-dev questions (answerable) and the 60 questions in
  benchmarks/data/python-docs-unanswerable.jsonl (other languages, tools, third-party
  libraries, off-topic), over the Python 3.11 docs;
- sqlalchemy: the SQLAlchemy FAQ dev set (36 answerable, 10 controls), over the SQLAlchemy
  docs with the FAQ pages in and, as a second index, left out (so an answerable question's
  answer must come from the rest of the docs);
- git: the git FAQ dev set (20 answerable, 11 controls), over the git docs, FAQ in and out.
The golden set (tests/data/golden: 16 pages of a made-up project, 99 answerable questions and
60 controls) is never fitted on: it is scored as a small corpus, where many ordinary words
of an answerable question are missing from the docs.
Features come from the same retrieval path ``docsage ask`` uses (``answer/confidence.py``).
A logistic regression (Newton's method) maps them to a probability that the docs cover the
question; the threshold maximises abstention F1 on the fit data. Transfer: the model is
fitted on two corpora and scored on the third (each in turn); the shipped model is fitted on
all three.

    python benchmarks/calibrate.py   # needs the indexes of retrieval.py and answers.py
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import BENCH, WORK, conala, faq_cases
from report import Table, write_section

from docsage.answer.confidence import CONFIDENCE_DEPTH, confidence_features, unknown_terms
from docsage.app import Docsage
from docsage.evals.metrics import abstention_scores
from docsage.retrieve import SearchOptions
from docsage.settings import Settings

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "src" / "docsage" / "answer" / "calibration.json"
GOLDEN = HERE.parent / "tests" / "data" / "golden"
FITTED = ("python", "sqlalchemy", "git")
FEATURES = ("w_dense", "w_coverage", "w_unknown")


@dataclass(frozen=True)
class Question:
    corpus: str  # what transfer is measured across
    index: str  # the collection searched (a corpus may have two: FAQ pages in and out)
    text: str
    answerable: bool


def questions() -> list[Question]:
    lines = (HERE / "data" / "python-docs-unanswerable.jsonl").read_text().splitlines()
    out = [Question("python", "pydocs", c.question, True) for c in conala()]
    out += [Question("python", "pydocs", json.loads(line)["question"], False) for line in lines]
    for corpus, path, index in (
        ("sqlalchemy", "sqlalchemy-faq.jsonl", "sqlalchemy"),
        ("git", "git-faq.jsonl", "gitdocs"),
    ):
        for case in faq_cases(BENCH / path):
            for collection in (index, index + "-nofaq"):
                out.append(Question(corpus, collection, case.question, case.answerable))
    return out


def golden_questions(ds: Docsage) -> list[Question]:
    ds.ingest(GOLDEN / "docs", collection="golden")  # incremental: a no-op once indexed
    lines = (GOLDEN / "questions.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    return [Question("golden", "golden", r["question"], r.get("answerable", True)) for r in rows]


def features(ds: Docsage, asked: list[Question]) -> np.ndarray:
    rows = []
    for q in asked:
        hits = ds.retriever.search(q.text, q.index, SearchOptions(k=CONFIDENCE_DEPTH)).hits
        unknown = unknown_terms(ds.store, q.index, q.text)
        rows.append(confidence_features(q.text, hits, unknown))
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


def fit(x: np.ndarray, answerable: np.ndarray) -> tuple[np.ndarray, float]:
    w = fit_logistic(x, answerable.astype(np.float64))
    return w, best_threshold(probabilities(x, w), answerable)


def rates(abstains: np.ndarray, answerable: np.ndarray) -> dict[str, float | int]:
    """Abstention on the answerable questions (want low) and on the controls (want high)."""
    return {
        "abstains_answerable": round(float(abstains[answerable].mean()), 3),
        "abstains_controls": round(float(abstains[~answerable].mean()), 3),
        "n_answerable": int(answerable.sum()),
        "n_controls": int((~answerable).sum()),
        **{
            k: v
            for k, v in abstention_scores(list(abstains), list(~answerable)).items()
            if k in ("precision", "recall", "f1")
        },
    }


def by_index(
    asked: list[Question], p: np.ndarray, t: float, answerable: np.ndarray, corpus: str
) -> dict[str, dict[str, float | int]]:
    return {
        index: rates(p[m] < t, answerable[m])
        for index in sorted({q.index for q in asked if q.corpus == corpus})
        if (m := np.array([q.index == index for q in asked])).any()
    }


def main() -> None:
    ds = Docsage(Settings.from_env(environ={}, home=WORK / "home"))
    asked = questions() + golden_questions(ds)
    x = features(ds, asked)
    answerable = np.array([q.answerable for q in asked])
    corpora = np.array([q.corpus for q in asked])
    held_out = {}
    for corpus in FITTED:
        fit_on = (corpora != corpus) & (corpora != "golden")
        w, t = fit(x[fit_on], answerable[fit_on])
        held_out[corpus] = by_index(asked, probabilities(x, w), t, answerable, corpus)
    fit_on = corpora != "golden"
    w, t = fit(x[fit_on], answerable[fit_on])
    p = probabilities(x, w)
    fitted = {c: by_index(asked, p, t, answerable, c) for c in FITTED}
    held_out["golden"] = by_index(asked, p, t, answerable, "golden")
    result = {
        **{name: round(float(v), 4) for name, v in zip(FEATURES, w[:-1], strict=True)},
        "bias": round(float(w[-1]), 4),
        "threshold": round(t, 4),
        "fitted_on": "python (149 conala-dev + 60 unanswerable, Python 3.11 docs), sqlalchemy"
        " and git FAQ dev sets (answerable + controls, FAQ pages in and left out)",
        "abstention_on_fit_data": fitted,
        "abstention_held_out_corpus": held_out,
        "command": "python benchmarks/calibrate.py",
    }
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    write_section(HERE.parent / "BENCHMARKS.md", "abstention", abstention_table(result))


def abstention_table(result: dict[str, object]) -> str:
    table = Table(
        "Abstention of the answerers (confidence model fitted by logistic regression)",
        ["fitted on", "scored on", "abstains: answerable", "abstains: controls", "F1"],
    )
    held, fitted = result["abstention_held_out_corpus"], result["abstention_on_fit_data"]
    assert isinstance(held, dict) and isinstance(fitted, dict)
    for corpus, indexes in held.items():
        others = " + ".join(c for c in FITTED if c != corpus)
        for index, r in indexes.items():
            table.add(others, f"**{index}** (held out)", *_cells(r))
    for indexes in fitted.values():
        for index, r in indexes.items():
            table.add("all three", index, *_cells(r))
    return (
        "Command: `python benchmarks/calibrate.py`. Goals: abstain on <= 0.10 of answerable"
        " questions and >= 0.80 of controls. Threshold of the shipped model (fitted on all"
        f" three): {result['threshold']}. The golden set is never fitted on: its row is the"
        " shipped model's.\n\n" + table.markdown()
    )


def _cells(r: dict[str, float | int]) -> tuple[str, str, str]:
    return (
        f"{r['abstains_answerable']:.2f} ({r['n_answerable']})",
        f"{r['abstains_controls']:.2f} ({r['n_controls']})",
        f"{r['f1']:.2f}" if r["f1"] is not None else "-",
    )


if __name__ == "__main__":
    main()
