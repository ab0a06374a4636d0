"""Rolling-origin backtests against a seasonal-naive baseline.

Window k (oldest first, k = 0 … windows-1) takes the first ``N - horizon - (windows-1-k)·step`` points as
its context and the next ``horizon`` points as its actuals, so the last window ends at the last point.
Every window of every series goes to the model in one batched call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import calibration, metrics
from .predictor import AdapterRef, Predictor
from .problems import InputError
from .series import PreparedSeries, level_key, to_json
from .windows import context_lengths, default_seasonality, max_windows, min_context, plan_inputs

MODEL_METRICS = ("MAE", "RMSE", "MAPE", "sMAPE", "MASE", "WQL", "coverage")
CALIBRATED_METRICS = ("WQL_calibrated", "coverage_calibrated")
BASELINE_METRICS = ("MAE", "RMSE", "MAPE", "sMAPE", "MASE")


def seasonal_naive(context: np.ndarray, seasonality: int, horizon: int) -> np.ndarray:
    """The last ``seasonality`` points of the context repeated over the horizon."""
    last_season = context[-seasonality:]
    return np.resize(last_season, horizon)


def window_metrics(
    y: np.ndarray,
    median: np.ndarray,
    scale: float | None,
    quantiles: np.ndarray | None = None,
    levels: list[float] | None = None,
    band: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, float | None]:
    """All metrics of one window; the probabilistic ones only when quantiles are given."""
    scores = {
        "MAE": metrics.mae(y, median),
        "RMSE": metrics.rmse(y, median),
        "MAPE": metrics.mape(y, median),
        "sMAPE": metrics.smape(y, median),
        "MASE": metrics.mase(y, median, scale),
    }
    if quantiles is not None and levels is not None and band is not None:
        scores["WQL"] = metrics.wql(y, quantiles, levels)
        scores["coverage"] = metrics.coverage(y, *band)
    return scores


def run_backtests(
    predictor: Predictor,
    prepared: list[PreparedSeries],
    *,
    horizon: int,
    windows: int,
    step: int,
    quantile_levels: list[float],
    level: float,
    seasonality: int | None,
    joint: bool = False,
    cross_learning: bool = False,
    adapter: AdapterRef | None = None,
    calibrate: bool = False,
    calibration_windows: int = 4,
    calibration_context: int | None = 128,
) -> list[dict]:
    """Backtest every series; return one result dict per series, in order.

    Series with covariates are forecast with them (known-future ones see their actual values over each
    window's horizon) and again without them, on the same windows, to measure what the drivers add.
    ``joint`` forecasts all series of each window as one multivariate group. ``adapter``: the LoRA weights the
    model runs with (None: the base model). With ``calibrate`` each window's bands are also calibrated, as a
    calibrated forecast made at its cutoff would be (on up to ``calibration_windows`` windows before it), and
    their coverage and WQL are reported beside the raw ones.
    """
    plans = []
    for i, series in enumerate(prepared):
        has_timestamps = series.timeline.index is not None
        m = seasonality or default_seasonality(series.timeline.frequency_alias if has_timestamps else None)
        fits = max_windows(len(series.values), horizon, step, m)
        if fits < windows:
            raise InputError(
                ("series", i),
                f"{series.name!r} has {len(series.values)} points: room for {fits} window(s) of horizon {horizon} "
                f"and step {step} (each needs at least {min_context(m)} context points); ask for at most "
                f"{fits} window(s) or a shorter horizon",
            )
        plans.append((m, context_lengths(len(series.values), horizon, windows, step)))

    inputs, groups, rows, rows_without = plan_inputs(prepared, plans, horizon, joint)
    band_levels = [(1 - level) / 2, (1 + level) / 2]
    grid = predictor.quantile_grid(inputs, horizon, cross_learning=cross_learning, groups=groups, adapter=adapter)
    medians = predictor.median(grid)
    quantiles = predictor.levels(grid, quantile_levels + band_levels)
    keys = [level_key(q) for q in quantile_levels]
    n_keys = len(keys)
    calibrated = None
    if calibrate:
        ends = [lengths for _, lengths in plans]
        calibrated = calibrate_windows(
            predictor, prepared, ends, rows, medians, quantiles, quantile_levels + band_levels, horizon,
            count=calibration_windows, context=calibration_context, joint=joint, cross_learning=cross_learning,
            adapter=adapter,
        )  # fmt: skip

    def model_window(row: int, actual: np.ndarray, scale: float | None) -> dict[str, float | None]:
        requested, band = quantiles[row, :, :n_keys], quantiles[row, :, n_keys:]
        return window_metrics(actual, medians[row], scale, requested, quantile_levels, (band[:, 0], band[:, 1]))

    def calibrated_window(row: int, actual: np.ndarray) -> dict[str, float | None]:
        adjusted = calibrated.quantiles[row]
        requested, band = adjusted[:, :n_keys], adjusted[:, n_keys:]
        return {
            "WQL_calibrated": metrics.wql(actual, requested, quantile_levels),
            "coverage_calibrated": metrics.coverage(actual, band[:, 0], band[:, 1]),
        }

    results = []
    for i, (series, (m, lengths)) in enumerate(zip(prepared, plans, strict=True)):
        model_scores, without_scores, baseline_scores, window_items = [], [], [], []
        paired: list[tuple[float | None, float | None]] = []  # MASE of model and baseline on shared points
        for k, c in enumerate(lengths):
            context, actual = series.values[:c], series.values[c : c + horizon]
            scale = metrics.seasonal_scale(context, m)
            row = rows[i, k]
            baseline = seasonal_naive(context, m, horizon)
            shared = np.where(np.isnan(baseline), np.nan, actual)
            paired.append((metrics.mase(shared, medians[row], scale), metrics.mase(shared, baseline, scale)))
            model_scores.append(model_window(row, actual, scale))
            if calibrated is not None:
                model_scores[-1].update(calibrated_window(row, actual))
            if (i, k) in rows_without:
                without_scores.append(model_window(rows_without[i, k], actual, scale))
            baseline_scores.append(window_metrics(actual, baseline, scale))
            stamps = series.timeline.index
            window_items.append(
                {
                    "cutoff": c - 1 if stamps is None else series.timeline.format(stamps[c - 1 : c])[0],
                    "timestamps": None if stamps is None else series.timeline.format(stamps[c : c + horizon]),
                    "actual": to_json(actual),
                    "median": to_json(medians[row]),
                    "quantiles": {key: to_json(quantiles[row, :, j]) for j, key in enumerate(keys)},
                    "baseline": to_json(baseline),
                }
            )
            if calibrated is not None:
                adjusted = calibrated.quantiles[row]
                window_items[-1]["calibrated_quantiles"] = {key: to_json(adjusted[:, j]) for j, key in enumerate(keys)}
        names = MODEL_METRICS + (CALIBRATED_METRICS if calibrated is not None else ())
        model = {name: metrics.average([w[name] for w in model_scores]) for name in names}
        base = {name: metrics.average([w[name] for w in baseline_scores]) for name in BASELINE_METRICS}
        result = {
            "name": series.name,
            "seasonality": m,
            "windows": window_items,
            "metrics": model,
            "baseline": {"name": "seasonal_naive", "metrics": base},
            "skill": paired_skill(paired),
        }
        if calibrated is not None:
            result["calibration"] = calibrated.summary(i, len(lengths))
        if without_scores:
            without = {name: metrics.average([w[name] for w in without_scores]) for name in MODEL_METRICS}
            result["without_covariates"] = {"metrics": without}
            result["covariate_skill"] = skill(model["MASE"], without["MASE"])
        results.append(result)
    return results


@dataclass
class CalibratedWindows:
    """The backtest windows' quantiles calibrated as forecasts made at their cutoffs would be: (rows, horizon,
    levels), the raw ones where a window had too little history before it; per series the windows calibrated
    and why others were not."""

    quantiles: np.ndarray
    applied: dict[int, int]
    reasons: dict[int, str]

    def summary(self, i: int, windows: int) -> dict:
        """A series' ``calibration`` field: how many of its windows were calibrated, and why not the others."""
        return {"windows": windows, "calibrated": self.applied.get(i, 0), "reason": self.reasons.get(i)}


