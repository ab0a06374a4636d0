"""Covariates (drivers) of a series: read them from the request, and cut them into the library's dict
inputs (``{"target", "past_covariates", "future_covariates"}``) for any window of the history.

The library (``chronos.chronos2.preprocess``) does the rest: it stacks the dicts, encodes categorical
covariates (target encoding for one target, ordinal for several) and orders past-only before known-future
rows. We only hand it numeric covariates as float arrays (NaN = missing) and categorical ones as object
arrays of text (None = missing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from .problems import InputError

CovariateKind = Literal["numeric", "categorical"]
ModelInput = np.ndarray | dict
"""A 1-d context (n,), a 2-d joint context (n_targets, n), or a library dict input with covariates."""


@dataclass(frozen=True)
class Covariate:
    """One covariate of a series.

    ``values`` holds one entry per history point, followed (when ``future`` and the request is a forecast)
    by the ``horizon`` future entries. In backtests and anomaly scans ``future`` marks a covariate known in
    advance: its values over each window's horizon are taken from the history.
    """

    name: str
    kind: CovariateKind
    values: np.ndarray
    future: bool

    def describe(self) -> dict:
        """``{"name", "type", "future"}`` for responses."""
        return {"name": self.name, "type": self.kind, "future": self.future}


def read_column(raw: Sequence[float | bool | str | None]) -> tuple[CovariateKind, np.ndarray]:
    """Type a covariate's JSON values: any string makes it categorical (text, None = missing), else numeric
    (float64, NaN = missing, booleans as 1/0)."""
    if any(isinstance(v, str) for v in raw):
        return "categorical", np.array([None if v is None else as_text(v) for v in raw], dtype=object)
    return "numeric", np.array(raw, dtype=np.float64)  # None becomes NaN, True 1.0


def as_text(value: float | bool | str) -> str:
    """A category's text: numbers as written in a sheet (``3``, not ``3.0``), booleans as Excel's TRUE/FALSE."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def split_lengths(
    covariates: dict[str, list], n_values: int, horizon: int | None, loc: tuple
) -> dict[str, tuple[CovariateKind, np.ndarray, bool]]:
    """Type each covariate and check its length: ``n_values`` (past-only) or, when ``horizon`` is given
    (forecasts), ``n_values + horizon`` (known in the future). Returns name -> (kind, values, future)."""
    read = {}
    for name, raw in covariates.items():
        if len(raw) == n_values:
            future = False
        elif horizon is not None and len(raw) == n_values + horizon:
            future = True
        elif horizon is not None:
            raise InputError(
                (*loc, name),
                f"has {len(raw)} values; a covariate needs {n_values} (one per value: observed in the past only) "
                f"or {n_values + horizon} ({n_values} + horizon {horizon}: known in the future)",
            )
        else:
            raise InputError(
                (*loc, name),
                f"has {len(raw)} values for {n_values} values; a covariate needs one per value ({n_values}), "
                "and those known in advance are named in future_covariates",
            )
        kind, values = read_column(raw)
        read[name] = (kind, values, future)
    return read


def window_input(
    target: np.ndarray, covariates: Sequence[Covariate], start: int, stop: int, horizon: int
) -> ModelInput:
    """The model input for the context ``target[..., start:stop]`` forecast ``horizon`` steps ahead.

    Without covariates: the context array itself. With them: the library's dict, covariates cut to the
    same context; known-future ones also give their next ``horizon`` values (missing beyond their end).
    """
    context = target[..., start:stop]
    if not covariates:
        return context
    item: dict = {
        "target": context,
        "past_covariates": {c.name: c.values[start:stop] for c in covariates},
    }
    future = {c.name: _padded(c.values[stop : stop + horizon], horizon) for c in covariates if c.future}
    if future:
        item["future_covariates"] = future
    return item


def _padded(values: np.ndarray, length: int) -> np.ndarray:
    if len(values) == length:
        return values
    missing = np.full(length - len(values), None if values.dtype == object else np.nan, dtype=values.dtype)
    return np.concatenate([values, missing])


def schema_of(item: ModelInput) -> tuple:
    """Inputs with equal schemas can share one model call: targets, covariate names, kinds, future split."""
    if not isinstance(item, dict):
        return ("context",)
    target = np.asarray(item["target"])
    past = tuple(sorted((name, values.dtype == object) for name, values in item["past_covariates"].items()))
    return (target.shape[0] if target.ndim == 2 else 1, past, tuple(sorted(item.get("future_covariates", {}))))


def same_covariates(a: Sequence[Covariate], b: Sequence[Covariate]) -> str | None:
    """The first covariate name in which ``b`` differs from ``a`` (names, kinds or values), else None."""
    by_name = {c.name: c for c in b}
    for c in a:
        other = by_name.get(c.name)
        if other is None or other.kind != c.kind or other.future != c.future or len(other.values) != len(c.values):
            return c.name
        if c.kind == "numeric":
            if not np.array_equal(c.values, other.values, equal_nan=True):
                return c.name
        elif list(c.values) != list(other.values):
            return c.name
    extra = [name for name in by_name if name not in {c.name for c in a}]
    return extra[0] if extra else None
