"""Uncertainty for eval scores: percentile bootstrap over cases, and latency percentiles.

Every function takes per-case values (one score per question) and is deterministic for a
given ``seed``. NaN inputs are rejected: a failed case must be counted, not averaged away.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

_CHUNK_CELLS = 4_000_000  # resample rows are drawn in blocks of at most this many cells


def _as_array(values: Sequence[float], name: str) -> FloatArray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty flat sequence of numbers")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity; count failed cases, do not score them")
    return arr


def _check_params(n_resamples: int, alpha: float) -> None:
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1 (exclusive), got {alpha}")


def _resampled_means(arr: FloatArray, n_resamples: int, seed: int) -> FloatArray:
    """Means of ``n_resamples`` resamples of ``arr`` with replacement, drawn in blocks."""
    rng = np.random.default_rng(seed)
    rows = max(1, _CHUNK_CELLS // arr.size)
    blocks = []
    for start in range(0, n_resamples, rows):
        idx = rng.integers(0, arr.size, size=(min(rows, n_resamples - start), arr.size))
        blocks.append(arr[idx].mean(axis=1))
    return np.concatenate(blocks)


def _interval(
    arr: FloatArray, n_resamples: int, alpha: float, seed: int
) -> tuple[float, float, float]:
    _check_params(n_resamples, alpha)
    means = _resampled_means(arr, n_resamples, seed)
    low, high = np.quantile(means, [alpha / 2, 1 - alpha / 2])
    return float(arr.mean()), float(low), float(high)


def bootstrap_ci(
    values: Sequence[float], *, n_resamples: int = 1000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float, float]:
    """``(mean, low, high)``: the sample mean and its percentile bootstrap interval.

    Resample the cases with replacement ``n_resamples`` times, take each resample's mean; the
    interval is the ``alpha/2`` and ``1 - alpha/2`` quantiles of those means (Efron &
    Tibshirani 1993, "An Introduction to the Bootstrap", ch. 13, percentile interval).
    """
    return _interval(_as_array(values, "values"), n_resamples, alpha, seed)


def paired_bootstrap_diff(
    a: Sequence[float],
    b: Sequence[float],
    *,
    n_resamples: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(mean_diff, low, high)`` for ``b - a`` paired over the same cases.

    Case ``i`` of ``a`` and of ``b`` must be the same question: the bootstrap resamples the
    per-case differences ``b_i - a_i`` (paired bootstrap, as in Koehn 2004 "Statistical
    Significance Tests for Machine Translation Evaluation"), which removes the between-case
    variance that two independent intervals would carry.
    """
    arr_a, arr_b = _as_array(a, "a"), _as_array(b, "b")
    if arr_a.size != arr_b.size:
        raise ValueError(
            f"paired bootstrap needs the same cases in both runs: a has {arr_a.size} values, "
            f"b has {arr_b.size}; align them by case id first"
        )
    return _interval(arr_b - arr_a, n_resamples, alpha, seed)


def is_regression(
    baseline_values: Sequence[float],
    candidate_values: Sequence[float],
    *,
    higher_is_better: bool = True,
    n_resamples: int = 1000,
    alpha: float = 0.05,
    seed: int = 0,
) -> bool:
    """True when the candidate is significantly worse than the baseline on the same cases.

    With ``higher_is_better`` (scores), that is when the upper bound of the paired interval
    of ``candidate - baseline`` is below 0; otherwise (latency, cost) when the lower bound is
    above 0. A difference whose interval contains 0 is not a regression.
    """
    _, low, high = paired_bootstrap_diff(
        baseline_values, candidate_values, n_resamples=n_resamples, alpha=alpha, seed=seed
    )
    return high < 0.0 if higher_is_better else low > 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation between closest ranks.

    Position ``(n - 1) * q / 100`` in the sorted values (Hyndman & Fan 1996 type 7), which
    is numpy's default ``method="linear"``.
    """
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q must be between 0 and 100, got {q}")
    return float(np.percentile(_as_array(values, "values"), q))
