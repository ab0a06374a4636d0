"""Anomalies over the whole history, without look-ahead, with bands that mean what they say.

Every scored point is forecast from the points strictly before it. For speed the scan forecasts blocks:
one window ends just before a scored point and forecasts the next ``block`` points, so each point is
predicted 1 to ``block`` steps ahead from at most ``context`` earlier points. All windows of all series go
to the model in one batched call (one per covariate schema). Covariates come along, cut to each window;
those known in advance also give their values at the window's points, so a spike that a promotion
explains is expected rather than flagged.

Calibration. The model's own central ``level`` interval is only a starting point: its width is the unit
in which each point's surprise is measured, ``score = (y - median) / (upper - median)`` above the median
and ``(median - y) / (median - lower)`` below. A point is flagged when its score exceeds a threshold
learnt from the same series' earlier scored points (online, or "causal", conformal calibration): the
``level`` quantile of their scores, so that about ``1 - level`` of ordinary points fall outside. Until
``MIN_CALIBRATION`` earlier scores exist, the threshold is 1 (the model's band as it is). A flagged point
enters the calibration at no more than ``FLAGGED_CAP`` times its threshold: one anomaly raises later
thresholds only a little (at a high level with few earlier points the threshold is their largest score, so
an uncapped spike would hide the next one), while a run of flags, a genuinely more volatile stretch, raises
them step by step.
Scores are calibrated separately for early and late steps of a block (late steps have wider raw bands).

Re-anchoring. When a point is flagged, the rest of its block is forecast again from a window that ends
with it, so a level shift is judged by forecasts that have seen it (one short run of flags, not a
block's worth); up to ``MAX_REANCHOR`` such rounds, each one batched model call for all series.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from .calibration import PRIOR_POINTS, conformal_quantile, scaled_band, surprise
from .covariates import Covariate, window_input
from .predictor import AdapterRef, Predictor
from .series import PreparedSeries, to_json

MIN_CALIBRATION = 30
MAX_REANCHOR = 4
STEP_GROUPS = 2  # calibration groups of block steps: early and late half
PRIOR_WEIGHT = PRIOR_POINTS  # pseudo-scores at the raw band (threshold 1) the calibration starts from
RECENT = 200  # calibrate on the most recent scores of the series
FLAGGED_CAP = 1.4  # a flagged score enters the calibration at most at this multiple of its threshold
TINY, HUGE = np.finfo(float).tiny, np.finfo(float).max  # a flagged point's score stays finite and positive


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


@dataclass(frozen=True)
class Calibrated:
    """One series' calibration, arrays (n_points,): the threshold (NaN where not scored), the calibrated
    band and the flag of every point."""

    threshold: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    flagged: np.ndarray


class Forecasts:
    """Per series, per point: the median and the raw band of its latest forecast, and its block step."""

    def __init__(self, prepared: list[PreparedSeries]) -> None:
        self.median = [np.full(len(s.values), np.nan) for s in prepared]
        self.lower = [np.full(len(s.values), np.nan) for s in prepared]
        self.upper = [np.full(len(s.values), np.nan) for s in prepared]
        self.step = [np.zeros(len(s.values), dtype=int) for s in prepared]

    def fill(
        self,
        predictor: Predictor,
        prepared: list[PreparedSeries],
        windows: list[tuple[int, int, np.ndarray]],
        *,
        level: float,
        block: int,
        context: int,
        adapter: AdapterRef | None = None,
    ) -> None:
        """Forecast ``windows`` (series, cutoff, points) in one batched call and record their points."""
        if not windows:
            return
        padded = {i: _left_padded(prepared[i], context) for i, _, _ in windows}
        # every context is exactly ``context`` points long (NaN before the start, which the model masks), so
        # a window's forecast never depends on which other windows share its batch
        inputs = [window_input(padded[i][0], padded[i][1], cut, cut + context, block) for i, cut, _ in windows]
        grid = predictor.quantile_grid(inputs, block, adapter=adapter)
        medians = predictor.median(grid)
        bands = predictor.levels(grid, [(1 - level) / 2, (1 + level) / 2])
        for row, (i, cut, points) in enumerate(windows):
            steps = points - cut
            self.median[i][points] = medians[row, steps]
            self.lower[i][points], self.upper[i][points] = bands[row, steps, 0], bands[row, steps, 1]
            self.step[i][points] = steps


def _left_padded(series: PreparedSeries, context: int) -> tuple[np.ndarray, list[Covariate]]:
    """The series' values and covariates with ``context`` missing points in front."""

    def pad(values: np.ndarray) -> np.ndarray:
        missing = np.full(context, None if values.dtype == object else np.nan, dtype=values.dtype)
        return np.concatenate([missing, values])

    covariates = [Covariate(c.name, c.kind, pad(c.values), c.future) for c in series.covariates]
    return pad(series.values), covariates