def calibrate_windows(
    predictor: Predictor,
    prepared: list[PreparedSeries],
    ends: list[list[int]],
    rows: dict[tuple[int, int], int],
    medians: np.ndarray,
    quantiles: np.ndarray,
    levels: list[float],
    horizon: int,
    *,
    count: int,
    context: int | None,
    joint: bool,
    cross_learning: bool,
    adapter: AdapterRef | None,
) -> CalibratedWindows:
    """Calibrate every backtest window (cutoffs ``ends``, forecasts at ``rows``) on the windows before it, all
    of those forecast in one batched call."""
    windows = calibration.plan(prepared, ends, horizon, count=count, context=context, joint=joint)
    out, applied, reasons = quantiles.copy(), {}, {}
    bands = calibration.band_levels(levels)
    if windows.inputs:
        grid = predictor.quantile_grid(
            windows.inputs, horizon, cross_learning=cross_learning, groups=windows.groups, adapter=adapter
        )
        window_median, window_edges = predictor.median(grid), predictor.levels(grid, calibration.band_edges(bands))
    for i, series in enumerate(prepared):
        for k, end in enumerate(ends[i]):
            fitted = (
                calibration.fit_series(windows, i, end, series.values, window_median, window_edges, bands)
                if windows.inputs
                else f"{end} points of history are too few to calibrate on"
            )
            if isinstance(fitted, str):
                reasons.setdefault(i, f"window {k + 1}: {fitted}")
                continue
            row = rows[i, k]
            out[row] = calibration.apply(medians[row], quantiles[row], levels, fitted)
            applied[i] = applied.get(i, 0) + 1
    return CalibratedWindows(out, applied, reasons)


