"""Turn a validated request's series into float arrays on regular timelines, and arrays back into JSON."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .covariates import Covariate, ModelInput, same_covariates, split_lengths, window_input
from .problems import InputError
from .schemas import SeriesRequest
from .timeaxis import MAX_FILLED_POINTS, Timeline, build_timeline, check_horizon


@dataclass(frozen=True)
class PreparedSeries:
    """A series ready for the model: its name, values (NaN = missing), timeline and covariates."""

    name: str
    values: np.ndarray
    timeline: Timeline
    covariates: list[Covariate] = field(default_factory=list)


def prepare_series(
    request: SeriesRequest,
    horizon: int | None = None,
    future_covariates: list[str] | None = None,
    max_filled_points: int = MAX_FILLED_POINTS,
) -> list[PreparedSeries]:
    """Name each series, parse its timeline and covariates, and check it has at least one number.

    ``horizon`` is given for forecasts: covariates may then be ``horizon`` entries longer than the values
    (known in the future). Otherwise covariates are as long as the values and ``future_covariates`` names
    those known in advance. Series that share their timestamps (the usual case: columns beside one date
    column) share one parsed timeline, unless ``fill_missing``/``aggregate`` make the timeline depend on
    the values. Repairs apply to the covariates' history alike.
    """
    known_in_advance = set(future_covariates or [])
    _check_names_exist(request, future_covariates or [])
    prepared = []
    shared: dict[tuple, Timeline] = {}
    repairs = request.fill_missing or request.aggregate is not None
    for i, series in enumerate(request.series):
        raw = np.array(series.values, dtype=np.float64)  # None becomes NaN
        read = split_lengths(series.covariates or {}, len(raw), horizon, ("series", i, "covariates"))
        stamps = series.timestamps
        key = tuple(stamps) if stamps is not None and not repairs and len(stamps) == len(raw) else None
        history = {name: column[: len(raw)] for name, (_, column, _) in read.items()}
        if key is not None and key in shared:
            values, timeline = raw, shared[key]
        else:
            values, timeline, history = build_timeline(
                raw,
                stamps,
                loc=("series", i),
                frequency=request.frequency,
                start=request.start,
                fill_missing=request.fill_missing,
                aggregate=request.aggregate,
                columns=history,
                max_filled_points=max_filled_points,
            )
            if key is not None:
                shared[key] = timeline
        if np.isnan(values).all():
            raise InputError(("series", i, "values"), "has no numbers: every value is null")
        if horizon is not None and (key is None or not any(p.timeline is timeline for p in prepared)):
            check_horizon(timeline, horizon)
        covariates = [
            Covariate(
                name,
                kind,
                np.concatenate([history[name], column[len(raw) :]]) if future else history[name],
                future or name in known_in_advance,
            )
            for name, (kind, column, future) in read.items()
        ]
        prepared.append(PreparedSeries(series.name or f"Series {i + 1}", values, timeline, covariates))
    return prepared


def _check_names_exist(request: SeriesRequest, names: list[str]) -> None:
    known = {name for series in request.series for name in (series.covariates or {})}
    for k, name in enumerate(names):
        if name not in known:
            listed = ", ".join(repr(n) for n in sorted(known)) or "none"
            raise InputError(
                ("future_covariates", k), f"{name!r} is not a covariate of any series (covariates: {listed})"
            )


def check_joint(prepared: list[PreparedSeries]) -> None:
    """Series forecast jointly must share one timeline and, with covariates, the same covariates."""
    first = prepared[0]
    for i, series in enumerate(prepared[1:], start=1):
        if len(series.values) != len(first.values):
            raise InputError(
                ("series", i, "values"),
                f"has {len(series.values)} points but {first.name!r} has {len(first.values)}; "
                "series forecast jointly must share one timeline",
            )
        index, first_index = series.timeline.index, first.timeline.index
        if (index is None) != (first_index is None) or (index is not None and not index.equals(first_index)):
            raise InputError(
                ("series", i, "timestamps"),
                f"differ from the timestamps of {first.name!r}; series forecast jointly must share one timeline",
            )
        differing = same_covariates(first.covariates, series.covariates)
        if differing is not None:
            raise InputError(
                ("series", i, "covariates", differing),
                f"differs from the covariates of {first.name!r}; series forecast jointly must carry the same "
                "covariates (names and values)",
            )


def forecast_inputs(prepared: list[PreparedSeries], horizon: int, *, joint: bool = False) -> list[ModelInput]:
    """One model input per series from its whole history and covariates, or one for all (``joint``);
    either way the model answers one target row per series, in order."""
    if joint:
        target = np.stack([s.values for s in prepared])
        return [window_input(target, prepared[0].covariates, 0, target.shape[-1], horizon)]
    return [window_input(s.values, s.covariates, 0, len(s.values), horizon) for s in prepared]


def to_json(values: np.ndarray) -> list:
    """A JSON-safe list: NaN and infinities become null."""
    if np.isfinite(values).all():
        return values.tolist()
    return [float(v) if np.isfinite(v) else None for v in values]


def level_key(level: float) -> str:
    """Quantile keys are written like Python's ``str(float)``: 0.1 -> "0.1"."""
    return str(float(level))
