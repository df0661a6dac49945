"""Eval metrics: hand-computed cases, edge cases, and a randomized comparison against ranx."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from docsage.evals.metrics import (
    abstention_scores,
    anchor_level,
    citation_precision,
    citation_recall,
    citations_resolve,
    dedupe,
    hit_at_k,
    lcs_length,
    match_gold,
    mrr_at_k,
    ndcg_at_k,
    page_level,
    page_of,
    precision_at_k,
    recall_at_k,
    rouge_l,
    squad_normalize,
    to_page_level,
    token_f1,
)
from docsage.evals.stats import bootstrap_ci, is_regression, paired_bootstrap_diff, percentile

RETRIEVED = ["a", "b", "c", "d"]
RELEVANT = {"b", "d"}

# -- retrieval: hand-computed -------------------------------------------------------------------


def test_binary_metrics_by_hand() -> None:
    assert recall_at_k(RETRIEVED, RELEVANT, 2) == 0.5
    assert precision_at_k(RETRIEVED, RELEVANT, 2) == 0.5
    assert mrr_at_k(RETRIEVED, RELEVANT, 4) == 0.5
    assert hit_at_k(RETRIEVED, RELEVANT, 1) == 0.0
    assert hit_at_k(RETRIEVED, RELEVANT, 2) == 1.0
    assert recall_at_k(RETRIEVED, RELEVANT, 4) == 1.0
    assert precision_at_k(RETRIEVED, RELEVANT, 4) == 0.5


def test_ndcg_binary_by_hand() -> None:
    # DCG@4  = 1/log2(3) + 1/log2(5)       = 0.6309298 + 0.4306766 = 1.0616064
    # IDCG@4 = 1/log2(2) + 1/log2(3)       = 1.0       + 0.6309298 = 1.6309298
    # nDCG@4 = 1.0616064 / 1.6309298       = 0.6509209
    assert ndcg_at_k(RETRIEVED, RELEVANT, 4) == pytest.approx(0.6509209, abs=1e-7)


def test_ndcg_graded_uses_linear_gain() -> None:
    # qrels b=2, d=1. DCG@4 = 2/log2(3) + 1/log2(5) = 1.2618595 + 0.4306766 = 1.6925361
    # IDCG@4 = 2/log2(2) + 1/log2(3) = 2 + 0.6309298 = 2.6309298; nDCG = 0.6433224
    # (the 2^rel - 1 gain would give (3/log2(3) + 1/log2(5)) / (3 + 1/log2(3)) = 0.6399)
    assert ndcg_at_k(RETRIEVED, {"b": 2, "d": 1, "z": 0}, 4) == pytest.approx(0.6433224, abs=1e-7)


def test_ndcg_ideal_order_is_one_and_cut_applies_to_ideal() -> None:
    assert ndcg_at_k(["b", "d", "a"], RELEVANT, 3) == pytest.approx(1.0)
    # at k=1 the ideal list is cut too: IDCG@1 = 1, so a relevant first hit is perfect
    assert ndcg_at_k(["b", "a"], {"b", "d", "e"}, 1) == pytest.approx(1.0)


# -- retrieval: edge cases ----------------------------------------------------------------------


def test_empty_retrieved_scores_zero() -> None:
    for metric in (recall_at_k, precision_at_k, hit_at_k, mrr_at_k, ndcg_at_k):
        assert metric([], RELEVANT, 5) == 0.0


def test_no_relevant_is_undefined_for_recall_and_ndcg() -> None:
    with pytest.raises(ValueError, match="abstention_scores"):
        recall_at_k(RETRIEVED, set(), 2)
    with pytest.raises(ValueError, match="no relevant"):
        ndcg_at_k(RETRIEVED, {"a": 0}, 2)
    assert precision_at_k(RETRIEVED, set(), 2) == 0.0
    assert hit_at_k(RETRIEVED, set(), 2) == 0.0
    assert mrr_at_k(RETRIEVED, set(), 2) == 0.0


def test_k_larger_than_list_keeps_k_as_precision_denominator() -> None:
    assert precision_at_k(["b"], RELEVANT, 10) == 0.1
    assert recall_at_k(["b"], RELEVANT, 10) == 0.5
    assert ndcg_at_k(["b"], RELEVANT, 10) == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        precision_at_k(RETRIEVED, RELEVANT, 0)


def test_duplicates_are_dropped_keeping_first_occurrence() -> None:
    dup = ["b", "b", "a", "b", "d"]
    assert dedupe(dup) == ["b", "a", "d"]
    assert precision_at_k(dup, RELEVANT, 2) == 0.5  # top 2 is [b, a], not [b, b]
    assert recall_at_k(dup, RELEVANT, 3) == 1.0
    assert ndcg_at_k(dup, RELEVANT, 3) == ndcg_at_k(["b", "a", "d"], RELEVANT, 3)


@given(
    st.lists(st.sampled_from("abcdefgh"), max_size=12),
    st.sets(st.sampled_from("abcdefgh"), min_size=1),
    st.integers(1, 10),
)
def test_metric_invariants(retrieved: list[str], relevant: set[str], k: int) -> None:
    scores = [f(retrieved, relevant, k) for f in (recall_at_k, precision_at_k, mrr_at_k)]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert 0.0 <= ndcg_at_k(retrieved, relevant, k) <= 1.0 + 1e-12
    hits = precision_at_k(retrieved, relevant, k) * k
    assert hits == pytest.approx(recall_at_k(retrieved, relevant, k) * len(relevant))
    assert hit_at_k(retrieved, relevant, k) == float(mrr_at_k(retrieved, relevant, k) > 0)


# -- retrieval: randomized comparison against ranx (trec_eval definitions) ----------------------

RANX_METRICS = {
    "recall@10": recall_at_k,
    "precision@10": precision_at_k,
    "mrr@10": mrr_at_k,
    "ndcg@10": ndcg_at_k,
    "hit_rate@10": hit_at_k,
}
Case = tuple[list[str], dict[str, int]]


def _random_cases(n: int, seed: int) -> dict[str, Case]:
    rng = random.Random(seed)
    pool = [f"doc{i}" for i in range(30)]
    cases = {}
    for q in range(n):
        retrieved = rng.sample(pool, rng.randint(1, 20))
        qrels = {doc: rng.randint(1, 3) for doc in rng.sample(pool, rng.randint(1, 6))}
        cases[f"q{q}"] = (retrieved, qrels)
    return cases


@pytest.fixture(scope="module")
def ranx_run() -> tuple[dict[str, Case], dict[str, float], dict[str, dict[str, float]]]:
    """ranx's mean and per-query scores on 50 random queries (numba compiles once, here)."""
    from ranx import Qrels, Run, evaluate

    cases = _random_cases(50, seed=7)
    qrels = Qrels({q: dict(grades) for q, (_, grades) in cases.items()})
    run = Run({q: {d: 100.0 - i for i, d in enumerate(ret)} for q, (ret, _) in cases.items()})
    means = evaluate(qrels, run, list(RANX_METRICS))
    per_query = {m: {q: float(s) for q, s in run.scores[m].items()} for m in RANX_METRICS}
    return cases, {m: float(v) for m, v in means.items()}, per_query