def calibrate(
    values: np.ndarray,
    median: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    step: np.ndarray,
    *,
    level: float,
    block: int,
) -> Calibrated:
    """Walk the scored points in time order; return each one's calibrated band and flag.

    A point's surprise is its distance from the median in units of the raw band's half width on its side;
    the threshold is the conformal ``level`` quantile of the earlier surprises of the same step group
    (a flagged one counted at most ``FLAGGED_CAP`` times its own threshold). The calibrated band is the raw
    band scaled about the median by the threshold, and a point is flagged exactly when it lies outside that
    band. Arrays have one entry per point; points without a forecast get NaN and no flag.
    """
    n = len(values)
    threshold, band_lower, band_upper = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    flagged = np.zeros(n, dtype=bool)
    history: list[list[float]] = [[] for _ in range(STEP_GROUPS)]
    recent: list[list[float]] = [[] for _ in range(STEP_GROUPS)]
    group_of = np.minimum(step * STEP_GROUPS // max(block, 1), STEP_GROUPS - 1)
    for t in np.flatnonzero(~np.isnan(median) & ~np.isnan(values)):
        s = surprise(values[t], median[t], lower[t], upper[t])
        scores = history[group_of[t]]
        if len(scores) < MIN_CALIBRATION:  # too few of its own group: pool the groups, else the raw band
            scores = sorted(x for h in history for x in h)
        if RECENT and len(scores) > RECENT:
            scores = sorted(recent[group_of[t]][-RECENT:])
        tau = 1.0 if len(scores) < MIN_CALIBRATION else conformal_quantile(scores, level)
        if PRIOR_WEIGHT:
            tau = (len(scores) * tau + PRIOR_WEIGHT) / (len(scores) + PRIOR_WEIGHT)
        threshold[t] = tau
        band_lower[t], band_upper[t] = scaled_band(median[t], lower[t], upper[t], tau)
        flagged[t] = values[t] < band_lower[t] or values[t] > band_upper[t]  # the band the user sees decides
        kept = min(s, FLAGGED_CAP * tau)
        bisect.insort(history[group_of[t]], kept)
        recent[group_of[t]].append(kept)
    return Calibrated(threshold, band_lower, band_upper, flagged)


def detect(
    predictor: Predictor,
    prepared: list[PreparedSeries],
    *,
    level: float,
    min_context: int,
    last: int | None,
    block: int,
    context: int,
    adapter: AdapterRef | None = None,
) -> list[dict]:
    """Score every series; one result dict per series, arrays with one entry per timeline point. ``adapter``:
    the LoRA weights the model runs with (None: the base model)."""
    plans = [plan_windows(s.values, scored_points(s.values, min_context, last), block, context) for s in prepared]
    forecasts = Forecasts(prepared)
    windows = [(i, cut, points) for i, plan in enumerate(plans) for cut, points in plan]
    forecasts.fill(predictor, prepared, windows, level=level, block=block, context=context, adapter=adapter)
    calibrated = [calibrate_series(s, forecasts, i, level=level, block=block) for i, s in enumerate(prepared)]
    anchored: set[tuple[int, int]] = set()
    for _ in range(MAX_REANCHOR):
        windows = _reanchored(windows, calibrated, anchored)
        if not windows:
            break
        forecasts.fill(predictor, prepared, windows, level=level, block=block, context=context, adapter=adapter)
        changed = {i for i, _, _ in windows}
        calibrated = [
            calibrate_series(s, forecasts, i, level=level, block=block) if i in changed else calibrated[i]
            for i, s in enumerate(prepared)
        ]
    # the answer is the last calibration, made after the last forecasts: its bands decided its flags
    return [result(s, forecasts, calibrated[i], i) for i, s in enumerate(prepared)]


def calibrate_series(series: PreparedSeries, forecasts: Forecasts, i: int, *, level: float, block: int) -> Calibrated:
    """``calibrate`` series ``i`` on its latest forecasts."""
    return calibrate(
        series.values,
        forecasts.median[i],
        forecasts.lower[i],
        forecasts.upper[i],
        forecasts.step[i],
        level=level,
        block=block,
    )


def _reanchored(
    windows: list[tuple[int, int, np.ndarray]],
    calibrated: list[Calibrated],
    anchored: set[tuple[int, int]],
) -> list[tuple[int, int, np.ndarray]]:
    """For every window with a flagged point before its last one, a new window for the points after the
    first such flag, ending just after it (once per series and cutoff)."""
    again = []
    for i, _, points in windows:
        flags = calibrated[i].flagged[points]
        hit = np.flatnonzero(flags[:-1])
        if hit.size == 0:
            continue
        new_cut = int(points[hit[0]]) + 1
        rest = points[points >= new_cut]
        if rest.size and (i, new_cut) not in anchored:
            anchored.add((i, new_cut))
            again.append((i, new_cut, rest))
    return again


def result(series: PreparedSeries, forecasts: Forecasts, calibrated: Calibrated, i: int) -> dict:
    """One series' answer: each point's calibrated band, its flag (exactly: outside the band), score and
    direction.

    ``score`` is 0 inside the band, else the distance to the nearest bound divided by the band's width (or,
    for a band of width 0, by the series' mean absolute step), so it is positive exactly when flagged.
    """
    values, median, flagged = series.values, forecasts.median[i], calibrated.flagged
    lower, upper = calibrated.lower, calibrated.upper
    scored = ~np.isnan(calibrated.threshold)
    above = flagged & (values > upper)
    below = flagged & (values < lower)
    distance = np.where(above, values - upper, np.where(below, lower - values, 0.0))
    width = np.where(upper - lower > 0, upper - lower, _typical_step(values))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scores = np.where(flagged, np.clip(distance / width, TINY, HUGE), 0.0)
    scores[~scored] = np.nan
    flags = [None if not s else bool(f) for s, f in zip(scored, flagged, strict=True)]
    return {
        "name": series.name,
        "timestamps": series.timeline.history(),
        "values": to_json(values),
        "expected": to_json(np.where(scored, median, np.nan)),
        "lower": to_json(np.where(scored, lower, np.nan)),
        "upper": to_json(np.where(scored, upper, np.nan)),
        "is_anomaly": flags,
        "score": to_json(scores),
        "direction": (above.astype(int) - below.astype(int)).tolist(),
        "count": int(flagged.sum()),
    }


def _typical_step(values: np.ndarray) -> float:
    """The mean absolute change between neighbouring known values (1 when there is none)."""
    steps = np.abs(np.diff(values[~np.isnan(values)]))
    typical = float(steps.mean()) if steps.size else 0.0
    return typical if typical > 0 and math.isfinite(typical) else 1.0
