"""Bands that hold their level on the user's own data: split conformal calibration, normalised by the band.

The model's central ``level`` band is the unit: a point's *surprise* is its distance from the median divided
by the band's half width on the side it falls (1 on the band's edge). Over past points whose forecasts were
made without them, the conformal ``level`` quantile of the surprises, ``scale``, is how far the band must be
stretched (above 1) or shrunk (below 1) about the median so that ``level`` of such points fall inside:
``median ± scale · half width`` on each side (Lei et al. 2018, "Distribution-free predictive inference";
Romano et al. 2019, "Conformalized quantile regression", here with scores scaled by the band). The median never
moves, and with few past points the scale is drawn towards 1 (the model's own band).

The anomaly scan applies it point by point as it walks the history (each point judged by the points before
it); forecasts and backtests apply it once, from rolling-origin windows of the series' own history.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .predictor import Predictor, QuantileGrid
from .series import PreparedSeries
from .windows import default_seasonality, min_context, plan_inputs

PRIOR_POINTS = 30  # the model's band counts as this many past points with a scale of 1


def surprise(value: float, median: float, lower: float, upper: float) -> float:
    """How far ``value`` lies from the median in half widths of the band on its side (inf for a band of
    width 0 that the value leaves)."""
    width = (upper - median) if value >= median else (median - lower)
    gap = abs(value - median)
    return gap / width if width > 0 else (0.0 if gap == 0 else math.inf)


def surprises(values: np.ndarray, median: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``surprise`` of every point (arrays of one shape); NaN where the value or the forecast is missing."""
    width = np.where(values >= median, upper - median, median - lower)
    gap = np.abs(values - median)
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(width > 0, gap / width, np.where(gap == 0, 0.0, np.inf))
    return np.where(np.isnan(values) | np.isnan(median), np.nan, scores)


def conformal_quantile(sorted_scores: Sequence[float], level: float) -> float:
    """The ceil((n + 1)·level)-th smallest of n sorted scores (the largest when that exceeds n)."""
    k = min(len(sorted_scores), math.ceil((len(sorted_scores) + 1) * level))
    return sorted_scores[k - 1]


def scale(scores: np.ndarray, level: float, prior: float = PRIOR_POINTS) -> float:
    """The band's scale from past surprises: their conformal ``level`` quantile, drawn towards 1 as if
    ``prior`` more points had a surprise of exactly 1 (so that a short history cannot make bands collapse)."""
    known = np.sort(scores[~np.isnan(scores)])
    if known.size == 0:
        return 1.0
    empirical = min(conformal_quantile(known, level), np.finfo(float).max)
    return float((known.size * empirical + prior) / (known.size + prior))