# ranx's numba kernels emit NumbaTypeSafetyWarning (uint64 -> int64 cast) on first compile.
_RANX_WARNINGS = pytest.mark.filterwarnings("ignore::numba.core.errors.NumbaTypeSafetyWarning")


# slow: ranx JIT-compiles its metrics with numba on first use, about a minute on 2 cores.
@pytest.mark.slow
@_RANX_WARNINGS
def test_matches_ranx_per_query_and_mean(
    ranx_run: tuple[dict[str, Case], dict[str, float], dict[str, dict[str, float]]],
) -> None:
    cases, means, per_query = ranx_run
    for name, metric in RANX_METRICS.items():
        ours = {
            q: metric(ret, grades if name == "ndcg@10" else set(grades), 10)
            for q, (ret, grades) in cases.items()
        }
        for q, score in ours.items():
            assert score == pytest.approx(per_query[name][q], abs=1e-9), (name, q)
        assert float(np.mean(list(ours.values()))) == pytest.approx(means[name], abs=1e-9)


# -- ref levels ---------------------------------------------------------------------------------


def test_page_level_maps_then_dedupes() -> None:
    assert page_of("lib/os.html#os.path.join") == "lib/os.html"
    assert page_of("guide.md") == "guide.md"
    assert to_page_level(["p#a", "q#x", "p#b", "r"]) == ["p", "q", "r"]
    retrieved, gold = page_level(["p#a", "q#x", "p#b"], ["q#y", "s#z"])
    assert (retrieved, gold) == (["p", "q"], {"q", "s"})
    assert recall_at_k(retrieved, gold, 2) == 0.5


