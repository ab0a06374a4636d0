"""Turn a validated request's series into float arrays on regular timelines, and arrays back into JSON."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .problems import InputError
from .schemas import SeriesRequest
from .timeaxis import Timeline, build_timeline


@dataclass(frozen=True)
class PreparedSeries:
    """A series ready for the model: its name, values (NaN = missing) and timeline."""

    name: str
    values: np.ndarray
    timeline: Timeline


def prepare_series(request: SeriesRequest) -> list[PreparedSeries]:
    """Name each series, parse its timeline and check it has at least one number."""
    prepared = []
    for i, series in enumerate(request.series):
        raw = np.array(series.values, dtype=np.float64)  # None becomes NaN
        values, timeline = build_timeline(
            raw,
            series.timestamps,
            loc=("series", i),
            frequency=request.frequency,
            start=request.start,
            fill_missing=request.fill_missing,
            aggregate=request.aggregate,
        )
        if np.isnan(values).all():
            raise InputError(("series", i, "values"), "has no numbers: every value is null")
        prepared.append(PreparedSeries(series.name or f"Series {i + 1}", values, timeline))
    return prepared


def to_json(values: np.ndarray) -> list:
    """A JSON-safe list: NaN and infinities become null."""
    if np.isfinite(values).all():
        return values.tolist()
    return [float(v) if np.isfinite(v) else None for v in values]


def level_key(level: float) -> str:
    """Quantile keys are written like Python's ``str(float)``: 0.1 -> "0.1"."""
    return str(float(level))
