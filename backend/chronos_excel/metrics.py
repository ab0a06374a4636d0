"""Forecast accuracy metrics, defined as in the ``fev`` evaluation library.

Each function scores one backtest window. ``y`` holds the actuals, NaN where missing; pairs with a NaN on
either side are skipped. A metric that cannot be computed (no pairs left, a zero scale) or that overflows
the float range (values near 1e300) is ``None``: answers are JSON, which has no NaN or Infinity.
"""

from __future__ import annotations

import numpy as np


def _finite(value: float | None) -> float | None:
    return value if value is not None and np.isfinite(value) else None


def _mean(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    with np.errstate(over="ignore", invalid="ignore"):
        return _finite(float(values.mean())) if values.size else None


def mae(y: np.ndarray, y_hat: np.ndarray) -> float | None:
    """Mean absolute error: mean |y - ŷ|."""
    return _mean(np.abs(y - y_hat))


def rmse(y: np.ndarray, y_hat: np.ndarray) -> float | None:
    """Root mean squared error: sqrt(mean (y - ŷ)²)."""
    with np.errstate(over="ignore"):
        mse = _mean((y - y_hat) ** 2)
    return None if mse is None else float(np.sqrt(mse))


def mape(y: np.ndarray, y_hat: np.ndarray) -> float | None:
    """Mean absolute percentage error: mean |y - ŷ| / |y|, skipping y = 0."""
    nonzero = y != 0
    return _mean(np.abs(y[nonzero] - y_hat[nonzero]) / np.abs(y[nonzero]))


def smape(y: np.ndarray, y_hat: np.ndarray) -> float | None:
    """Symmetric MAPE: mean 2|y - ŷ| / (|y| + |ŷ|), skipping pairs where both are 0."""
    denominator = np.abs(y) + np.abs(y_hat)
    keep = denominator != 0
    return _mean(2 * np.abs(y[keep] - y_hat[keep]) / denominator[keep])


def seasonal_scale(context: np.ndarray, seasonality: int) -> float | None:
    """MASE's scale: mean |y_t - y_{t-m}| over the context; None when it is 0 or undefined."""
    if len(context) <= seasonality:
        return None
    scale = _mean(np.abs(context[seasonality:] - context[:-seasonality]))
    return None if scale is None or scale == 0 else scale


def mase(y: np.ndarray, y_hat: np.ndarray, scale: float | None) -> float | None:
    """Mean absolute scaled error: MAE / the context's seasonal-naive in-sample MAE."""
    error = mae(y, y_hat)
    return None if error is None or scale is None else _finite(error / scale)


def wql(y: np.ndarray, quantiles: np.ndarray, levels: list[float]) -> float | None:
    """Weighted quantile loss: mean over levels q of mean_t 2|(y - ŷ_q)(1{y ≤ ŷ_q} - q)| / mean_t |y|.

    ``quantiles`` has shape (horizon, len(levels)).
    """
    losses = []
    for j, q in enumerate(levels):
        y_q = quantiles[:, j]
        keep = ~np.isnan(y) & ~np.isnan(y_q)
        scale = np.abs(y[keep]).mean() if keep.any() else 0.0
        if scale == 0:
            continue
        loss = 2 * np.abs((y[keep] - y_q[keep]) * ((y[keep] <= y_q[keep]) - q))
        losses.append(loss.mean() / scale)
    return _finite(float(np.mean(losses))) if losses else None


def coverage(y: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float | None:
    """Share of actuals inside [lower, upper]."""
    keep = ~np.isnan(y)
    if not keep.any():
        return None
    return float(((y[keep] >= lower[keep]) & (y[keep] <= upper[keep])).mean())


def average(per_window: list[float | None]) -> float | None:
    """Mean over the windows that define the metric; None when none does."""
    defined = [value for value in per_window if value is not None]
    with np.errstate(over="ignore"):
        return _finite(float(np.mean(defined))) if defined else None
