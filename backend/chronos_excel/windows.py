"""Rolling-origin windows over a series' own history: where they cut, and the model inputs that forecast them.
Backtests score the model on them; calibration learns from them how far its bands miss."""

from __future__ import annotations

import numpy as np

from .covariates import ModelInput, window_input
from .series import PreparedSeries

SEASONALITY = {"h": 24, "D": 7, "B": 5, "W": 52, "MS": 12, "ME": 12, "QS": 4, "QE": 4}


def default_seasonality(frequency: str | None) -> int:
    """24 hourly, 7 daily, 5 business-daily, 52 weekly, 12 monthly, 4 quarterly, else 1."""
    if frequency is None:
        return 1
    return SEASONALITY.get(frequency.split("-")[0], 1)


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


def plan_inputs(
    prepared: list[PreparedSeries],
    plans: list[tuple[int, list[int]]],
    horizon: int,
    joint: bool,
    *,
    context: int | None = None,
    without_covariates: bool = True,
) -> tuple[list[ModelInput], list[int], dict[tuple[int, int], int], dict[tuple[int, int], int]]:
    """The model inputs of every window, their cross-learning groups (the window number), and where each
    (series, window) finds its forecast among the model's target rows: with covariates, and (with
    ``without_covariates``) without them, for series that have covariates.

    ``plans`` holds per series (seasonality, cutoffs): each window forecasts ``horizon`` points after its cutoff
    from the points before it (the most recent ``context`` of them when given)."""
    units = [list(range(len(prepared)))] if joint else [[i] for i in range(len(prepared))]
    inputs: list[ModelInput] = []
    groups: list[int] = []
    rows: dict[tuple[int, int], int] = {}
    rows_without: dict[tuple[int, int], int] = {}
    row = 0
    for unit in units:
        first = prepared[unit[0]]
        target = np.stack([prepared[i].values for i in unit]) if joint else first.values
        variants = [(first.covariates, rows)] + (
            [([], rows_without)] if first.covariates and without_covariates else []
        )
        for k, c in enumerate(plans[unit[0]][1]):
            start = 0 if context is None else max(0, c - context)
            for covariates, where in variants:
                inputs.append(window_input(target, covariates, start, c, horizon))
                groups.append(k)
                for j, i in enumerate(unit):
                    where[i, k] = row + j
                row += len(unit)
    return inputs, groups, rows, rows_without
