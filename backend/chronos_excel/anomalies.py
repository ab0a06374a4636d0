"""Anomalies over the whole history, without look-ahead.

Every scored point is forecast from the points strictly before it. For speed the scan forecasts blocks:
one window ends just before a scored point and forecasts the next ``block`` points, so each point is
predicted 1 to ``block`` steps ahead from at most ``context`` earlier points. All windows of all series
go to the model in one batched call (one per covariate schema). A point is an anomaly when it falls
outside the central ``level`` interval of its forecast. Covariates come along, cut to each window; those
known in advance also give their values at the window's points, so a spike that a promotion explains is
expected rather than flagged.
"""

from __future__ import annotations

import numpy as np

from .covariates import window_input
from .predictor import Predictor
from .series import PreparedSeries, to_json


def scored_points(values: np.ndarray, min_context: int, last: int | None) -> np.ndarray:
    """Indices that get a score: after ``min_context`` points, within the ``last`` N, not missing."""
    first = min_context if last is None else max(min_context, len(values) - last)
    candidates = np.arange(first, len(values))
    return candidates[~np.isnan(values[candidates])]


def plan_windows(values: np.ndarray, scored: np.ndarray, block: int, context: int) -> list[tuple[int, np.ndarray]]:
    """Group scored points into windows ``(cutoff, points)``: each forecasts ``block`` steps from the at
    most ``context`` points before ``cutoff``."""
    windows, k = [], 0
    while k < len(scored):
        cutoff = int(scored[k])
        if np.isnan(values[max(0, cutoff - context) : cutoff]).all():  # no known past: try the next point
            k += 1
            continue
        inside = scored[(scored >= cutoff) & (scored < cutoff + block)]
        windows.append((cutoff, inside))
        k += len(inside)
    return windows


def detect(
    predictor: Predictor,
    prepared: list[PreparedSeries],
    *,
    level: float,
    min_context: int,
    last: int | None,
    block: int,
    context: int,
) -> list[dict]:
    """Score every series; one result dict per series, arrays with one entry per timeline point."""
    plans = [plan_windows(s.values, scored_points(s.values, min_context, last), block, context) for s in prepared]
    inputs = [
        window_input(s.values, s.covariates, max(0, cut - context), cut, block)
        for s, plan in zip(prepared, plans, strict=True)
        for cut, _ in plan
    ]
    if inputs:
        grid = predictor.quantile_grid(inputs, block)
        medians = predictor.median(grid)
        bands = predictor.levels(grid, [(1 - level) / 2, (1 + level) / 2])

    results, row = [], 0
    for series, plan in zip(prepared, plans, strict=True):
        n = len(series.values)
        expected, lower, upper = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
        for cutoff, points in plan:
            steps = points - cutoff
            expected[points] = medians[row, steps]
            lower[points], upper[points] = bands[row, steps, 0], bands[row, steps, 1]
            row += 1
        results.append(score(series, expected, lower, upper))
    return results


def score(series: PreparedSeries, expected: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> dict:
    """Flag, score and direct each point against its band (NaN band: not scored)."""
    values = series.values
    scored = ~np.isnan(lower)
    above = scored & (values > upper)
    below = scored & (values < lower)
    distance = np.where(above, values - upper, np.where(below, lower - values, 0.0))
    width = upper - lower
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(distance > 0, distance / width, 0.0)
    scores[~scored] = np.nan
    flags = [None if not s else bool(a or b) for s, a, b in zip(scored, above, below, strict=True)]
    return {
        "name": series.name,
        "timestamps": series.timeline.history(),
        "values": to_json(values),
        "expected": to_json(expected),
        "lower": to_json(lower),
        "upper": to_json(upper),
        "is_anomaly": flags,
        "score": to_json(scores),
        "direction": (above.astype(int) - below.astype(int)).tolist(),
        "count": int((above | below).sum()),
    }
