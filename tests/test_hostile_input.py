"""Hostile or careless input never costs a 500, gigabytes, or a wrong number: every case found by hand is
a located 4xx or a right answer (issue: "Hostile input never costs a 500 or gigabytes")."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from chronos_excel.schemas import BacktestResponse, ForecastResponse

from .helpers import assert_problem, post_ok, series

DAYS4 = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]


@pytest.mark.parametrize(
    ("path", "body", "loc", "match"),
    [
        # 1: thousands of quantile levels
        ("/api/v1/forecast", {"series": [series([1.0, 2.0, 3.0])] * 3, "horizon": 1024,
                              "quantile_levels": [round(0.0001 * (k + 1), 4) for k in range(9999)]},
         ["quantile_levels"], "at most 99 quantile levels, got 9999"),
        # 1: an answer of millions of numbers
        ("/api/v1/forecast", {"series": [series([1.0, 2.0, 3.0])] * 1000, "horizon": 1024,
                              "quantile_levels": [0.1, 0.2, 0.3, 0.5, 0.8]},
         [], "the answer would hold 6,144,000 numbers"),
        # 2: a sub-second frequency, with fill_missing over a year
        ("/api/v1/forecast", {"series": [series([1.0, 2.0], ["2024-01-01", "2025-01-01"])], "frequency": "100ms",
                              "fill_missing": True, "horizon": 2},
         ["frequency"], "from 1 second to 100 years"),
        ("/api/v1/forecast", {"series": [series([1.0, 2.0], ["2024-01-01", "2025-01-01"])], "frequency": "1ns",
                              "fill_missing": True, "horizon": 2},
         ["frequency"], "from 1 second to 100 years"),
        # 2: a timeline that filling would make huge is sized before it is built
        ("/api/v1/forecast", {"series": [series([1.0, 2.0], ["2024-01-01", "2025-01-01"])], "frequency": "min",
                              "fill_missing": True, "horizon": 2},
         ["series", 0, "timestamps", 1], "about 527,041 points; at most 100,000 per series"),
        # 4: dates past 2262-04-11 in the horizon, in the input, as Excel serials
        ("/api/v1/forecast", {"series": [series([1.0, 2.0], ["2262-01-01", "2262-01-02"])], "horizon": 200},
         ["horizon"], "go past 2262-04-11"),
        ("/api/v1/forecast", {"series": [series([1.0, 2.0], ["2263-01-01", "2263-01-02"])], "horizon": 2},
         ["series", 0, "timestamps", 0], "outside the dates this server handles"),
        ("/api/v1/forecast", {"series": [series([1.0, 2.0], [2958464, 2958465])], "horizon": 2},
         ["series", 0, "timestamps", 0], "1 to 132320"),
        # 4: no date at all where one is needed ("" and "NaT" are what pandas reads as missing)
        ("/api/v1/anomalies", {"series": [series([1.0, 2.0, 3.0])], "start": "", "frequency": "1s"},
         ["start"], "'' is not a date"),
        ("/api/v1/forecast", {"series": [series([1.0, 2.0, 3.0], ["2024-01-01", "NaT", "2024-01-03"])], "horizon": 2},
         ["series", 0, "timestamps", 1], "'NaT' is not a date"),
        # 5: zero, negative and absurd frequencies
        ("/api/v1/forecast", {"series": [series([1.0, 2.0, 3.0])], "start": "2024-01-01", "frequency": "0D",
                              "horizon": 2},
         ["frequency"], "does not move forward in time"),
        ("/api/v1/forecast", {"series": [series([1.0, 2.0, 3.0], DAYS4[:3])], "frequency": "0h", "horizon": 2},
         ["frequency"], "does not move forward in time"),
        ("/api/v1/forecast", {"series": [series([1.0, 2.0, 3.0])], "start": "2024-01-01", "frequency": "1000000D",
                              "horizon": 2},
         ["frequency"], "from 1 second to 100 years"),
        ("/api/v1/forecast", {"series": [series([1.0, 2.0, 3.0])], "start": "2024-01-01", "frequency": "-1D",
                              "horizon": 2},
         ["frequency"], "does not move forward in time"),
        # 6: timestamps 0.1 s apart; Excel serials 1e-6 apart; identical stamps
        ("/api/v1/forecast", {"series": [series([1.0, 2.0, 3.0], ["2024-01-01T00:00:00.100", "2024-01-01T00:00:00.200",
                                                                  "2024-01-01T00:00:00.300"])], "horizon": 2},
         ["series", 0, "timestamps", 1], "timelines are inferred in whole seconds or longer"),
        ("/api/v1/forecast", {"series": [series([1.0, 2.0, 3.0], [45000.0, 45000.000001, 45000.000002])],
                              "horizon": 2},
         ["series", 0, "timestamps", 1], "whole seconds or longer"),
        ("/api/v1/forecast", {"series": [series([1.0, 2.0, 3.0], ["2024-01-01"] * 3)], "horizon": 2},
         ["series", 0, "timestamps", 1], "every timestamp is the same"),
        # 10: Excel's non-existent 29 February 1900
        ("/api/v1/forecast", {"series": [series([1.0, 2.0, 3.0], [59, 60, 61])], "horizon": 2},
         ["series", 0, "timestamps", 1], "Excel's 29 February 1900"),
        # 11: a string for a number; duplicate quantile levels
        ("/api/v1/anomalies", {"series": [series([1.0] * 40)], "level": "0.9"}, ["level"], 'got "0.9"'),
        ("/api/v1/backtest", {"series": [series([1.0] * 40)], "horizon": 2, "level": "0.9"}, ["level"], None),
        ("/api/v1/forecast", {"series": [series([1.0, 2.0])], "horizon": 2, "quantile_levels": [0.1, 0.5, 0.1]},
         ["quantile_levels"], "must be distinct, got 0.1 more than once"),
        # numbers beyond ±1e300 are refused, naming the value
        ("/api/v1/forecast", {"series": [series([1.0, 2e300, 3.0])], "horizon": 2},
         ["series", 0, "values", 1], "got 2e+300"),
        # a horizon over the maximum quotes it
        ("/api/v1/forecast", {"series": [series([1.0, 2.0])], "horizon": 5000},
         ["horizon"], "horizon must be at most 1024, got 5000"),
        # an integer past 64 bits is quoted back, not a 500
        ("/api/v1/backtest", {"series": [series([1.0] * 40)], "horizon": 2, "step": -9223372036854775809},
         ["step"], "got -9223372036854775809"),
        # a float that is not a whole number is not an integer
        ("/api/v1/forecast", {"series": [series([1.0, 2.0])], "horizon": 2.5}, ["horizon"], "got 2.5"),
    ],
)  # fmt: skip
def test_hostile_requests_are_located_4xx(client, path, body, loc, match):
    response = client.post(path, json=body)
    if loc == []:
        body_json = assert_problem(response, 422)
        assert match in body_json["detail"], body_json["detail"]
    else:
        assert_problem(response, 422, loc, match)


@pytest.mark.parametrize(
    "data",
    [
        "[" * 1000,  # unclosed
        "[" * 100_000 + "]" * 100_000,  # closed, but far too deep to be a request
        '{"series": [{"values": [1, 2]}], "horizon": ' + "[" * 5000 + "]" * 5000 + "}",
    ],
)
def test_malformed_or_deeply_nested_json_is_a_400(client, data):
    response = client.post("/api/v1/forecast", data=data, content_type="application/json")
    assert_problem(response, 400)


def test_a_charset_other_than_utf8_is_a_415_that_says_so(client):
    body = json.dumps({"series": [series([1.0, 2.0])], "horizon": 2}).encode("latin-1")
    response = client.post("/api/v1/forecast", data=body, content_type="application/json; charset=latin-1")
    assert_problem(response, 415, match="UTF-8")


def test_huge_values_give_a_json_answer_with_null_for_overflowing_metrics(client):
    values = [1e200 * (1 + 0.5 * math.sin(t)) for t in range(40)]
    data = post_ok(client, "/api/v1/backtest", {"series": [series(values)], "horizon": 4}, BacktestResponse)
    metrics = data["backtests"][0]["metrics"]
    assert metrics["RMSE"] is None  # (1e200)² overflows: null, not Infinity
    assert metrics["MAE"] is not None and metrics["MAE"] > 1e190


def test_values_of_order_1e19_forecast_in_their_own_units(client):
    body = {"series": [series([1e19, 2e19, 3e19] * 4)], "horizon": 6, "quantile_levels": [0.01, 0.1, 0.5, 0.9, 0.99]}
    [forecast] = post_ok(client, "/api/v1/forecast", body, ForecastResponse)["forecasts"]
    bands = np.array([forecast["quantiles"][k] for k in ("0.01", "0.1", "0.5", "0.9", "0.99")])
    assert np.isfinite(bands).all() and (np.diff(bands, axis=0) >= 0).all()
    assert (np.abs(np.array(forecast["median"])) > 1e17).all() and (np.abs(bands) < 1e21).all()
    # the same series in ordinary units gives the same forecast, scaled
    small = {**body, "series": [series([1.0, 2.0, 3.0] * 4)]}
    [reference] = post_ok(client, "/api/v1/forecast", small, ForecastResponse)["forecasts"]
    np.testing.assert_allclose(np.array(forecast["median"]) / 1e19, reference["median"], rtol=1e-3)


def test_tiny_values_forecast_in_their_own_units(client):
    body = {"series": [series([1e-30, 2e-30, 3e-30] * 4)], "horizon": 3}
    [forecast] = post_ok(client, "/api/v1/forecast", body, ForecastResponse)["forecasts"]
    [reference] = post_ok(client, "/api/v1/forecast", {**body, "series": [series([1.0, 2.0, 3.0] * 4)]},
                          ForecastResponse)["forecasts"]  # fmt: skip
    np.testing.assert_allclose(np.array(forecast["median"]) / 1e-30, reference["median"], rtol=1e-3)


def test_a_sub_daily_frequency_keeps_the_time_of_day(client):
    body = {"series": [series([1.0, 2.0, 3.0, 4.0])], "frequency": "12h", "start": "2024-01-01", "horizon": 4}
    [forecast] = post_ok(client, "/api/v1/forecast", body, ForecastResponse)["forecasts"]
    assert forecast["timestamps"] == [
        "2024-01-03T00:00:00",
        "2024-01-03T12:00:00",
        "2024-01-04T00:00:00",
        "2024-01-04T12:00:00",
    ]


def test_excel_serials_follow_excels_1900_calendar(client):
    # Excel's 1 Feb, 1 Mar, 1 Apr 1900 (Excel counts a 29 Feb 1900, so serials before 61 are a day off)
    body = {"series": [series([1.0, 2.0, 3.0], [32, 61, 92])], "horizon": 2}
    [forecast] = post_ok(client, "/api/v1/forecast", body, ForecastResponse)["forecasts"]
    assert forecast["frequency"] == "MS"
    assert forecast["timestamps"] == [122, 153]  # 1 May and 1 June 1900
    # and dates before March 1900 are written back Excel's way: 1 Jan 1900 is 1
    daily = {"series": [series([1.0, 2.0, 3.0], [1, 2, 3])], "horizon": 2}
    [forecast] = post_ok(client, "/api/v1/forecast", daily, ForecastResponse)["forecasts"]
    assert forecast["timestamps"] == [4, 5]
    across = {"series": [series([1.0, 2.0, 3.0], [57, 58, 59])], "horizon": 2}
    [forecast] = post_ok(client, "/api/v1/forecast", across, ForecastResponse)["forecasts"]
    assert forecast["timestamps"] == [61, 62]  # 28 Feb 1900 is followed by 1 Mar 1900 (61), never by 60


def test_integral_floats_are_integers(client):
    body = {"series": [series([1.0, 2.0, 3.0])], "horizon": 2.0}
    [forecast] = post_ok(client, "/api/v1/forecast", body, ForecastResponse)["forecasts"]
    assert len(forecast["median"]) == 2


def test_configured_limits_apply(tiny_model_dir):
    from chronos_excel import create_app

    app = create_app(
        {"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "MAX_QUANTILES": 3, "MAX_FILLED_POINTS": 5}
    )
    client = app.test_client()
    body = {"series": [series([1.0, 2.0])], "horizon": 2, "quantile_levels": [0.1, 0.2, 0.3, 0.4]}
    assert_problem(client.post("/api/v1/forecast", json=body), 422, ["quantile_levels"], "at most 3 quantile levels")
    gap = {"series": [series([1.0, 2.0, 3.0], DAYS4[:2] + ["2024-01-10"])], "fill_missing": True, "horizon": 2}
    assert_problem(client.post("/api/v1/forecast", json=gap), 422, ["series", 0, "timestamps", 2], "at most 5 per")