def paired_skill(paired: list[tuple[float | None, float | None]]) -> float | None:
    """Skill over the windows (and, within them, the points) where both the model's and the baseline's
    errors are defined, so that a baseline missing in one window never compares different windows."""
    both = [(model, base) for model, base in paired if model is not None and base is not None]
    if not both:
        return None
    return skill(metrics.average([model for model, _ in both]), metrics.average([base for _, base in both]))


def skill(model_mase: float | None, baseline_mase: float | None) -> float | None:
    """1 - MASE_model / MASE_baseline; None when either is undefined or the baseline is perfect."""
    if model_mase is None or not baseline_mase:
        return None
    value = 1 - model_mase / baseline_mase
    return value if math.isfinite(value) else None


def summarize(results: list[dict]) -> dict:
    """Mean of each metric over the series (ignoring undefined ones), for the model and the baseline.

    When any series has covariates, ``without_covariates`` averages every series forecast without them (a
    series without covariates counts with its only forecast) and ``covariate_skill`` is the mean of the
    series' covariate skills."""
    names = [name for name in MODEL_METRICS + CALIBRATED_METRICS if name in results[0]["metrics"]]
    summary = {
        "metrics": {name: metrics.average([r["metrics"][name] for r in results]) for name in names},
        "baseline": {
            name: metrics.average([r["baseline"]["metrics"][name] for r in results]) for name in BASELINE_METRICS
        },
        "skill": metrics.average([r["skill"] for r in results]),
    }
    if any("without_covariates" in r for r in results):
        without = [r.get("without_covariates", r)["metrics"] for r in results]
        summary["without_covariates"] = {
            "metrics": {name: metrics.average([w[name] for w in without]) for name in MODEL_METRICS}
        }
        summary["covariate_skill"] = metrics.average([r["covariate_skill"] for r in results if "covariate_skill" in r])
    return summary
