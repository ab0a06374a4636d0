"""The pane's pure helpers (dates, frequencies, A1 addresses), run in the browser as the pane runs them
(the ``js`` fixture of ``tests.pane_fixtures``)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from tests.pane_helpers import months, serial

pytest_plugins = ["tests.pane_fixtures"]


def hours(n: int, step: float = 1.0) -> list[float]:
    return [serial(datetime(2024, 1, 1) + timedelta(hours=step * k)) for k in range(n)]


def days(start: date, n: int, step: int = 1) -> list[float]:
    return [serial(start + timedelta(days=step * k)) for k in range(n)]


def weekdays(n: int) -> list[float]:
    out, day = [], date(2024, 1, 1)  # a Monday
    while len(out) < n:
        if day.weekday() < 5:
            out.append(serial(day))
        day += timedelta(days=1)
    return out


MONTH_ENDS = [serial(date(2023, m + 1, 1) - timedelta(days=1)) for m in range(1, 12)]


@pytest.mark.parametrize(
    ("serials", "label", "horizon"),
    [
        (hours(48), "hourly", 24),
        (hours(20, 0.25), "every 15 minutes", 10),
        (days(date(2024, 1, 1), 30), "daily", 14),
        (weekdays(30), "business days", 10),  # Friday to Monday is one step
        (days(date(2024, 1, 7), 20, 7), "weekly", 13),  # Sundays
        ([serial(d) for d in months(date(2022, 1, 1), 24)], "monthly", 12),
        (MONTH_ENDS, "monthly", 12),  # month ends: 31, 28, 31, 30, …
        ([serial(d) for d in months(date(2020, 1, 1), 24)][::3], "quarterly", 8),
        ([serial(date(2000 + k, 1, 1)) for k in range(20)], "yearly", 6),  # 365 and 366 days
        (days(date(2024, 1, 1), 10)[:4] + days(date(2024, 1, 6), 5), "irregular", 10),  # a day missing
    ],
)
def test_frequency_and_default_horizon(js, serials, label, horizon):
    frequency = js("dates.js", "detectFrequency", serials)
    assert frequency["label"] == label
    assert js("dates.js", "defaultHorizon", frequency) == horizon


@pytest.mark.parametrize(
    ("number_format", "is_date"),
    [
        ("yyyy-mm-dd", True),
        ("m/d/yyyy", True),
        ("mmm yy", True),
        ("[$-409]mmmm d, yyyy;@", True),  # a locale tag before the date
        ("dd/mm/yyyy hh:mm", True),
        ("General", False),
        ("0.00", False),
        ("#,##0", False),
        ("0%", False),
        ('0 "days"', False),  # quoted text is not a date code
        ("$#,##0.00", False),
        ("0.00E+00", False),
        ("@", False),
    ],
)
def test_date_number_formats(js, number_format, is_date):
    assert js("dates.js", "isDateFormat", number_format) is is_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-31", serial(date(2024, 1, 31))),
        ("2024/1/5", serial(date(2024, 1, 5))),
        ("2024-03", serial(date(2024, 3, 1))),  # a month: its first day
        ("2024-01-31T18:00:00", serial(datetime(2024, 1, 31, 18))),
        ("2024-01-31 06:30", serial(datetime(2024, 1, 31, 6, 30))),
        ("2024-02-30", None),  # no such day
        ("31/01/2024", None),  # ambiguous orders are not guessed
        ("Sales", None),
    ],
)
def test_date_text(js, text, expected):
    assert js("dates.js", "parseDateText", text) == expected


@pytest.mark.parametrize(
    ("index", "name"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA"), (16383, "XFD")]
)
def test_column_names(js, index, name):
    assert js("a1.js", "columnName", index) == name
    assert js("a1.js", "columnIndex", name) == index


@pytest.mark.parametrize(
    ("address", "parsed"),
    [
        ("Sheet1!A1:C145", {"sheet": "Sheet1", "r0": 0, "c0": 0, "r1": 144, "c1": 2}),
        ("'It''s data'!$B$2:C3", {"sheet": "It's data", "r0": 1, "c0": 1, "r1": 2, "c1": 2}),
        ("D5", {"sheet": None, "r0": 4, "c0": 3, "r1": 4, "c1": 3}),
        ("Sheet1!A:B", {"sheet": "Sheet1", "r0": 0, "c0": 0, "r1": 1048575, "c1": 1}),
        ("Sheet1!A1:B", None),
        ("Sheet1!", None),
        ("!A1", None),
    ],
)
def test_addresses(js, address, parsed):
    assert js("a1.js", "parseAddress", address) == parsed


@pytest.mark.parametrize(
    ("sheet", "quoted"), [("Sheet1", "Sheet1!A1"), ("Forecast (2)", "'Forecast (2)'!A1"), ("AB12", "'AB12'!A1")]
)
def test_sheet_names_are_quoted_like_excel(js, sheet, quoted):
    assert js("a1.js", "qualify", sheet, "A1") == quoted
