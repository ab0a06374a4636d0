"""The time axis of a series: parse the sheet's timestamps, infer the frequency, check the timeline is
regular (or repair it when asked), and continue it into the future in the input's own representation.

Timestamps arrive either as ISO-8601 strings or as Excel serial date numbers (1900 date system: days
since 1899-12-30, the fraction being the time of day). Whatever came in goes out: ISO in, ISO out
(date-only when the input was date-only); serials in, serials out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import BaseOffset

from .problems import InputError

Loc = tuple[str | int, ...]
Representation = Literal["date", "datetime", "excel", "steps"]
Aggregate = Literal["mean", "sum", "min", "max", "median", "last"]

EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "ms")
MS_PER_DAY = 86_400_000
MAX_FILLED_POINTS = 1_000_000
_DAY = 86_400
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_WEEKDAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


@dataclass(frozen=True)
class Timeline:
    """A regular timeline: the history's timestamps, their frequency and how to write them back."""

    index: pd.DatetimeIndex | None
    frequency: BaseOffset | None
    representation: Representation

    @property
    def frequency_alias(self) -> str | None:
        """The pandas offset alias of the frequency (``"MS"``, ``"W-SUN"``, ``"h"`` …), or None."""
        return None if self.frequency is None else self.frequency.freqstr

    def future_index(self, horizon: int) -> pd.DatetimeIndex | None:
        """The ``horizon`` timestamps that follow the history."""
        if self.index is None or self.frequency is None:
            return None
        return pd.date_range(self.index[-1], periods=horizon + 1, freq=self.frequency)[1:]

    def future(self, horizon: int) -> list | None:
        """The ``horizon`` future timestamps in the input's representation (None without timestamps)."""
        return self.format(self.future_index(horizon))

    def history(self) -> list | None:
        """Every history timestamp in the input's representation (None without timestamps)."""
        return self.format(self.index)

    def format(self, stamps: pd.DatetimeIndex | None) -> list | None:
        """Write timestamps in the input's representation."""
        if stamps is None or self.representation == "steps":
            return None
        if self.representation == "excel":
            naive = stamps.tz_localize(None) if stamps.tz is not None else stamps
            ms = naive.values.astype("datetime64[ms]") - EXCEL_EPOCH
            return (ms.astype(np.int64) / MS_PER_DAY).tolist()
        if self.representation == "date":
            return stamps.strftime("%Y-%m-%d").tolist()
        if stamps.tz is None:
            return stamps.strftime("%Y-%m-%dT%H:%M:%S").tolist()
        return [stamp.isoformat(timespec="seconds") for stamp in stamps]


def parse_frequency(alias: str, loc: Loc = ("frequency",)) -> BaseOffset:
    """Parse a pandas offset alias (``"D"``, ``"MS"``, ``"W-SUN"``, ``"15min"`` …)."""
    try:
        return to_offset(alias)
    except (ValueError, TypeError) as exc:
        raise InputError(loc, f"{alias!r} is not a pandas frequency alias ({exc})") from None


def excel_serials_to_datetimes(serials: Sequence[float]) -> pd.DatetimeIndex:
    """Convert Excel serial date numbers (days since 1899-12-30) to timestamps, to the millisecond."""
    ms = np.rint(np.asarray(serials, dtype=np.float64) * MS_PER_DAY).astype(np.int64)
    return pd.DatetimeIndex(EXCEL_EPOCH + ms.astype("timedelta64[ms]")).as_unit("ns")


def parse_timestamps(raw: Sequence[str | float], loc: Loc) -> tuple[pd.DatetimeIndex, Representation]:
    """Parse a series' timestamps, all ISO-8601 strings or all Excel serial numbers."""
    is_text = [isinstance(item, str) for item in raw]
    if any(is_text) and not all(is_text):
        first_kind = is_text[0]
        j = is_text.index(not first_kind)
        expected = "text dates" if first_kind else "Excel date numbers"
        raise InputError((*loc, j), f"{raw[j]!r} mixes kinds: the first timestamp makes this series use {expected}")
    if not all(is_text):
        serials = np.asarray(raw, dtype=np.float64)
        bad = np.flatnonzero((serials < 1) | (serials > 2_958_465))  # 1900-01-01 .. 9999-12-31
        if bad.size:
            j = int(bad[0])
            raise InputError((*loc, j), f"{raw[j]!r} is not an Excel date number (1 to 2958465)")
        return excel_serials_to_datetimes(serials), "excel"
    try:
        index = pd.DatetimeIndex(pd.to_datetime(list(raw), format="ISO8601"))
    except (ValueError, TypeError) as exc:
        j = _first_unparseable(raw)
        if j is None:  # each parses alone, so they disagree: mixed UTC offsets
            raise InputError(loc, f"timestamps must share one UTC offset ({exc})") from None
        raise InputError((*loc, j), f"{raw[j]!r} is not an ISO-8601 date or date-time") from None
    joined = "".join(raw)
    date_only = not ("T" in joined or " " in joined or ":" in joined)
    return index.as_unit("ns"), "date" if date_only else "datetime"