def scaled_band(
    median: np.ndarray, lower: np.ndarray, upper: np.ndarray, by: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The band stretched (``by`` > 1) or shrunk about the median, each side in proportion to its width."""
    return median - by * (median - lower), median + by * (upper - median)


# ---- forecasts and backtests: calibrated on rolling-origin windows of the series' own history ----------

PER_STEP_WINDOWS = 20  # with this many windows each step of the horizon gets its own scale; else one for all
MIN_POINTS = 10  # fewer past points scored than this, and the raw band is returned (with the reason)
FORECAST_PRIOR = 10  # forecasts calibrate from few windows at once: a lighter pull towards the raw band


def band_levels(quantile_levels: Sequence[float]) -> list[float]:
    """The central bands the requested quantiles belong to: 0.1 and 0.9 to the 0.8 band (the median to none)."""
    return sorted({round(abs(2 * q - 1), 12) for q in quantile_levels if q != 0.5})


def band_edges(levels: Sequence[float]) -> list[float]:
    """The quantile levels of those bands' edges, lower then upper per band: [0.1, 0.9] for [0.8]."""
    return [edge for level in levels for edge in ((1 - level) / 2, (1 + level) / 2)]


def window_cutoffs(end: int, horizon: int, count: int, first: int) -> list[int]:
    """The cutoffs (points of context) of the ``count`` latest windows of ``horizon`` points that end no later
    than ``end``, one horizon apart, each after at least ``first`` points; oldest first."""
    cuts = [end - j * horizon for j in range(1, count + 1)]
    return sorted(c for c in cuts if c >= first)


@dataclass
class Fit:
    """What the past windows of one series say about its bands: per band level the scale (one number, or one
    per step of the horizon), and the raw band's coverage there."""

    windows: int
    points: int
    per_step: bool
    scales: dict[float, float | np.ndarray] = field(default_factory=dict)
    coverage: dict[float, float] = field(default_factory=dict)

    def describe(self) -> dict:
        """The ``calibration`` field of an answer."""
        shown = {level_key(level): _rounded(s) for level, s in self.scales.items()}
        return {
            "applied": True,
            "windows": self.windows,
            "points": self.points,
            "coverage_before": {level_key(level): round(c, 4) for level, c in self.coverage.items()},
            "scale": shown,
            "method": (
                "split conformal: the model's band stretched or shrunk about the median by the "
                f"level-quantile of past surprises, {'per step' if self.per_step else 'pooled over the steps'}"
            ),
        }


def fit(
    actual: np.ndarray, median: np.ndarray, edges: np.ndarray, levels: Sequence[float], prior: float = FORECAST_PRIOR
) -> Fit:
    """Scales of the bands from past windows.

    Parameters
    ----------
    actual, median
        Shape (windows, horizon): what happened and the median forecast of each past window.
    edges
        Shape (windows, horizon, 2 · len(levels)): the raw bands' lower and upper edges (``band_edges``).
    levels
        The bands' levels, e.g. [0.8, 0.95].
    """
    windows = actual.shape[0]
    known = ~np.isnan(actual) & ~np.isnan(median)
    result = Fit(windows=windows, points=int(known.sum()), per_step=windows >= PER_STEP_WINDOWS)
    for b, level in enumerate(levels):
        lower, upper = edges[..., 2 * b], edges[..., 2 * b + 1]
        scores = surprises(actual, median, lower, upper)
        inside = (actual >= lower) & (actual <= upper)
        result.coverage[level] = float(inside[known].mean()) if known.any() else float("nan")
        if result.per_step:
            result.scales[level] = np.array([scale(scores[:, t], level, prior) for t in range(actual.shape[1])])
        else:
            result.scales[level] = scale(scores.ravel(), level, prior)
    return result


def apply(median: np.ndarray, quantiles: np.ndarray, quantile_levels: Sequence[float], fitted: Fit) -> np.ndarray:
    """Requested quantiles (horizon, len(quantile_levels)) with each band scaled by its fitted scale about the
    median (shape (horizon,)); sorted along the levels, so that they never cross (the median stays put)."""
    out = quantiles.copy()
    for j, q in enumerate(quantile_levels):
        if q == 0.5:
            continue
        s = fitted.scales[round(abs(2 * q - 1), 12)]
        out[:, j] = median + s * (quantiles[:, j] - median)
    order = np.argsort(quantile_levels)
    out[:, order] = np.sort(out[:, order], axis=1)
    return out


def not_applied(reason: str) -> dict:
    """The ``calibration`` field when the raw bands are returned."""
    return {"applied": False, "reason": reason}


def level_key(level: float) -> str:
    """Band levels are written like quantile levels: 0.8 -> "0.8"."""
    return str(float(level))


def _rounded(s: float | np.ndarray) -> float | list[float]:
    return round(float(s), 4) if np.ndim(s) == 0 else [round(float(x), 4) for x in s]


@dataclass
class Windows:
    """The calibration windows of a request: their model inputs, and per series its cutoffs (oldest first) and
    the row of each window among the windows' target rows."""

    horizon: int
    count: int
    inputs: list
    groups: list[int]
    cutoffs: list[list[int]]
    firsts: list[int]  # per series: the fewest points before a window
    rows: dict[tuple[int, int], int]


def plan(
    prepared: list[PreparedSeries],
    ends: list[list[int]],
    horizon: int,
    *,
    count: int,
    context: int | None,
    joint: bool = False,
) -> Windows:
    """The windows that calibrate forecasts made at ``ends`` (per series, points of history): for each end the
    ``count`` latest windows of ``horizon`` that end no later, one horizon apart, each forecast from at most
    ``context`` points before it. Windows shared by several ends are forecast once."""
    plans, firsts = [], []
    for i, series in enumerate(prepared):
        frequency = series.timeline.frequency_alias if series.timeline.index is not None else None
        first = min_context(default_seasonality(frequency))
        source = ends[0] if joint else ends[i]  # a joint group shares one timeline and so its windows
        cutoffs = sorted({c for end in source for c in window_cutoffs(end, horizon, count, first)})
        plans.append((first, cutoffs))
        firsts.append(first)
    inputs, groups, rows, _ = plan_inputs(prepared, plans, horizon, joint, context=context, without_covariates=False)
    return Windows(horizon, count, inputs, groups, [p[1] for p in plans], firsts, rows)


def fit_series(
    windows: Windows, i: int, end: int, values: np.ndarray, median: np.ndarray, edges: np.ndarray, levels: list[float]
) -> Fit | str:
    """Fit series ``i``'s bands for a forecast made at ``end`` from the windows before it, or say why not.
    ``median`` and ``edges`` are the windows' forecasts, rows as in ``windows.rows``."""
    h = windows.horizon
    usable = [k for k, c in enumerate(windows.cutoffs[i]) if c + h <= end][-windows.count :]
    if not usable:
        needed = windows.firsts[i] + h
        return (
            f"{end} points of history are too few: calibrating needs at least {needed} (a past window of {h} after "
            f"{windows.firsts[i]} points)"
        )
    rows = [windows.rows[i, k] for k in usable]
    actual = np.stack([values[c : c + h] for c in (windows.cutoffs[i][k] for k in usable)])
    fitted = fit(actual, median[rows], edges[rows], levels)
    if fitted.points < MIN_POINTS:
        return f"only {fitted.points} past points could be scored (missing values); calibrating needs {MIN_POINTS}"
    return fitted


def calibrate_forecasts(
    predictor: Predictor,
    windows: Windows,
    window_grid: QuantileGrid | None,
    prepared: list[PreparedSeries],
    medians: np.ndarray,
    quantiles: np.ndarray,
    quantile_levels: list[float],
) -> list[dict]:
    """Scale the bands of each series' forecast (``quantiles`` (series, horizon, levels), changed in place;
    ``medians`` (series, horizon)) by what its past windows (``window_grid``) say; per series its
    ``calibration`` note."""
    bands = band_levels(quantile_levels)
    if not bands:
        return [not_applied("only the median was asked for, and calibration never moves it")] * len(prepared)
    empty = np.empty((0, windows.horizon))
    window_median = predictor.median(window_grid) if window_grid is not None else empty
    window_edges = predictor.levels(window_grid, band_edges(bands)) if window_grid is not None else empty
    notes = []
    for i, series in enumerate(prepared):
        end = len(series.values)
        fitted = fit_series(windows, i, end, series.values, window_median, window_edges, bands)
        if isinstance(fitted, str):
            notes.append(not_applied(fitted))
            continue
        quantiles[i] = apply(medians[i], quantiles[i], quantile_levels, fitted)
        notes.append(fitted.describe())
    return notes