def test_match_gold_page_level_gold_matches_any_anchor() -> None:
    assert match_gold("p#a", "p#a")
    assert not match_gold("p#a", "p#b")
    assert match_gold("p#a", "p")
    assert match_gold("p", "p")
    assert not match_gold("p", "p#a")
    assert not match_gold("pp#a", "p")


def test_anchor_level_credits_page_gold_once_and_keeps_ranks() -> None:
    ids, relevant = anchor_level(["x#1", "p#a", "p#b", "q#c", "p#a"], ["p", "q#c"])
    assert relevant == {"p", "q#c"}
    assert ids == ["x#1", "p", "p#b", "q#c"]
    assert recall_at_k(ids, relevant, 2) == 0.5
    assert precision_at_k(ids, relevant, 4) == 0.5
    assert mrr_at_k(ids, relevant, 4) == 0.5


def test_anchor_level_prefers_exact_gold_and_never_repeats_a_gold_id() -> None:
    ids, relevant = anchor_level(["p#b", "p#a"], ["p", "p#a"])
    assert ids == ["p", "p#a"]
    ids, relevant = anchor_level(["p#a", "p"], ["p"])
    assert ids[0] == "p"
    assert ids[1] != "p" and ids[1] not in relevant
    assert precision_at_k(ids, relevant, 2) == 0.5


# -- citations ----------------------------------------------------------------------------------


def test_citation_precision_and_recall_by_hand() -> None:
    gold = ["p#a", "q"]
    cited = ["p#a", "q#z", "r#1", "p#a"]  # deduped: p#a (gold), q#z (page gold q), r#1 (miss)
    assert citation_precision(cited, gold) == pytest.approx(2 / 3)
    assert citation_recall(cited, gold) == 1.0
    assert citation_recall(["p#b"], gold) == 0.0


def test_citation_edge_cases() -> None:
    assert citation_precision([], ["p#a"]) == 0.0  # no citation earns no credit (ALCE)
    assert citation_recall([], ["p#a"]) == 0.0
    assert citation_precision(["p#a"], []) == 0.0
    with pytest.raises(ValueError, match="citation recall"):
        citation_recall(["p#a"], [])


def test_citations_resolve() -> None:
    known = {"p#a", "q#b"}
    assert citations_resolve(["p#a", "q#b"], known)
    assert not citations_resolve(["p#a", "p#zzz"], known)
    assert citations_resolve([], known)


# -- abstention ---------------------------------------------------------------------------------


def test_abstention_scores_by_hand() -> None:
    predicted = [True, True, False, False, True, False]
    should = [True, False, True, False, True, False]
    # TP = 2 (cases 0, 4), FP = 1 (case 1), FN = 1 (case 2); 3 unanswerable, 3 answerable
    scores = abstention_scores(predicted, should)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["f1"] == pytest.approx(2 / 3)
    assert scores["false_abstention_rate"] == pytest.approx(1 / 3)
    assert (scores["n_unanswerable"], scores["n_answerable"]) == (3, 3)


def test_abstention_undefined_fields_are_none_not_nan() -> None:
    no_unanswerable = abstention_scores([True, False], [False, False])
    assert no_unanswerable["recall"] is None and no_unanswerable["f1"] is None
    assert no_unanswerable["precision"] == 0.0
    assert no_unanswerable["false_abstention_rate"] == 0.5
    never_abstains = abstention_scores([False, False], [True, False])
    assert never_abstains["precision"] is None
    assert (never_abstains["recall"], never_abstains["f1"]) == (0.0, 0.0)
    all_unanswerable = abstention_scores([True], [True])
    assert all_unanswerable["false_abstention_rate"] is None
    assert all_unanswerable["f1"] == 1.0
    with pytest.raises(ValueError, match="one flag per case"):
        abstention_scores([True], [True, False])


# -- answer text --------------------------------------------------------------------------------


def test_token_f1_squad_definition() -> None:
    assert squad_normalize("The  Cat, sat!") == "cat sat"
    # pred -> [cat, sat, on, mat], ref -> [cat, sat]: P = 2/4, R = 2/2, F1 = 2/3
    assert token_f1("The cat sat on the mat.", "a cat sat") == pytest.approx(2 / 3)
    assert token_f1("cat cat", "cat") == pytest.approx(2 / 3)  # multiset: common = 1
    assert token_f1("dog", "cat") == 0.0
    assert token_f1("the", "a") == 1.0  # both normalise to nothing (SQuAD v2.0 rule)
    assert token_f1("", "cat") == 0.0


