"""The time axis of a series: parse the sheet's timestamps, infer the frequency, check the timeline is
regular (or repair it when asked), and continue it into the future in the input's own representation.

Timestamps arrive either as ISO-8601 strings or as Excel serial date numbers (1900 date system: days
since 1899-12-30, the fraction being the time of day). Whatever came in goes out: ISO in, ISO out
(date-only when the input was date-only); serials in, serials out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pandas.errors import OutOfBoundsDatetime
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import BaseOffset, Tick

from .problems import InputError

Loc = tuple[str | int, ...]
Representation = Literal["date", "datetime", "excel", "steps"]
Aggregate = Literal["mean", "sum", "min", "max", "median", "last"]

EXCEL_EPOCH = np.datetime64("1899-12-30T00:00:00", "ms")
# Excel counts a 29 February 1900 that never was (serial 60): serials 1-59 are one day earlier than the
# epoch above says, and 1900-01-01 .. 1900-02-28 are written that way back.
EXCEL_FAKE_LEAP_DAY = 60
EXCEL_MARCH_1900 = np.datetime64("1900-03-01T00:00:00", "ms")
MS_PER_DAY = 86_400_000
NS_PER_SECOND = 1_000_000_000
MAX_FILLED_POINTS = 100_000
MAX_STEP = pd.Timedelta(days=36_525)  # a frequency's step: from 1 second to 100 years
FIRST_DATE, LAST_DATE = pd.Timestamp("1677-09-22"), pd.Timestamp("2262-04-11")
MAX_EXCEL_SERIAL = (LAST_DATE - pd.Timestamp("1899-12-30")).days
DATE_RANGE = f"{FIRST_DATE:%Y-%m-%d} to {LAST_DATE:%Y-%m-%d}"
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
            moments = naive.values.astype("datetime64[ms]")
            serials = (moments - EXCEL_EPOCH).astype(np.int64) / MS_PER_DAY
            return np.where(moments < EXCEL_MARCH_1900, serials - 1, serials).tolist()
        if self.representation == "date":
            return stamps.strftime("%Y-%m-%d").tolist()
        if stamps.tz is None:
            return stamps.strftime("%Y-%m-%dT%H:%M:%S").tolist()
        return [stamp.isoformat(timespec="seconds") for stamp in stamps]


def parse_frequency(alias: str, loc: Loc = ("frequency",)) -> BaseOffset:
    """Parse a pandas offset alias (``"D"``, ``"MS"``, ``"W-SUN"``, ``"15min"`` …) whose step moves
    forward by 1 second to 100 years."""
    try:
        offset = to_offset(alias)
    except (ValueError, TypeError, FutureWarning) as exc:  # FutureWarning: pandas 2's deprecation, as an error
        raise InputError(loc, f"{alias!r} is not a pandas frequency alias ({exc})") from None
    if _rule_code(alias) != _rule_code(offset.freqstr):
        # pandas 2 still reads aliases that pandas 3 refuses ('M', 'H', 'T', 'A', 'd' ...): refuse them on both
        raise InputError(loc, f"{alias!r} is not a pandas frequency alias (write it {offset.freqstr!r})")
    if offset.n <= 0:
        raise InputError(loc, f"{alias!r} does not move forward in time: the multiple must be 1 or more")
    reference = pd.Timestamp("2000-01-01")
    try:
        step = (reference + offset) - reference
    except (OverflowError, ValueError):
        step = MAX_STEP * 2
    if step < pd.Timedelta(seconds=1) or step > MAX_STEP:
        raise InputError(loc, f"{alias!r} is a step of {step}; a frequency must be from 1 second to 100 years")
    return offset


def _rule_code(alias: str) -> str:
    """The letters of an alias without its multiple and anchor: '2W-MON' -> 'W'."""
    return re.sub(r"^[+-]?\d+", "", alias.strip()).split("-")[0]


def excel_serials_to_datetimes(serials: Sequence[float]) -> pd.DatetimeIndex:
    """Convert Excel serial date numbers to timestamps, to the millisecond, as Excel reads them: 1 is
    1900-01-01, 59 is 1900-02-28, 61 is 1900-03-01 (60, Excel's 29 February 1900, must be excluded first)."""
    days = np.asarray(serials, dtype=np.float64)
    days = np.where(days < EXCEL_FAKE_LEAP_DAY, days + 1, days)
    ms = np.rint(days * MS_PER_DAY).astype(np.int64)
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
        bad = np.flatnonzero((serials < 1) | (serials > MAX_EXCEL_SERIAL + 0.99))  # pandas ends at 23:47 that day
        if bad.size:
            j = int(bad[0])
            raise InputError(
                (*loc, j),
                f"{raw[j]!r} is not an Excel date number this server can represent "
                f"(1 to {MAX_EXCEL_SERIAL}: 1900-01-01 to {LAST_DATE:%Y-%m-%d})",
            )
        leap = np.flatnonzero((serials >= EXCEL_FAKE_LEAP_DAY) & (serials < EXCEL_FAKE_LEAP_DAY + 1))
        if leap.size:
            j = int(leap[0])
            raise InputError((*loc, j), f"{raw[j]!r} is Excel's 29 February 1900, a day that did not exist")
        return excel_serials_to_datetimes(serials), "excel"
    try:
        index = pd.DatetimeIndex(pd.to_datetime(list(raw), format="ISO8601"))
    except (ValueError, TypeError, OverflowError) as exc:
        j = _first_unparseable(raw)
        if j is None:  # each parses alone, so they disagree: mixed UTC offsets
            raise InputError(loc, f"timestamps must share one UTC offset ({exc})") from None
        if isinstance(_parse_one(raw[j]), OutOfBoundsDatetime):
            raise InputError((*loc, j), f"{raw[j]!r} is outside the dates this server handles ({DATE_RANGE})") from None
        raise InputError((*loc, j), f"{raw[j]!r} is not an ISO-8601 date or date-time") from None
    blank = np.flatnonzero(index.isna())  # pandas reads "", "NaT" and "nan" as no date
    if blank.size:
        j = int(blank[0])
        raise InputError((*loc, j), f"{raw[j]!r} is not a date: every timestamp needs one")
    naive = index.tz_localize(None) if index.tz is not None else index
    # by calendar day: LAST_DATE's end is past what pandas 2's nanosecond timestamps can hold
    outside = np.flatnonzero((naive < FIRST_DATE) | (naive.normalize() > LAST_DATE))
    if outside.size:
        j = int(outside[0])
        raise InputError((*loc, j), f"{raw[j]!r} is outside the dates this server handles ({DATE_RANGE})")
    joined = "".join(raw)
    date_only = not ("T" in joined or " " in joined or ":" in joined)
    return index.as_unit("ns"), "date" if date_only else "datetime"


def _parse_one(item: str) -> pd.Timestamp | Exception:
    try:
        return pd.to_datetime(item, format="ISO8601")
    except (ValueError, TypeError, OverflowError) as exc:
        return exc


def _first_unparseable(raw: Sequence[str]) -> int | None:
    for j, item in enumerate(raw):
        if isinstance(_parse_one(item), Exception):
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
    steps_ns = np.diff(ordered.asi8)
    # The smallest step is the frequency's: gaps only ever make steps longer.
    if steps_ns.min() % NS_PER_SECOND:  # spacing below (or not a multiple of) one second
        return None
    steps = steps_ns // NS_PER_SECOND
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


def _not_inferred(index: pd.DatetimeIndex, raw: Sequence, loc: Loc) -> InputError:
    """Why no frequency fits, located at the timestamp that shows it when one does."""
    hint = "pass `frequency` (a pandas alias such as 'D', 'B', 'W-SUN', 'MS', 'ME', 'QS', 'YS', 'h', '15min')"
    if len(index) > 1 and (index == index[0]).all():
        return InputError((*loc, 1), f"{raw[1]!r}: every timestamp is the same, so there is no timeline to continue")
    order = np.argsort(index.asi8, kind="stable")
    gaps = np.diff(index.asi8[order])
    close = np.flatnonzero((gaps > 0) & (gaps % NS_PER_SECOND != 0))
    if close.size:
        k = int(close[np.argmin(gaps[close])])
        j, before = int(order[k + 1]), int(order[k])
        spacing = pd.Timedelta(int(gaps[k]), "ns")
        return InputError(
            (*loc, j),
            f"{raw[j]!r} is {spacing} after {raw[before]!r}: timelines are inferred in whole seconds or longer",
        )
    return InputError(loc, f"cannot infer a frequency from these timestamps; {hint}")


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
    max_filled_points: int = MAX_FILLED_POINTS,
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
        try:
            first, representation = parse_timestamps([start], ("start",))
        except InputError as exc:
            raise InputError(("start",), exc.msg) from None
        if not offset.is_on_offset(first[0]):
            raise InputError(("start",), f"{start!r} is not on the {offset.freqstr} timeline")
        index = _date_range(first[0], len(values), offset, ("start",))
        return values, Timeline(index, offset, _with_time(representation, offset)), columns

    stamps_loc = (*loc, "timestamps")
    if len(timestamps) != len(values):
        raise InputError(stamps_loc, f"has {len(timestamps)} timestamps for {len(values)} values; they must match")
    index, representation = parse_timestamps(timestamps, stamps_loc)
    if offset is None:
        offset = infer_frequency(index)
        if offset is None:
            raise _not_inferred(index, timestamps, stamps_loc)
    positions = np.arange(len(index))
    if aggregate is not None:
        index, values, positions, columns = _combine_duplicates(index, values, aggregate, columns)
    if fill_missing:
        index, values, columns = _fill_gaps(
            index, values, positions, offset, timestamps, stamps_loc, columns, max_filled_points
        )
    else:
        _check_regular(index, positions, offset, timestamps, stamps_loc)
    return values, Timeline(pd.DatetimeIndex(index, freq=None), offset, _with_time(representation, offset)), columns


def _with_time(representation: Representation, offset: BaseOffset) -> Representation:
    """Date-only input on a sub-daily frequency is written back with its time of day."""
    if representation == "date" and isinstance(offset, Tick) and offset.nanos < _DAY * NS_PER_SECOND:
        return "datetime"
    return representation


def _date_range(first: pd.Timestamp, periods: int, offset: BaseOffset, loc: Loc) -> pd.DatetimeIndex:
    try:
        return pd.date_range(first, periods=periods, freq=offset)
    except (OutOfBoundsDatetime, OverflowError):
        raise InputError(loc, f"{periods} steps of {offset.freqstr} go past {LAST_DATE:%Y-%m-%d}") from None


def check_horizon(timeline: Timeline, horizon: int) -> None:
    """A forecast's last timestamp must be a date this server can represent."""
    if timeline.index is not None and timeline.frequency is not None:
        _date_range(timeline.index[-1], horizon + 1, timeline.frequency, ("horizon",))


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
    max_points: int,
) -> tuple[pd.DatetimeIndex, np.ndarray, dict[str, np.ndarray]]:
    backwards = np.flatnonzero(np.diff(index.asi8) <= 0)
    if backwards.size:
        k = int(backwards[0]) + 1
        j = int(positions[k])
        what = "repeats the timestamp before it" if index[k] == index[k - 1] else "is out of order"
        raise InputError((*loc, j), f'{raw[j]!r} {what}; set "aggregate" to combine or sort the data by date')
    if not offset.is_on_offset(index[0]):
        raise InputError((*loc, int(positions[0])), f"{raw[positions[0]]!r} is not on the {offset.freqstr} timeline")
    reference = pd.Timestamp("2000-01-01")
    shortest_step = min(((reference + k * offset) - (reference + (k - 1) * offset)) for k in range(1, 13))
    estimate = (index[-1] - index[0]) // shortest_step + 1
    if estimate > max_points:
        j = int(positions[-1])
        raise InputError(
            (*loc, j),
            f"filling the gaps from {raw[positions[0]]!r} to {raw[j]!r} at frequency {offset.freqstr} would make "
            f"about {estimate:,} points; at most {max_points:,} per series",
        )
    full = pd.date_range(index[0], index[-1], freq=offset)
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
