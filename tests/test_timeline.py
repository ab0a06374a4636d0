"""Forecasts continue the sheet's own timeline, in the representation it came in."""

from __future__ import annotations

import pandas as pd
import pytest

from chronos_excel.timeaxis import excel_serials_to_datetimes

from .helpers import assert_problem, series

VALUES = [float(v) for v in range(10, 22)]


def forecast(client, body: dict) -> dict:
    response = client.post("/api/v1/forecast", json={"horizon": 3, **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["forecasts"][0]


def iso(index: pd.DatetimeIndex, date_only: bool) -> list[str]:
    return index.strftime("%Y-%m-%d" if date_only else "%Y-%m-%dT%H:%M:%S").tolist()


@pytest.mark.parametrize(
    ("start", "freq", "expected_alias", "date_only"),
    [
        ("2024-03-01 10:00", "15min", "15min", False),  # minutes
        ("2024-03-01 22:00", "h", "h", False),  # hours, across midnight
        ("2024-02-25", "D", "D", True),  # days, across month end and leap day
        ("2024-03-04", "B", "B", True),  # business days skip weekends
        ("2024-03-03", "W-SUN", "W-SUN", True),  # weeks anchored on Sunday
        ("2024-03-06", "W-WED", "W-WED", True),  # weeks anchored on Wednesday
        ("2023-01-01", "MS", "MS", True),  # month starts
        ("2023-01-31", "ME", "ME", True),  # month ends: Feb 28, Mar 31, ...
        ("2020-01-01", "QS-JAN", "QS-JAN", True),  # quarter starts
        ("2020-03-31", "QE-DEC", "QE-DEC", True),  # quarter ends
        ("2010-01-01", "YS-JAN", "YS-JAN", True),  # year starts
        ("2010-12-31", "YE-DEC", "YE-DEC", True),  # year ends
    ],
)
def test_frequency_is_inferred_and_the_timeline_continued(client, start, freq, expected_alias, date_only):
    history = pd.date_range(start, periods=len(VALUES), freq=freq)
    future = pd.date_range(history[-1], periods=4, freq=freq)[1:]
    result = forecast(client, {"series": [series(VALUES, iso(history, date_only))]})
    assert result["frequency"] == expected_alias
    assert result["timestamps"] == iso(future, date_only)


def test_excel_serials_in_give_excel_serials_out(client):
    months = pd.date_range("2024-01-01", periods=12, freq="MS")
    serials = ((months - pd.Timestamp("1899-12-30")).days).astype(float).tolist()
    result = forecast(client, {"series": [series(VALUES, serials)]})
    assert result["frequency"] == "MS"
    assert result["timestamps"] == [45658.0, 45689.0, 45717.0]  # 2025-01-01, 2025-02-01, 2025-03-01
    assert excel_serials_to_datetimes(result["timestamps"]).strftime("%Y-%m-%d").tolist() == [
        "2025-01-01",
        "2025-02-01",
        "2025-03-01",
    ]


def test_excel_serials_with_a_time_of_day(client):
    serials = [45292.0 + k / 24 for k in range(12)]  # 2024-01-01 00:00 hourly
    result = forecast(client, {"series": [series(VALUES, serials)]})
    assert result["frequency"] == "h"
    assert [round(s * 24) for s in result["timestamps"]] == [45292 * 24 + 12, 45292 * 24 + 13, 45292 * 24 + 14]


def test_month_end_is_not_mistaken_for_month_start(client):
    ends = ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]
    result = forecast(client, {"series": [series(VALUES[:4], ends)]})
    assert result["frequency"] == "ME"
    assert result["timestamps"] == ["2024-05-31", "2024-06-30", "2024-07-31"]


def test_business_days_continue_across_the_weekend(client):
    days = ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08", "2024-03-11"]
    result = forecast(client, {"series": [series(VALUES[:6], days)]})
    assert result["frequency"] == "B"
    assert result["timestamps"] == ["2024-03-12", "2024-03-13", "2024-03-14"]
    friday = forecast(client, {"series": [series(VALUES[:5], days[:5])], "frequency": "B"})
    assert friday["timestamps"] == ["2024-03-11", "2024-03-12", "2024-03-13"]


def test_utc_offset_is_kept(client):
    stamps = [f"2024-03-01T{h:02d}:00:00+02:00" for h in range(6)]
    result = forecast(client, {"series": [series(VALUES[:6], stamps)]})
    assert result["timestamps"] == [
        "2024-03-01T06:00:00+02:00",
        "2024-03-01T07:00:00+02:00",
        "2024-03-01T08:00:00+02:00",
    ]


def test_start_and_frequency_build_the_timeline(client):
    result = forecast(client, {"series": [series(VALUES[:4])], "start": "2024-01-01", "frequency": "MS"})
    assert result["timestamps"] == ["2024-05-01", "2024-06-01", "2024-07-01"]
    assert result["frequency"] == "MS"
    serial = forecast(client, {"series": [series(VALUES[:4])], "start": 45292.0, "frequency": "D"})
    assert serial["timestamps"] == [45296.0, 45297.0, 45298.0]


def test_without_timestamps_the_steps_are_just_numbered(client):
    result = forecast(client, {"series": [series(VALUES)]})
    assert result["timestamps"] is None and result["frequency"] is None
    assert len(result["median"]) == 3


def test_frequency_override_wins_over_inference(client):
    days = pd.date_range("2024-01-01", periods=12, freq="D")
    result = forecast(client, {"series": [series(VALUES, iso(days, True))], "frequency": "D"})
    assert result["timestamps"][0] == "2024-01-13"


def test_a_gap_is_rejected_at_the_first_point_after_it(client):
    days = iso(pd.date_range("2024-01-01", periods=12, freq="D"), True)
    del days[5]
    body = {"series": [series(VALUES[:11], days)], "horizon": 3}
    response = client.post("/api/v1/forecast", json=body)
    assert_problem(response, 422, ["series", 0, "timestamps", 5], "'2024-01-07'")


def test_a_duplicate_is_rejected_where_it_repeats(client):
    days = iso(pd.date_range("2024-01-01", periods=12, freq="D"), True)
    days[7] = days[6]
    response = client.post("/api/v1/forecast", json={"series": [series(VALUES, days)], "horizon": 3})
    assert_problem(response, 422, ["series", 0, "timestamps", 7], "'2024-01-07'")


def test_out_of_order_is_rejected_where_order_breaks(client):
    days = iso(pd.date_range("2024-01-01", periods=12, freq="D"), True)
    days[3], days[4] = days[4], days[3]
    response = client.post("/api/v1/forecast", json={"series": [series(VALUES, days)], "horizon": 3})
    assert_problem(response, 422, ["series", 0, "timestamps", 3], "'2024-01-05'")


def test_fill_missing_inserts_the_missing_steps(client):
    months = iso(pd.date_range("2023-01-01", periods=12, freq="MS"), True)
    del months[4:6]  # May and June missing
    body = {"series": [series(VALUES[:10], months)], "fill_missing": True, "horizon": 3}
    result = client.post("/api/v1/forecast", json=body).get_json()["forecasts"][0]
    assert result["frequency"] == "MS"
    assert result["timestamps"] == ["2024-01-01", "2024-02-01", "2024-03-01"]


def test_aggregate_combines_duplicates(client):
    days = ["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03", "2024-01-04"]
    values = [1.0, 2.0, 4.0, 5.0, 6.0]
    mean = client.post("/api/v1/forecast", json={"series": [series(values, days)], "aggregate": "mean", "horizon": 2})
    assert mean.status_code == 200
    assert mean.get_json()["forecasts"][0]["timestamps"] == ["2024-01-05", "2024-01-06"]
    # the combined series forecasts like the same series sent already combined
    combined = client.post(
        "/api/v1/forecast",
        json={"series": [series([1.0, 3.0, 5.0, 6.0], [days[0], days[1], days[3], days[4]])], "horizon": 2},
    )
    assert mean.get_json()["forecasts"][0]["median"] == combined.get_json()["forecasts"][0]["median"]


def test_aggregate_and_fill_missing_together_repair_a_messy_timeline(client):
    days = ["2024-01-03", "2024-01-01", "2024-01-01", "2024-01-05", "2024-01-06"]
    body = {"series": [series([3.0, 1.0, 2.0, 5.0, 6.0], days)], "aggregate": "sum", "fill_missing": True}
    result = client.post("/api/v1/forecast", json={**body, "horizon": 2}).get_json()["forecasts"][0]
    assert result["timestamps"] == ["2024-01-07", "2024-01-08"]


@pytest.mark.parametrize("path", ["/api/v1/forecast", "/api/v1/anomalies", "/api/v1/backtest"])
@pytest.mark.parametrize(
    ("timestamps", "future"),
    [
        # the first days the server handles, as date text and as date-times
        ([f"1677-09-{d}" for d in range(22, 30)], ["1677-09-30", "1677-10-01"]),
        ([f"1677-09-22T{h:02d}:00:00" for h in range(8)], ["1677-09-22T08:00:00", "1677-09-22T09:00:00"]),
        # the last: the forecast ends on 2262-04-11, the last date
        ([f"2262-04-{d:02d}" for d in range(1, 10)], ["2262-04-10", "2262-04-11"]),
        ([f"2262-04-11T{h:02d}:00:00" for h in range(8, 16)], ["2262-04-11T16:00:00", "2262-04-11T17:00:00"]),
    ],
)
def test_the_ends_of_the_calendar_work_on_every_pandas_the_project_allows(client, path, timestamps, future):
    """pandas 2 (the floor) holds nanosecond timestamps only up to 2262-04-11 23:47: checking a date against the
    day after the last one overflowed there, and every dated request answered 500."""
    values = [float(10 + k % 3) for k in range(len(timestamps))]
    body = {"series": [series(values, timestamps)], "horizon": 2}
    if path == "/api/v1/anomalies":
        body = {"series": [series(values, timestamps)], "min_context": 4}
    elif path == "/api/v1/backtest":
        body = {**body, "windows": 1, "seasonality": 1}
    response = client.post(path, json=body)
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    if path == "/api/v1/forecast":
        assert answer["forecasts"][0]["timestamps"] == future
    elif path == "/api/v1/anomalies":
        assert answer["anomalies"][0]["timestamps"] == timestamps
    else:
        assert answer["backtests"][0]["windows"][0]["timestamps"] == timestamps[-2:]


def test_one_day_past_the_calendar_is_a_located_422(client):
    stamps = ["2262-04-10", "2262-04-11", "2262-04-12"]
    response = client.post("/api/v1/forecast", json={"series": [series([1.0, 2.0, 3.0], stamps)], "horizon": 1})
    assert_problem(response, 422, ["series", 0, "timestamps", 2], "outside the dates this server handles")