def _first_unparseable(raw: Sequence[str]) -> int | None:
    for j, item in enumerate(raw):
        try:
            pd.to_datetime(item, format="ISO8601")
        except (ValueError, TypeError):
            return j
    return None


def infer_frequency(index: pd.DatetimeIndex) -> BaseOffset | None:
    """Guess the frequency of a timeline, tolerating gaps, duplicates and disorder.

    Returns minutes/hours/seconds, days, business days, weeks anchored on their weekday, month,
    quarter and year starts or ends (anchored), or None when no such frequency fits.
    """
    if index.tz is None:  # sort_values() would also try to infer a frequency: slow
        ordered = pd.DatetimeIndex(np.unique(index.asi8).view("M8[ns]"))
    else:
        ordered = index.sort_values().unique()
    if len(ordered) < 2:
        return None
    steps = np.diff(ordered.asi8) // 1_000_000_000
    # The smallest step is the frequency's: gaps only ever make steps longer.
    typical = int(steps.min())
    if typical < _DAY:
        if typical % 3600 == 0:
            return to_offset(f"{typical // 3600}h")
        if typical % 60 == 0:
            return to_offset(f"{typical // 60}min")
        return to_offset(f"{typical}s")
    if not (ordered == ordered.normalize()).all():
        return None
    if typical == _DAY:
        weekdays_only = (ordered.day_of_week < 5).all()
        skips_weekend = bool(((steps == 3 * _DAY) & (ordered[1:].day_of_week == 0)).any())
        return to_offset("B" if weekdays_only and skips_weekend else "D")
    if typical < 7 * _DAY and typical % _DAY == 0:
        return to_offset(f"{typical // _DAY}D")
    if typical == 7 * _DAY:
        return to_offset(f"W-{_WEEKDAYS[ordered[0].day_of_week]}")
    months = _month_step(typical)
    if months is None:
        return None
    if ordered.is_month_start.all():
        kind = "start"
    elif ordered.is_month_end.all():
        kind = "end"
    else:
        return None
    first_month = ordered[0].month
    if months == 1:
        return to_offset("MS" if kind == "start" else "ME")
    if months == 3:
        anchor = (first_month - 1) % 3 if kind == "start" else (first_month - 1) % 3 + 9
        return to_offset(f"QS-{_MONTHS[anchor]}" if kind == "start" else f"QE-{_MONTHS[anchor]}")
    return to_offset(f"YS-{_MONTHS[first_month - 1]}" if kind == "start" else f"YE-{_MONTHS[first_month - 1]}")


def _month_step(typical_seconds: int) -> int | None:
    days = typical_seconds / _DAY
    if 28 <= days <= 31:
        return 1
    if 89 <= days <= 92:
        return 3
    if 365 <= days <= 366:
        return 12
    return None


def build_timeline(
    values: np.ndarray,
    timestamps: Sequence[str | float] | None,
    *,
    loc: Loc,
    frequency: str | None = None,
    start: str | float | None = None,
    fill_missing: bool = False,
    aggregate: Aggregate | None = None,
    columns: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, Timeline, dict[str, np.ndarray]]:
    """Give a series its regular timeline, returning its (possibly repaired) values, the timeline and
    its (repaired alike) extra ``columns``.

    ``values`` is a float array with NaN for missing points. ``columns`` are further arrays of the same
    length that travel with the values (covariates): float arrays (NaN = missing) or object arrays of
    text (None = missing). Irregular timelines raise ``InputError`` located at the first point that
    breaks the timeline, unless ``fill_missing`` (insert missing steps as NaN/None) and/or ``aggregate``
    (combine duplicate timestamps: numeric columns with the same function, text columns keep their last
    value) repair them.
    """
    columns = dict(columns or {})
    offset = parse_frequency(frequency) if frequency is not None else None
    if timestamps is None:
        if start is None:
            return values, Timeline(None, offset, "steps"), columns
        if offset is None:
            raise InputError(("frequency",), "a `start` needs a `frequency` to lay out the timeline")
        first, representation = parse_timestamps([start], ("start",))
        if not offset.is_on_offset(first[0]):
            raise InputError(("start",), f"{start!r} is not on the {offset.freqstr} timeline")
        index = pd.date_range(first[0], periods=len(values), freq=offset)
        return values, Timeline(index, offset, representation), columns

    stamps_loc = (*loc, "timestamps")
    if len(timestamps) != len(values):
        raise InputError(stamps_loc, f"has {len(timestamps)} timestamps for {len(values)} values; they must match")
    index, representation = parse_timestamps(timestamps, stamps_loc)
    if offset is None:
        offset = infer_frequency(index)
        if offset is None:
            raise InputError(
                stamps_loc,
                "cannot infer a frequency from these timestamps; pass `frequency` "
                "(a pandas alias such as 'D', 'B', 'W-SUN', 'MS', 'ME', 'QS', 'YS', 'h', '15min')",
            )
    positions = np.arange(len(index))
    if aggregate is not None:
        index, values, positions, columns = _combine_duplicates(index, values, aggregate, columns)
    if fill_missing:
        index, values, columns = _fill_gaps(index, values, positions, offset, timestamps, stamps_loc, columns)
    else:
        _check_regular(index, positions, offset, timestamps, stamps_loc)
    return values, Timeline(pd.DatetimeIndex(index, freq=None), offset, representation), columns


