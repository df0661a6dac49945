"""The golden gate catches what it claims: each component the pipeline relies on is broken on
purpose, through public arguments only, and the same gate function the CI applies
(``golden_support.gate_failures``, the ``--fail-under`` checks) must fail the run on the
metric that component is responsible for.

Measured on the 100-case golden set (86 answerable), default and each sabotage:

    run                      hit@10  mrr@10  ndcg@10  cit.recall  grounded  abst.false_rate
    default                  1.000   0.871   0.889    0.831       1.000     0.081
    dense list gone          0.942   0.801   0.823    0.000       -         1.000 (all abstain)
    dense weight 0           0.942   0.804   0.826    0.715       1.000     0.151
    lexical/dense flipped    0.977   0.848   0.868    0.773       1.000     0.105
    reranker off             1.000   0.825   0.855    0.820       1.000     0.081
    citations dropped        1.000   0.871   0.889    0.000       0.000     0.081
    gate                     0.98    0.855   0.87     0.81        0.95      0.1

Not a sabotage here: the link and heading priors. Turning both off (link_prior=0,
title_prior=0) leaves every retrieval score of this set unchanged (the FAQ questions asked
in their headings' words rank first on their words alone, and no lookup here depends on an
in-link count), so the gate does not claim to guard them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from docsage.app import Docsage
from docsage.evals.runner import EvalRun
from docsage.evals.summary import run_case_metrics, summarize
from docsage.retrieve import FusionWeights, Retriever
from docsage.types import Answer
from golden_support import N_ANSWERABLE, gate_failures, run_golden, tripped

pytestmark = pytest.mark.slow

DEFAULTS = FusionWeights()


def without_dense_list(good: Retriever) -> Retriever:
    """The retriever with its embedder gone: hybrid search over the lexical list alone,
    as if the vectors were never written or the embedder failed to load."""
    return Retriever(good.store, None, weights=good.weights, reranker=good.reranker)


class CitationsDropped(Docsage):
    """Answers keep their text, ``[n]`` markers included, but lose their citations."""

    def ask(self, question: str, **kwargs: Any) -> Answer:
        return replace(super().ask(question, **kwargs), citations=())


def test_the_golden_set_is_large_enough_that_one_case_is_noise(golden_run: EvalRun) -> None:
    assert N_ANSWERABLE >= 60  # one answerable case moves a rate by at most 1/60
    assert gate_failures(summarize(golden_run)) == []


def test_dense_path_gone_trips_retrieval_and_abstention(golden_home: Path) -> None:
    summary = summarize(run_golden(golden_home, wrap=without_dense_list))
    failures = tripped(gate_failures(summary))
    # Paraphrased questions lose their section; and with no cosine to go on, the calibrated
    # confidence falls under the threshold for every question.
    assert {"anchor.hit@10", "anchor.mrr@10", "abstention.false_rate"} <= failures, failures
    assert summary["metrics"]["abstention.false_rate"]["value"] == 1.0


def test_dense_weight_zero_trips_retrieval(golden_home: Path) -> None:
    """The dense list still computed (so the answer's confidence still has its cosine) but
    given no weight in fusion: the ranking alone must trip the gate."""
    failures = tripped(gate_failures(summarize(run_golden(golden_home, dense_weight=0.0))))
    assert {"anchor.hit@10", "anchor.mrr@10", "citation.recall"} <= failures, failures


def test_fusion_weights_flipped_trips_ranking_and_citations(golden_home: Path) -> None:
    run = run_golden(golden_home, lexical_weight=DEFAULTS.dense, dense_weight=DEFAULTS.lexical)
    failures = tripped(gate_failures(summarize(run)))
    assert {"anchor.hit@10", "anchor.mrr@10", "citation.recall"} <= failures, failures


def test_reranker_off_trips_mrr(golden_home: Path, golden_run: EvalRun) -> None:
    run = run_golden(golden_home, rerank=False)
    failures = tripped(gate_failures(summarize(run)))
    assert "anchor.mrr@10" in failures, failures
    # What it costs: questions that name an API, whose other words match a guide section.
    base, off = run_case_metrics(golden_run), run_case_metrics(run)
    worse = {
        c.id
        for c in run.cases
        if off[c.id].get("anchor.mrr@10", 1) < base[c.id].get("anchor.mrr@10", 1)
    }
    assert worse and all("identifier" in c.tags for c in run.cases if c.id in worse), worse


def test_citations_dropped_trips_citation_scores_only(
    golden_home: Path, golden_run: EvalRun
) -> None:
    run = run_golden(golden_home, CitationsDropped)
    summary = summarize(run)
    assert tripped(gate_failures(summary)) == {"citation.recall", "groundedness.lexical"}
    # The text and the retrieval are untouched: only what the answer cites changed.
    assert [r.answer for r in run.results] == [r.answer for r in golden_run.results]
    assert [r.retrieved for r in run.results] == [r.retrieved for r in golden_run.results]
