"""The fusion functions against hand-computed values and their stated properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from docsage.errors import ConfigError
from docsage.fusion import FUSIONS, FusionInput, get_fusion, rrf_fuse, zscore_fuse


def _input(
    lexical: list[tuple[str, float]],
    dense: list[tuple[str, float]],
    extra: dict[str, float] | None = None,
    weights: tuple[float, float] = (1.0, 3.0),
) -> FusionInput:
    return FusionInput(
        lexical=lexical,
        dense=dense,
        dense_extra=extra or {},
        lexical_weight=weights[0],
        dense_weight=weights[1],
        rrf_k=60.0,
    )


# -- rrf_fuse -----------------------------------------------------------------------------


def test_rrf_hand_computed() -> None:
    scores = rrf_fuse([["a", "b", "c"], ["c", "a"]], [1.0, 1.0])
    assert scores == pytest.approx({"a": 1 / 61 + 1 / 62, "b": 1 / 62, "c": 1 / 63 + 1 / 61})
    assert sorted(scores, key=lambda d: -scores[d]) == ["a", "c", "b"]


def test_rrf_weights_and_k() -> None:
    scores = rrf_fuse([["a", "b"], ["b", "a"]], [2.0, 0.5], rrf_k=10)
    assert scores == pytest.approx({"a": 2 / 11 + 0.5 / 12, "b": 2 / 12 + 0.5 / 11})
    assert rrf_fuse([["a"], ["b"]], [1.0, 0.0]) == pytest.approx({"a": 1 / 61, "b": 0.0})
    assert rrf_fuse([["a", "b"]], [1.0], rrf_k=0) == pytest.approx({"a": 1.0, "b": 0.5})


def test_rrf_edge_cases() -> None:
    assert rrf_fuse([], []) == {}
    assert rrf_fuse([[], []], [1.0, 1.0]) == {}
    with pytest.raises(ValueError):
        rrf_fuse([["a"], ["b"]], [1.0])


ranked_list = st.lists(st.sampled_from("abcdefgh"), unique=True, max_size=8)


@given(st.lists(ranked_list, min_size=1, max_size=4), st.floats(0.0, 5.0), st.floats(1.0, 100.0))
def test_rrf_matches_its_formula(lists: list[list[str]], weight: float, k: float) -> None:
    scores = rrf_fuse(lists, [weight] * len(lists), rrf_k=k)
    for doc in {d for ranked in lists for d in ranked}:
        expected = sum(weight / (k + ranked.index(doc) + 1) for ranked in lists if doc in ranked)
        assert scores[doc] == pytest.approx(expected)
    assert set(scores) == {d for ranked in lists for d in ranked}


@given(ranked_list, ranked_list)
def test_rrf_a_document_ahead_in_both_lists_stays_ahead(
    first: list[str], second: list[str]
) -> None:
    scores = rrf_fuse([first, second], [1.0, 1.0])
    for x in scores:
        for y in scores:
            ahead_everywhere = all(
                (x in r) and (y not in r or r.index(x) < r.index(y)) for r in (first, second)
            )
            if ahead_everywhere and x != y:
                assert scores[x] > scores[y]


# -- zscore_fuse ----------------------------------------------------------------------------


def test_zscore_hand_computed() -> None:
    # dense: mean 0.7, std 0.2 -> z(c) = 1, z(a) = -1, exact z(b) = (0.1 - 0.7) / 0.2 = -3
    # lexical: mean 2, std 1 -> z(a) = 1, z(b) = -1, c missing -> lowest (1.0) -> -1
    # a = 3 / (1 + 3): c = 0.75 - 0.25 = 0.5, a = -0.75 + 0.25 = -0.5, b = -2.25 - 0.25 = -2.5
    fused = zscore_fuse(_input([("a", 3.0), ("b", 1.0)], [("c", 0.9), ("a", 0.5)], {"b": 0.1}))
    assert fused == pytest.approx({"c": 1.0, "a": 2 / 3, "b": 0.0})


def test_zscore_missing_dense_score_takes_the_lists_lowest() -> None:
    # b without an exact cosine takes the dense list's lowest, 0.5 -> z = -1 -> f = -1
    fused = zscore_fuse(_input([("a", 3.0), ("b", 1.0)], [("c", 0.9), ("a", 0.5)]))
    assert fused == pytest.approx({"c": 1.0, "a": 1 / 3, "b": 0.0})


def test_zscore_keeps_how_far_a_match_stands_out() -> None:
    # RRF sees only ranks: "x" leads dense by a wide margin and is 3rd lexically by a hair,
    # "y" leads lexically and is 2nd in dense. z-score fusion keeps both margins and ranks
    # "x" first; RRF ranks "y" first (1/61 + 1/62 > 1/63 + 1/61).
    lexical = [("y", 10.0), ("p", 9.9), ("x", 9.8), ("q", 5.0), ("r", 4.0)]
    dense = [("x", 0.9), ("y", 0.4), ("p", 0.35), ("q", 0.3), ("r", 0.3)]
    fused = zscore_fuse(_input(lexical, dense, weights=(1.0, 1.0)))
    assert max(fused, key=fused.__getitem__) == "x"
    rrf = FUSIONS["rrf"](_input(lexical, dense, weights=(1.0, 1.0)))
    assert max(rrf, key=rrf.__getitem__) == "y"


def test_zscore_with_one_list_ranks_that_list() -> None:
    lexical_only = zscore_fuse(_input([("a", 3.0), ("b", 1.0)], []))
    assert lexical_only == pytest.approx({"a": 1 / 61, "b": 1 / 62})
    assert zscore_fuse(_input([], [("c", 0.9)])) == pytest.approx({"c": 1 / 61})
    assert zscore_fuse(_input([], [])) == {}


def test_zscore_equal_scores_do_not_divide_by_zero() -> None:
    fused = zscore_fuse(_input([("a", 1.0), ("b", 1.0)], [("a", 0.5), ("b", 0.5)]))
    assert fused == {"a": 1.0, "b": 1.0}


scored = st.dictionaries(
    st.sampled_from("abcdefgh"), st.floats(0.0, 20.0, allow_nan=False), max_size=8
).map(lambda d: sorted(d.items(), key=lambda kv: -kv[1]))


@given(scored, scored, st.floats(0.0, 5.0), st.floats(0.01, 5.0))
def test_zscore_scores_the_union_in_unit_range(
    lexical: list[tuple[str, float]], dense: list[tuple[str, float]], wl: float, wd: float
) -> None:
    fused = zscore_fuse(_input(lexical, dense, weights=(wl, wd)))
    assert set(fused) == {i for i, _ in (*lexical, *dense)}
    if lexical and dense:
        assert all(-1e-9 <= v <= 1 + 1e-9 for v in fused.values())


@given(scored, scored)
def test_zscore_a_candidate_ahead_in_both_lists_is_not_behind(
    lexical: list[tuple[str, float]], dense: list[tuple[str, float]]
) -> None:
    fused = zscore_fuse(_input(lexical, dense))
    lex, den = dict(lexical), dict(dense)
    both = set(lex) & set(den)
    for x in both:
        for y in both:
            if lex[x] >= lex[y] and den[x] >= den[y]:
                assert fused[x] >= fused[y] - 1e-9


def test_dense_weight_zero_ranks_by_lexical_score() -> None:
    lexical = [("a", 5.0), ("b", 4.0), ("c", 1.0)]
    dense = [("c", 0.9), ("b", 0.2), ("a", 0.1)]
    fused = zscore_fuse(_input(lexical, dense, weights=(1.0, 0.0)))
    assert sorted(fused, key=lambda i: -fused[i]) == ["a", "b", "c"]


def test_unknown_fusion_names_the_choices() -> None:
    assert get_fusion("zscore") is zscore_fuse
    with pytest.raises(ConfigError, match=r"DOCSAGE_FUSION to one of \['rrf', 'zscore'\]"):
        get_fusion("borda")
