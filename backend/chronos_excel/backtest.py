"""Rolling-origin backtests against a seasonal-naive baseline.

Window k (oldest first, k = 0 … windows-1) takes the first ``N - horizon - (windows-1-k)·step`` points as
its context and the next ``horizon`` points as its actuals, so the last window ends at the last point.
Every window of every series goes to the model in one batched call.
"""

from __future__ import annotations

import math

import numpy as np

from . import metrics
from .covariates import ModelInput, window_input
from .predictor import AdapterRef, Predictor
from .problems import InputError
from .series import PreparedSeries, level_key, to_json

MODEL_METRICS = ("MAE", "RMSE", "MAPE", "sMAPE", "MASE", "WQL", "coverage")
BASELINE_METRICS = ("MAE", "RMSE", "MAPE", "sMAPE", "MASE")
_SEASONALITY = {"h": 24, "D": 7, "B": 5, "W": 52, "MS": 12, "ME": 12, "QS": 4, "QE": 4}


def default_seasonality(frequency: str | None) -> int:
    """24 hourly, 7 daily, 5 business-daily, 52 weekly, 12 monthly, 4 quarterly, else 1."""
    if frequency is None:
        return 1
    return _SEASONALITY.get(frequency.split("-")[0], 1)


def min_context(seasonality: int) -> int:
    """The fewest context points a window needs."""
    return max(5, seasonality + 1)


def context_lengths(n: int, horizon: int, windows: int, step: int) -> list[int]:
    """How many points each window's context holds, oldest window first."""
    return [n - horizon - (windows - 1 - k) * step for k in range(windows)]


def max_windows(n: int, horizon: int, step: int, seasonality: int) -> int:
    """The most windows a series of ``n`` points can hold."""
    room = n - horizon - min_context(seasonality)
    return 0 if room < 0 else room // step + 1


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
) -> list[dict]:
    """Backtest every series; return one result dict per series, in order.

    Series with covariates are forecast with them (known-future ones see their actual values over each
    window's horizon) and again without them, on the same windows, to measure what the drivers add.
    ``joint`` forecasts all series of each window as one multivariate group. ``adapter``: the LoRA weights the
    model runs with (None: the base model).
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

    def model_window(row: int, actual: np.ndarray, scale: float | None) -> dict[str, float | None]:
        requested, band = quantiles[row, :, :n_keys], quantiles[row, :, n_keys:]
        return window_metrics(actual, medians[row], scale, requested, quantile_levels, (band[:, 0], band[:, 1]))

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
        model = {name: metrics.average([w[name] for w in model_scores]) for name in MODEL_METRICS}
        base = {name: metrics.average([w[name] for w in baseline_scores]) for name in BASELINE_METRICS}
        result = {
            "name": series.name,
            "seasonality": m,
            "windows": window_items,
            "metrics": model,
            "baseline": {"name": "seasonal_naive", "metrics": base},
            "skill": paired_skill(paired),
        }
        if without_scores:
            without = {name: metrics.average([w[name] for w in without_scores]) for name in MODEL_METRICS}
            result["without_covariates"] = {"metrics": without}
            result["covariate_skill"] = skill(model["MASE"], without["MASE"])
        results.append(result)
    return results


def plan_inputs(
    prepared: list[PreparedSeries], plans: list[tuple[int, list[int]]], horizon: int, joint: bool
) -> tuple[list[ModelInput], list[int], dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """The model inputs of every window, their cross-learning groups (the window number), and where each
    (series, window) finds its forecast among the model's target rows: with covariates, and without them
    (only for series that have covariates)."""
    units = [list(range(len(prepared)))] if joint else [[i] for i in range(len(prepared))]
    inputs: list[ModelInput] = []
    groups: list[int] = []
    rows: dict[tuple[int, int], int] = {}
    rows_without: dict[tuple[int, int], int] = {}
    row = 0
    for unit in units:
        first = prepared[unit[0]]
        target = np.stack([prepared[i].values for i in unit]) if joint else first.values
        variants = [(first.covariates, rows)] + ([([], rows_without)] if first.covariates else [])
        for k, c in enumerate(plans[unit[0]][1]):
            for covariates, where in variants:
                inputs.append(window_input(target, covariates, 0, c, horizon))
                groups.append(k)
                for j, i in enumerate(unit):
                    where[i, k] = row + j
                row += len(unit)
    return inputs, groups, rows, rows_without


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
    summary = {
        "metrics": {name: metrics.average([r["metrics"][name] for r in results]) for name in MODEL_METRICS},
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
