"""Each backtest metric agrees with a naive loop over the formula as the issue states it (fev's definitions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chronos_excel import metrics

NAN = math.nan


# The oracles: one plain loop per formula; a pair with a NaN on either side is skipped, None means undefined.


def _pairs(y, y_hat):
    return [(a, b) for a, b in zip(y, y_hat, strict=True) if not (math.isnan(a) or math.isnan(b))]


def naive_mae(y, y_hat):
    pairs = _pairs(y, y_hat)
    return sum(abs(a - b) for a, b in pairs) / len(pairs) if pairs else None


def naive_rmse(y, y_hat):
    pairs = _pairs(y, y_hat)
    return math.sqrt(sum((a - b) ** 2 for a, b in pairs) / len(pairs)) if pairs else None


def naive_mape(y, y_hat):
    terms = [abs(a - b) / abs(a) for a, b in _pairs(y, y_hat) if a != 0]
    return sum(terms) / len(terms) if terms else None


def naive_smape(y, y_hat):
    terms = [2 * abs(a - b) / (abs(a) + abs(b)) for a, b in _pairs(y, y_hat) if abs(a) + abs(b) != 0]
    return sum(terms) / len(terms) if terms else None


def naive_scale(context, m):
    diffs = [abs(context[t] - context[t - m]) for t in range(m, len(context))]
    diffs = [d for d in diffs if not math.isnan(d)]
    if not diffs:
        return None
    scale = sum(diffs) / len(diffs)
    return scale if scale != 0 else None


def naive_mase(y, y_hat, scale):
    error = naive_mae(y, y_hat)
    return None if error is None or scale is None else error / scale


def naive_wql(y, quantiles, levels):
    """``quantiles[t][j]`` is the forecast of level ``levels[j]`` at step t."""
    per_level = []
    for j, q in enumerate(levels):
        pairs = _pairs(y, [row[j] for row in quantiles])
        if not pairs:
            continue
        weight = sum(abs(a) for a, _ in pairs) / len(pairs)
        if weight == 0:
            continue
        loss = sum(2 * abs((a - b) * ((1.0 if a <= b else 0.0) - q)) for a, b in pairs) / len(pairs)
        per_level.append(loss / weight)
    return sum(per_level) / len(per_level) if per_level else None


def naive_coverage(y, lower, upper):
    known = [(a, lo, up) for a, lo, up in zip(y, lower, upper, strict=True) if not math.isnan(a)]
    return sum(1 for a, lo, up in known if lo <= a <= up) / len(known) if known else None


def naive_average(values):
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def assert_same(found, expected):
    """Both undefined, or equal to float precision."""
    if expected is None:
        assert found is None
    else:
        assert found is not None and isinstance(found, float)
        assert found == pytest.approx(expected, rel=1e-12, abs=1e-12)


POINT_CASES = [
    ([1.0, 2.0, 3.0, 4.0], [1.5, 2.0, 2.0, 5.0]),  # plain, one exact hit
    ([10.0, -20.0, 30.0], [-10.0, -25.0, 35.0]),  # negative actuals and forecasts
    ([1.0, NAN, 3.0, NAN], [2.0, 2.0, 1.0, 4.0]),  # missing actuals are skipped
    ([1.0, 2.0, 3.0], [NAN, 2.5, 1.0]),  # a missing forecast is skipped too
    ([0.0, 2.0, 0.0, 4.0], [1.0, 1.0, 0.0, 3.0]),  # y = 0: MAPE skips it, sMAPE skips the 0/0 pair only
    ([0.0, 0.0], [1.0, 2.0]),  # all actuals 0: MAPE undefined, the rest defined
    ([NAN, NAN, NAN], [1.0, 2.0, 3.0]),  # nothing known: every metric undefined
    ([5.0], [5.0]),  # a perfect single point
]


@pytest.mark.parametrize(("y", "y_hat"), POINT_CASES)
@pytest.mark.parametrize(
    ("metric", "oracle"),
    [
        (metrics.mae, naive_mae),
        (metrics.rmse, naive_rmse),
        (metrics.mape, naive_mape),
        (metrics.smape, naive_smape),
    ],
)
def test_point_metrics_match_the_naive_loop(metric, oracle, y, y_hat):
    assert_same(metric(np.array(y), np.array(y_hat)), oracle(y, y_hat))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_point_metrics_match_on_random_data_with_gaps(seed):
    rng = np.random.default_rng(seed)
    y, y_hat = rng.normal(50, 30, 40), rng.normal(50, 30, 40)
    y[rng.choice(40, 8, replace=False)] = NAN
    y[rng.choice(40, 3, replace=False)] = 0.0
    for metric, oracle in [
        (metrics.mae, naive_mae),
        (metrics.rmse, naive_rmse),
        (metrics.mape, naive_mape),
        (metrics.smape, naive_smape),
    ]:
        assert_same(metric(y, y_hat), oracle(y.tolist(), y_hat.tolist()))


def test_worked_example_by_hand():
    y, y_hat = np.array([2.0, 4.0, 0.0]), np.array([1.0, 6.0, 1.0])
    assert metrics.mae(y, y_hat) == pytest.approx(4 / 3)  # (1 + 2 + 1) / 3
    assert metrics.rmse(y, y_hat) == pytest.approx(math.sqrt(2))  # sqrt((1 + 4 + 1) / 3)
    assert metrics.mape(y, y_hat) == pytest.approx(0.5)  # (1/2 + 2/4) / 2, y = 0 skipped
    assert metrics.smape(y, y_hat) == pytest.approx((2 / 3 + 4 / 10 + 2) / 3)


@pytest.mark.parametrize(
    ("context", "m"),
    [
        ([1.0, 3.0, 2.0, 5.0, 4.0], 1),  # m = 1: mean of the first differences
        ([1.0, 2.0, 3.0, 2.0, 4.0, 6.0, 3.0], 3),  # m = 3
        ([1.0, NAN, 3.0, 4.0, NAN, 9.0], 1),  # a difference touching a missing point is skipped
        ([1.0, 2.0, 3.0], 3),  # no full season: undefined
        ([1.0, 2.0], 5),  # shorter than a season: undefined
        ([7.0, 7.0, 7.0, 7.0], 1),  # constant: scale 0, undefined
        ([1.0, 2.0, 1.0, 2.0, 1.0, 2.0], 2),  # perfectly seasonal: scale 0, undefined
        ([NAN, 1.0, NAN, 2.0], 1),  # every difference touches a missing point: undefined
    ],
)
def test_seasonal_scale_and_mase_match_the_naive_loop(context, m):
    scale = metrics.seasonal_scale(np.array(context), m)
    assert_same(scale, naive_scale(context, m))
    y, y_hat = [3.0, NAN, 5.0], [2.0, 1.0, 7.0]
    assert_same(metrics.mase(np.array(y), np.array(y_hat), scale), naive_mase(y, y_hat, naive_scale(context, m)))


def test_mase_is_undefined_without_pairs_even_with_a_scale():
    assert metrics.mase(np.array([NAN, NAN]), np.array([1.0, 2.0]), 2.0) is None


LEVELS = [0.1, 0.5, 0.9]


@pytest.mark.parametrize(
    ("y", "quantiles", "levels"),
    [
        ([10.0, 12.0, 9.0], [[8.0, 10.0, 12.0], [9.0, 11.0, 13.0], [9.5, 10.0, 11.0]], LEVELS),  # mixed sides
        ([10.0, NAN, 9.0], [[8.0, 10.0, 12.0], [9.0, 11.0, 13.0], [9.5, 10.0, 11.0]], LEVELS),  # missing actual
        ([-5.0, 5.0], [[-6.0, -4.0, -3.0], [4.0, 5.0, 6.0]], LEVELS),  # negative values, y on ŷ_0.5
        ([3.0, 4.0], [[1.0], [9.0]], [0.3]),  # one level, one point under and one over
        ([0.0, 0.0], [[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]], LEVELS),  # mean |y| = 0: undefined
        ([NAN, NAN], [[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]], LEVELS),  # nothing known: undefined
    ],
)
def test_wql_matches_the_formula(y, quantiles, levels):
    assert_same(metrics.wql(np.array(y), np.array(quantiles), levels), naive_wql(y, quantiles, levels))


@pytest.mark.parametrize("seed", [3, 4])
def test_wql_matches_on_random_data_with_gaps(seed):
    rng = np.random.default_rng(seed)
    levels = [0.05, 0.25, 0.5, 0.75, 0.95]
    y = rng.normal(20, 10, 30)
    y[rng.choice(30, 6, replace=False)] = NAN
    quantiles = np.sort(rng.normal(20, 10, (30, 5)), axis=1)
    assert_same(metrics.wql(y, quantiles, levels), naive_wql(y.tolist(), quantiles.tolist(), levels))


def test_wql_worked_example_by_hand():
    # y = 4, ŷ_0.2 = 2 (under): 2·|2·(0 − 0.2)| / 4 = 0.2; ŷ_0.8 = 6 (over): 2·|−2·(1 − 0.8)| / 4 = 0.2.
    assert metrics.wql(np.array([4.0]), np.array([[2.0, 6.0]]), [0.2, 0.8]) == pytest.approx(0.2)
    # y = 4, ŷ_0.9 = 1 (far under): 2·|3·(0 − 0.9)| / 4 = 1.35.
    assert metrics.wql(np.array([4.0]), np.array([[1.0]]), [0.9]) == pytest.approx(1.35)


@pytest.mark.parametrize(
    ("y", "lower", "upper"),
    [
        ([1.0, 5.0, 9.0, 3.0], [0.0, 0.0, 0.0, 4.0], [2.0, 4.0, 10.0, 6.0]),  # inside, above, inside, below
        ([2.0, 4.0], [2.0, 1.0], [3.0, 4.0]),  # on either bound counts as inside
        ([1.0, NAN, NAN, 7.0], [0.0, 0.0, 0.0, 0.0], [2.0, 2.0, 2.0, 2.0]),  # missing actuals are skipped
        ([NAN], [0.0], [1.0]),  # nothing known: undefined
    ],
)
def test_coverage_matches_the_naive_count(y, lower, upper):
    assert_same(metrics.coverage(np.array(y), np.array(lower), np.array(upper)), naive_coverage(y, lower, upper))


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 2.0, 6.0], 3.0),  # plain mean
        ([1.0, None, 3.0], 2.0),  # an undefined window is left out
        ([None, 4.5], 4.5),  # one defined window
        ([None, None], None),  # no window defines it
        ([], None),  # no windows at all
    ],
)
def test_average_over_windows_ignores_undefined(values, expected):
    found = metrics.average(values)
    assert_same(found, expected)
    assert_same(found, naive_average(values))