def test_rouge_l_lin_2004_examples() -> None:
    # Lin 2004 sec. 3.1: S1 reference, S2 and S3 candidates.
    s1, s2, s3 = "police killed the gunman", "police kill the gunman", "the gunman kill police"
    assert lcs_length(s1.split(), s2.split()) == 3  # police, the, gunman
    assert rouge_l(s2, s1) == pytest.approx(0.75)
    assert rouge_l(s3, s1) == pytest.approx(0.5)  # LCS "the gunman"
    # pred 7 tokens, ref 6, LCS 6: P = 6/7, R = 1, F = 2·(6/7) / (13/7) = 12/13
    assert rouge_l("The cat was found under the bed", "the cat was under the bed") == (
        pytest.approx(12 / 13)
    )
    assert rouge_l("", "cat") == 0.0
    assert rouge_l("dog", "cat") == 0.0


# -- stats --------------------------------------------------------------------------------------


def test_bootstrap_ci_is_deterministic_and_brackets_the_mean() -> None:
    values = [float(i % 2) for i in range(400)]
    mean, low, high = bootstrap_ci(values, seed=3)
    assert mean == 0.5
    assert low < mean < high
    assert bootstrap_ci(values, seed=3) == (mean, low, high)
    # half width ~ 1.96 * 0.5 / sqrt(400) = 0.049
    assert 0.04 < (high - low) / 2 < 0.06
    assert bootstrap_ci([0.7, 0.7, 0.7]) == pytest.approx((0.7, 0.7, 0.7))


def test_bootstrap_blocks_give_the_same_shape_of_answer() -> None:
    # 5000 cases x 1000 resamples is drawn in two blocks; the interval is still sane
    values = np.random.default_rng(0).normal(1.0, 1.0, 5000)
    mean, low, high = bootstrap_ci(list(values))
    assert low < mean < high
    assert (high - low) / 2 == pytest.approx(1.96 / math.sqrt(5000), rel=0.15)


def test_bootstrap_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        bootstrap_ci([])
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_ci([1.0, float("nan")])
    with pytest.raises(ValueError, match="alpha"):
        bootstrap_ci([1.0], alpha=1.5)


def test_paired_bootstrap_diff() -> None:
    base = [0.2, 0.5, 0.9, 0.4, 0.6] * 20
    cand = [v + 0.1 for v in base]
    diff, low, high = paired_bootstrap_diff(base, cand)
    assert (diff, low, high) == pytest.approx((0.1, 0.1, 0.1))  # constant paired difference
    with pytest.raises(ValueError, match="same cases"):
        paired_bootstrap_diff([1.0, 2.0], [1.0])


def test_is_regression() -> None:
    rng = np.random.default_rng(1)
    base = list(rng.uniform(0.4, 0.9, 200))
    worse = [v - 0.05 + float(rng.normal(0, 0.02)) for v in base]
    noise = [v + float(rng.normal(0, 0.02)) for v in base]
    assert is_regression(base, worse)
    assert not is_regression(base, noise)
    assert not is_regression(worse, base)
    slower = [v * 1000 + 30 for v in base]  # latency in ms: higher is worse
    assert is_regression([v * 1000 for v in base], slower, higher_is_better=False)


def test_percentile_linear_interpolation() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    # position (5 - 1) * 0.9 = 3.6 -> 40 + 0.6 * (50 - 40) = 46
    assert percentile([50, 10, 40, 20, 30], 90) == pytest.approx(46.0)
    assert percentile([7.0], 99) == 7.0
    # Worked by hand rather than compared with numpy, which the implementation calls.
    # 11 values: position (11 - 1) * q / 100 lands on ranks for 0, 50, 100, between them for 95.
    values = [float(v) for v in (9, 0, 8, 1, 7, 2, 6, 3, 5, 4, 10)]
    assert [percentile(values, q) for q in (0, 50, 100)] == [0.0, 5.0, 10.0]
    assert percentile(values, 95) == pytest.approx(9.5)
    assert percentile(values, 99) == pytest.approx(9.9)
    with pytest.raises(ValueError, match="q must be"):
        percentile([1.0], 101)
