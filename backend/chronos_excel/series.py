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
    """Name each series, parse its timeline and check it has at least one number.

    Series that share their timestamps (the usual case: columns beside one date column) share one
    parsed timeline, unless ``fill_missing``/``aggregate`` make the timeline depend on the values.
    """
    prepared = []
    shared: dict[tuple, Timeline] = {}
    repairs = request.fill_missing or request.aggregate is not None
    for i, series in enumerate(request.series):
        raw = np.array(series.values, dtype=np.float64)  # None becomes NaN
        stamps = series.timestamps
        key = tuple(stamps) if stamps is not None and not repairs and len(stamps) == len(raw) else None
        if key is not None and key in shared:
            values, timeline = raw, shared[key]
        else:
            values, timeline = build_timeline(
                raw,
                stamps,
                loc=("series", i),
                frequency=request.frequency,
                start=request.start,
                fill_missing=request.fill_missing,
                aggregate=request.aggregate,
            )
            if key is not None:
                shared[key] = timeline
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