def _combine_duplicates(
    index: pd.DatetimeIndex, values: np.ndarray, how: Aggregate, columns: dict[str, np.ndarray]
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    order = np.argsort(index.asi8, kind="stable")

    def combine(column: np.ndarray) -> pd.Series:
        grouped = pd.Series(column[order], index=index[order]).groupby(level=0, sort=True)
        if column.dtype == object:  # text: the last value given for the timestamp
            return grouped.last()
        return grouped.sum(min_count=1) if how == "sum" else grouped.agg(how)

    combined = combine(values)
    first_position = pd.Series(order, index=index[order]).groupby(level=0, sort=True).first()
    repaired = {
        name: combine(column).to_numpy(dtype=column.dtype, na_value=None if column.dtype == object else np.nan)
        for name, column in columns.items()
    }
    return (
        pd.DatetimeIndex(combined.index),
        combined.to_numpy(dtype=np.float64),
        first_position.to_numpy(),
        repaired,
    )


def _check_regular(index: pd.DatetimeIndex, positions: np.ndarray, offset: BaseOffset, raw: Sequence, loc: Loc) -> None:
    if not offset.is_on_offset(index[0]):
        raise InputError((*loc, int(positions[0])), f"{raw[positions[0]]!r} is not on the {offset.freqstr} timeline")
    expected = pd.date_range(index[0], periods=len(index), freq=offset)
    broken = np.flatnonzero(index.asi8 != expected.asi8)
    if broken.size == 0:
        return
    k = int(broken[0])
    j = int(positions[k])
    here, previous = index[k], index[k - 1]
    shown, shown_previous = raw[j], raw[positions[k - 1]]
    if here == previous:
        msg = f'{shown!r} repeats the timestamp before it; set "aggregate" (e.g. "mean") to combine duplicates'
    elif here < previous:
        msg = f"{shown!r} comes before {shown_previous!r}, the timestamp above it; sort the data by date"
    elif offset.is_on_offset(here) and here > expected[k]:
        missing = len(pd.date_range(expected[k], here, freq=offset)) - 1
        msg = (
            f"{shown!r} leaves a gap after {shown_previous!r}: {missing} step(s) of frequency "
            f'{offset.freqstr} missing; set "fill_missing": true to insert them as blanks'
        )
    else:
        msg = f"{shown!r} is not on the {offset.freqstr} timeline that {shown_previous!r} is on"
    raise InputError((*loc, j), msg)


def _fill_gaps(
    index: pd.DatetimeIndex,
    values: np.ndarray,
    positions: np.ndarray,
    offset: BaseOffset,
    raw: Sequence,
    loc: Loc,
    columns: dict[str, np.ndarray],
) -> tuple[pd.DatetimeIndex, np.ndarray, dict[str, np.ndarray]]:
    backwards = np.flatnonzero(np.diff(index.asi8) <= 0)
    if backwards.size:
        k = int(backwards[0]) + 1
        j = int(positions[k])
        what = "repeats the timestamp before it" if index[k] == index[k - 1] else "is out of order"
        raise InputError((*loc, j), f'{raw[j]!r} {what}; set "aggregate" to combine or sort the data by date')
    if not offset.is_on_offset(index[0]):
        raise InputError((*loc, int(positions[0])), f"{raw[positions[0]]!r} is not on the {offset.freqstr} timeline")
    full = pd.date_range(index[0], index[-1], freq=offset)
    if len(full) > MAX_FILLED_POINTS:
        raise InputError(loc, f"filling the gaps would create {len(full)} points (at most {MAX_FILLED_POINTS})")
    slots = full.get_indexer(index)
    off_grid = np.flatnonzero(slots < 0)
    if off_grid.size:
        j = int(positions[off_grid[0]])
        raise InputError((*loc, j), f"{raw[j]!r} is not on the {offset.freqstr} timeline")

    def fill(column: np.ndarray) -> np.ndarray:
        filled = np.full(len(full), None if column.dtype == object else np.nan, dtype=column.dtype)
        filled[slots] = column
        return filled

    return full, fill(values), {name: fill(column) for name, column in columns.items()}
