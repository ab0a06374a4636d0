"""/api/v1/backtest: rolling windows where the issue puts them, a hand-checkable seasonal-naive baseline, and
every reported metric equal to an independent recomputation from the response and the input."""

from __future__ import annotations

import copy
import math

import numpy as np
import pandas as pd
import pytest
import torch
from chronos.chronos2 import Chronos2Pipeline
from chronos.utils import interpolate_quantiles

from chronos_excel.schemas import BacktestResponse

from .helpers import assert_problem, post_ok, series
from .test_metrics import (
    naive_average,
    naive_coverage,
    naive_mae,
    naive_mape,
    naive_mase,
    naive_rmse,
    naive_scale,
    naive_smape,
    naive_wql,
)

MODEL_METRICS = ["MAE", "RMSE", "MAPE", "sMAPE", "MASE", "WQL", "coverage"]
BASELINE_METRICS = ["MAE", "RMSE", "MAPE", "sMAPE", "MASE"]


@pytest.fixture(scope="module")
def pipeline(tiny_model_dir):
    return Chronos2Pipeline.from_pretrained(str(tiny_model_dir), device_map="cpu")


def oracle_forecast(pipeline, contexts: list[list[float]], horizon: int, levels: list[float]) -> tuple:
    """Call the pipeline directly: median and interpolated ``levels`` of the per-step sorted quantiles."""
    tensors = [torch.tensor(c, dtype=torch.float32) for c in contexts]
    grid = torch.cat(pipeline.predict(tensors, prediction_length=horizon), dim=0).transpose(1, 2).sort(dim=-1).values
    median = grid[..., pipeline.quantiles.index(0.5)].numpy()
    return median, interpolate_quantiles(levels, pipeline.quantiles, grid).numpy()


def backtest(client, body: dict) -> dict:
    """Post, check the answer is JSON without NaN that validates against the response model, return it."""
    return post_ok(client, "/api/v1/backtest", body, BacktestResponse)


def nan(values: list) -> list[float]:
    return [math.nan if v is None else float(v) for v in values]


def cutoffs(n: int, horizon: int, windows: int, step: int) -> list[int]:
    """0-based index of each window's last context point, oldest first, as the issue defines them."""
    return [n - horizon - (windows - 1 - k) * step - 1 for k in range(windows)]


def assert_close(found, expected):
    if expected is None:
        assert found is None
    else:
        assert found == pytest.approx(expected, rel=1e-9, abs=1e-12)


def recompute(values: list, result: dict, m: int, levels: list[float], ends: list[int], bands: list[tuple]) -> dict:
    """A series' metrics from the input, the response's own forecasts and the coverage band of each window.

    ``ends`` holds the index of each window's last context point.
    """
    model_windows, baseline_windows = [], []
    for window, end, (lower, upper) in zip(result["windows"], ends, bands, strict=True):
        context = nan(values[: end + 1])
        y, median, baseline = nan(window["actual"]), nan(window["median"]), nan(window["baseline"])
        quantiles = [[window["quantiles"][str(q)][t] for q in levels] for t in range(len(y))]
        scale = naive_scale(context, m)
        model_windows.append(
            {
                "MAE": naive_mae(y, median),
                "RMSE": naive_rmse(y, median),
                "MAPE": naive_mape(y, median),
                "sMAPE": naive_smape(y, median),
                "MASE": naive_mase(y, median, scale),
                "WQL": naive_wql(y, quantiles, levels),
                "coverage": naive_coverage(y, list(lower), list(upper)),
            }
        )
        baseline_windows.append(
            {
                "MAE": naive_mae(y, baseline),
                "RMSE": naive_rmse(y, baseline),
                "MAPE": naive_mape(y, baseline),
                "sMAPE": naive_smape(y, baseline),
                "MASE": naive_mase(y, baseline, scale),
            }
        )
    model = {name: naive_average([w[name] for w in model_windows]) for name in MODEL_METRICS}
    base = {name: naive_average([w[name] for w in baseline_windows]) for name in BASELINE_METRICS}
    skill = None if model["MASE"] is None or not base["MASE"] else 1 - model["MASE"] / base["MASE"]
    return {"metrics": model, "baseline": base, "skill": skill}


@pytest.mark.parametrize(
    ("n", "horizon", "windows", "step"),
    [
        (30, 3, 3, None),  # step defaults to the horizon: windows back to back
        (30, 4, 3, 2),  # step < horizon: windows overlap
        (30, 2, 3, 5),  # step > horizon: gaps between windows
        (20, 5, 1, None),  # one window: the last horizon points
        (12, 1, 7, 1),  # one-step windows, as many as fit (each needs 5 context points)
    ],
)
def test_windows_end_at_the_last_point_and_step_back(client, n, horizon, windows, step):
    values = [100.0 + i for i in range(n)]
    body = {"series": [series(values)], "horizon": horizon, "windows": windows}
    if step is not None:
        body["step"] = step
    result = backtest(client, body)["backtests"][0]
    expected = cutoffs(n, horizon, windows, step or horizon)
    assert [w["cutoff"] for w in result["windows"]] == expected
    assert result["windows"][-1]["actual"][-1] == values[-1]
    for window, cut in zip(result["windows"], expected, strict=True):
        assert window["actual"] == values[cut + 1 : cut + 1 + horizon]
        assert window["timestamps"] is None
        assert len(window["median"]) == len(window["baseline"]) == horizon
        assert list(window["quantiles"]) == ["0.1", "0.5", "0.9"]


def iso_dates(start: str, n: int, freq: str) -> list[str]:
    return pd.date_range(start, periods=n, freq=freq).strftime("%Y-%m-%d").tolist()


def iso_datetimes(start: str, n: int, freq: str) -> list[str]:
    return pd.date_range(start, periods=n, freq=freq).strftime("%Y-%m-%dT%H:%M:%S").tolist()


def excel_serials(start: str, n: int, freq: str) -> list[float]:
    stamps = pd.date_range(start, periods=n, freq=freq)
    return ((stamps - pd.Timestamp("1899-12-30")) / pd.Timedelta(days=1)).tolist()


@pytest.mark.parametrize(
    ("timestamps", "horizon", "windows", "step"),
    [
        (iso_dates("2020-01-01", 30, "MS"), 3, 3, 2),  # monthly ISO dates, overlapping windows
        (iso_datetimes("2024-03-30 20:00", 40, "h"), 2, 3, 3),  # hourly ISO date-times across midnight
        (excel_serials("2024-02-20", 24, "D"), 4, 2, None),  # daily Excel serials across the leap day
        (excel_serials("2024-01-01 06:00", 36, "h"), 3, 2, 5),  # hourly Excel serials with a time of day
    ],
)
def test_cutoffs_and_window_timestamps_come_back_in_the_input_representation(
    client, timestamps, horizon, windows, step
):
    n = len(timestamps)
    values = [float(i % 7) + 1 for i in range(n)]
    body = {"series": [series(values, timestamps)], "horizon": horizon, "windows": windows}
    if step is not None:
        body["step"] = step
    result = backtest(client, body)["backtests"][0]
    expected = cutoffs(n, horizon, windows, step or horizon)
    assert [w["cutoff"] for w in result["windows"]] == [timestamps[c] for c in expected]
    for window, cut in zip(result["windows"], expected, strict=True):
        assert window["timestamps"] == timestamps[cut + 1 : cut + 1 + horizon]
        assert window["actual"] == values[cut + 1 : cut + 1 + horizon]


def test_cutoff_with_start_and_frequency_is_a_timestamp(client):
    values = [float(i) for i in range(20)]
    body = {"series": [series(values)], "start": "2024-01-01", "frequency": "D", "horizon": 3, "windows": 2}
    result = backtest(client, body)["backtests"][0]
    assert [w["cutoff"] for w in result["windows"]] == ["2024-01-14", "2024-01-17"]  # points 13 and 16
    assert result["windows"][1]["timestamps"] == ["2024-01-18", "2024-01-19", "2024-01-20"]


@pytest.mark.parametrize(
    ("extra", "m"),
    [
        ({"timestamps": iso_dates("2020-01-01", 20, "MS")}, 12),  # month starts
        ({"timestamps": iso_dates("2020-01-31", 20, "ME")}, 12),  # month ends
        ({"timestamps": iso_dates("2024-02-20", 20, "D")}, 7),  # days
        ({"timestamps": iso_dates("2024-03-04", 20, "B")}, 5),  # business days
        ({"timestamps": iso_datetimes("2024-03-01 20:00", 31, "h")}, 24),  # hours
        ({"timestamps": iso_dates("2020-01-05", 59, "W-SUN")}, 52),  # weeks
        ({"timestamps": iso_dates("2015-01-01", 20, "QS")}, 4),  # quarter starts
        ({"timestamps": iso_dates("2015-03-31", 20, "QE")}, 4),  # quarter ends
        ({"timestamps": excel_serials("2024-01-01", 20, "MS")}, 12),  # monthly, as Excel serials
        ({"timestamps": iso_datetimes("2024-03-01", 20, "15min")}, 1),  # any other frequency: 1
        ({"timestamps": iso_dates("2000-01-01", 20, "YS")}, 1),  # yearly: 1
        ({}, 1),  # no timestamps: 1
        ({"frequency": "MS"}, 1),  # a frequency alone gives no timestamps: still 1
        ({"timestamps": iso_dates("2020-01-01", 20, "MS"), "seasonality": 3}, 3),  # explicit override wins
        ({"seasonality": 4}, 4),  # explicit without timestamps
    ],
)
def test_seasonality_defaults_from_the_frequency_and_drives_the_baseline(client, extra, m):
    n = len(extra.get("timestamps", range(20)))
    values = [float((i * 7) % 11) for i in range(n)]  # no period shorter than 11
    item = series(values, extra.get("timestamps"))
    body = {"series": [item], "horizon": 3, "windows": 1, **{k: v for k, v in extra.items() if k != "timestamps"}}
    result = backtest(client, body)["backtests"][0]
    assert result["seasonality"] == m
    context = values[: n - 3]
    assert result["windows"][0]["baseline"] == [context[-m + t % m] for t in range(3)]


@pytest.mark.parametrize(
    ("values", "m", "baseline", "metrics"),
    [
        (
            # m = 3: the last season 4, 5, 6 repeats; errors 3, 3, 3, 6; scale mean(|4-1|, |5-2|, |6-3|) = 3
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            3,
            [4.0, 5.0, 6.0, 4.0],
            {
                "MAE": 15 / 4,
                "RMSE": math.sqrt(63 / 4),
                "MAPE": (3 / 7 + 3 / 8 + 3 / 9 + 6 / 10) / 4,
                "sMAPE": (6 / 11 + 6 / 13 + 6 / 15 + 12 / 14) / 4,
                "MASE": (15 / 4) / 3,
            },
        ),
        (
            # m = 1: the last point 6 repeats; errors 1, 2, 3, 4; scale = mean first difference = 1
            [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
            1,
            [6.0, 6.0, 6.0, 6.0],
            {
                "MAE": 2.5,
                "RMSE": math.sqrt(30 / 4),
                "MAPE": (1 / 7 + 2 / 8 + 3 / 9 + 4 / 10) / 4,
                "sMAPE": (2 / 13 + 4 / 14 + 6 / 15 + 8 / 16) / 4,
                "MASE": 2.5,
            },
        ),
        (
            # m = 3 with a blank in the last season: the blank repeats as a blank and its pair is skipped;
            # errors 3, 3, 6 (the 8 has no forecast); scale mean(|4-1|, |6-3|) = 3 (|blank-2| skipped)
            [1.0, 2.0, 3.0, 4.0, None, 6.0, 7.0, 8.0, 9.0, 10.0],
            3,
            [4.0, None, 6.0, 4.0],
            {
                "MAE": 4.0,
                "RMSE": math.sqrt(54 / 3),
                "MAPE": (3 / 7 + 3 / 9 + 6 / 10) / 3,
                "sMAPE": (6 / 11 + 6 / 15 + 12 / 14) / 3,
                "MASE": 4 / 3,
            },
        ),
    ],
)
def test_seasonal_naive_baseline_by_hand(client, values, m, baseline, metrics):
    body = {"series": [series(values)], "horizon": 4, "windows": 1, "seasonality": m}
    result = backtest(client, body)["backtests"][0]
    assert result["windows"][0]["baseline"] == baseline
    assert result["windows"][0]["actual"] == [7.0, 8.0, 9.0, 10.0]
    assert result["baseline"]["name"] == "seasonal_naive"
    for name, value in metrics.items():
        assert result["baseline"]["metrics"][name] == pytest.approx(value, rel=1e-12), name
    # skill compares like with like: only the points where the baseline has a forecast too
    window = result["windows"][0]
    scale = 1.0 if m == 1 else 3.0
    model_mase = _mase([a if b is not None else None for a, b in zip(window["actual"], baseline, strict=True)],
                       window["median"], scale)  # fmt: skip
    assert result["skill"] == pytest.approx(1 - model_mase / metrics["MASE"], rel=1e-9)


SINE = [round(50 + 8 * math.sin(i / 2) + (i % 5), 2) for i in range(48)]


@pytest.mark.parametrize(
    ("body", "m"),
    [
        (
            # one series with blanks in contexts and actuals, overlapping windows, a band off the levels asked
            {
                "series": [series([None if i in (3, 17, 30, 45) else v for i, v in enumerate(SINE)])],
                "horizon": 4,
                "windows": 3,
                "step": 2,
                "level": 0.5,
            },
            1,
        ),
        (
            # monthly: seasonality 12 for MASE; more quantile levels for WQL; default level 0.8
            {
                "series": [series(SINE, iso_dates("2019-01-01", 48, "MS"), name="Sales")],
                "horizon": 6,
                "windows": 2,
                "quantile_levels": [0.05, 0.25, 0.5, 0.75, 0.95],
            },
            12,
        ),
        (
            # three series of different lengths in one request; the summary averages them
            {
                "series": [
                    series(SINE, name="North"),
                    series([v * -0.5 + 3 for v in SINE[:30]], name="South"),
                    series([abs(v - 50) for v in SINE[10:40]]),
                ],
                "horizon": 3,
                "windows": 4,
                "step": 3,
                "quantile_levels": [0.2, 0.5, 0.8],
                "level": 0.9,
            },
            1,
        ),
    ],
)
def test_every_metric_matches_an_independent_computation(client, pipeline, body, m):
    body = copy.deepcopy(body)  # the actuals are edited below
    horizon, levels = body["horizon"], body.get("quantile_levels", [0.1, 0.5, 0.9])
    level = body.get("level", 0.8)
    # Pass 1 gives the last window's forecast; setting some of its actuals (in no window's context) onto the
    # median makes coverage neither 0 nor 1 with the tiny model's narrow bands.
    first = backtest(client, body)["backtests"]
    for item, result in zip(body["series"], first, strict=True):
        median = result["windows"][-1]["median"]
        for t in range(0, horizon, 2):
            item["values"][len(item["values"]) - horizon + t] = median[t]
    data = backtest(client, body)

    names = [item.get("name") or f"Series {i + 1}" for i, item in enumerate(body["series"])]
    assert [r["name"] for r in data["backtests"]] == names
    for item, result in zip(body["series"], data["backtests"], strict=True):
        values = item["values"]
        ends = cutoffs(len(values), horizon, body["windows"], body.get("step", horizon))
        stamps = item.get("timestamps")
        assert [w["cutoff"] for w in result["windows"]] == [e if stamps is None else stamps[e] for e in ends]
        contexts = [nan(values[: e + 1]) for e in ends]
        median, quantiles = oracle_forecast(pipeline, contexts, horizon, [*levels, (1 - level) / 2, (1 + level) / 2])
        for k, window in enumerate(result["windows"]):  # the model forecast each window from its context only
            np.testing.assert_allclose(window["median"], median[k], rtol=1e-6)
            for j, q in enumerate(levels):
                np.testing.assert_allclose(window["quantiles"][str(q)], quantiles[k, :, j], rtol=1e-6)
        bands = [(quantiles[k, :, -2], quantiles[k, :, -1]) for k in range(len(ends))]
        expected = recompute(values, result, m, levels, ends, bands)
        assert result["seasonality"] == m
        for name in MODEL_METRICS:
            assert_close(result["metrics"][name], expected["metrics"][name])
        for name in BASELINE_METRICS:
            assert_close(result["baseline"]["metrics"][name], expected["baseline"][name])
        assert_close(result["skill"], expected["skill"])
        assert 0 < result["metrics"]["coverage"] < 1

    summary = data["summary"]
    for name in MODEL_METRICS:
        assert_close(summary["metrics"][name], naive_average([r["metrics"][name] for r in data["backtests"]]))
    for name in BASELINE_METRICS:
        assert_close(
            summary["baseline"][name], naive_average([r["baseline"]["metrics"][name] for r in data["backtests"]])
        )
    assert_close(summary["skill"], naive_average([r["skill"] for r in data["backtests"]]))


def test_coverage_counts_the_actuals_inside_the_central_band(client, pipeline):
    values = [round(20 + 3 * math.cos(i), 2) for i in range(31)]
    body = {"series": [series(values)], "horizon": 6, "windows": 1, "level": 0.6}  # the band: 0.2 to 0.8
    median, q = oracle_forecast(pipeline, [values[:25]], 6, [0.1, 0.2, 0.3, 0.7, 0.8, 0.9])
    median, q = median[0].astype(float), q[0].astype(float)
    assert (np.diff(q, axis=1) > 0).all()
    values[25:] = [
        median[0],  # inside
        (q[1, 0] + q[1, 1]) / 2,  # between the 0.1 and 0.2 quantiles: just below the band
        None,  # blank: skipped
        (q[3, 1] + q[3, 2]) / 2,  # between 0.2 and 0.3: just inside
        (q[4, 4] + q[4, 5]) / 2,  # between 0.8 and 0.9: just above
        (q[5, 3] + q[5, 4]) / 2,  # between 0.7 and 0.8: just inside
    ]
    result = backtest(client, body)["backtests"][0]
    assert result["metrics"]["coverage"] == pytest.approx(3 / 5)
    assert list(result["windows"][0]["quantiles"]) == ["0.1", "0.5", "0.9"]  # the band's levels were not asked for


def test_blank_actuals_are_skipped_and_an_all_blank_window_is_left_out_of_the_average(client):
    values = SINE[:30]
    values[-3:] = [None, None, None]  # the last window's actuals are all blank
    values[-5] = None  # one blank actual in the first window
    result = backtest(client, {"series": [series(values)], "horizon": 3, "windows": 2})["backtests"][0]
    first, last = result["windows"]
    assert last["actual"] == [None, None, None]
    assert first["actual"] == [SINE[24], None, SINE[26]]
    y, median = nan(first["actual"]), nan(first["median"])
    assert result["metrics"]["MAE"] == pytest.approx(naive_mae(y, median), rel=1e-12)  # the first window alone
    assert result["metrics"]["coverage"] is not None
    assert result["baseline"]["metrics"]["MAE"] == pytest.approx(naive_mae(y, nan(first["baseline"])), rel=1e-12)


def test_metrics_that_cannot_be_computed_are_null_and_the_summary_skips_them(client):
    body = {
        "series": [
            # constant context: MASE scale 0 (null, so no skill); zero actuals: MAPE and WQL null
            series([5.0] * 10 + [0.0, 0.0, 0.0], name="Flat"),
            # every actual blank: every metric null
            series([1.0, 3.0, 2.0, 4.0, 3.0, 5.0, None, None, None], name="Blank"),
            series([float(v) for v in SINE[:20]], name="Normal"),
        ],
        "horizon": 3,
        "windows": 1,
    }
    data = backtest(client, body)
    flat, blank, normal = data["backtests"]
    for name in ["MAPE", "MASE", "WQL"]:
        assert flat["metrics"][name] is None, name
    assert flat["baseline"]["metrics"]["MASE"] is None and flat["skill"] is None
    assert flat["metrics"]["MAE"] == pytest.approx(5.0, abs=1e-4)  # the model repeats the constant
    assert all(value is None for value in blank["metrics"].values())
    assert all(value is None for value in blank["baseline"]["metrics"].values())
    assert blank["skill"] is None
    summary = data["summary"]
    assert summary["metrics"]["MASE"] == normal["metrics"]["MASE"]  # only Normal defines it
    assert summary["metrics"]["MAE"] == pytest.approx((flat["metrics"]["MAE"] + normal["metrics"]["MAE"]) / 2)
    assert summary["skill"] == normal["skill"]


def test_summary_is_null_when_no_series_defines_a_metric(client):
    data = backtest(
        client, {"series": [series([1.0, 3.0, 2.0, 4.0, 3.0, 5.0, None, None])], "horizon": 2, "windows": 1}
    )
    assert all(value is None for value in data["summary"]["metrics"].values())
    assert all(value is None for value in data["summary"]["baseline"].values())
    assert data["summary"]["skill"] is None


@pytest.mark.parametrize(
    ("body", "loc", "fits"),
    [
        # 10 points, horizon 3, step 3: contexts of 1, 4, 7 points; only the last reaches 5
        ({"series": [series([float(i) for i in range(10)])], "horizon": 3, "windows": 3}, ["series", 0], 1),
        # 6 points, horizon 3: a context of 3 < 5 points
        ({"series": [series([float(i) for i in range(6)])], "horizon": 3, "windows": 1}, ["series", 0], 0),
        (
            # the second series is monthly: 13 context points needed; 20 points hold contexts of 14 and 17
            {
                "series": [
                    series([float(i) for i in range(40)]),
                    series([float(i) for i in range(20)], iso_dates("2020-01-01", 20, "MS"), name="Monthly"),
                ],
                "horizon": 3,
                "windows": 3,
            },
            ["series", 1],
            2,
        ),
        (
            # explicit seasonality 10 needs 11 context points: 20 - 2 - 11 = 7 spare, step 2: 4 windows
            {
                "series": [series([float(i) for i in range(20)])],
                "horizon": 2,
                "windows": 5,
                "step": 2,
                "seasonality": 10,
            },
            ["series", 0],
            4,
        ),
    ],
)
def test_a_series_too_short_for_the_windows_says_how_many_fit(client, body, loc, fits):
    response = client.post("/api/v1/backtest", json=body)
    assert_problem(response, 422, loc, f"room for {fits} window(s)")
    if fits:  # following the advice works
        data = backtest(client, {**body, "windows": fits})
        assert all(len(r["windows"]) == fits for r in data["backtests"])


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"horizon": 0}, ["horizon"]),  # at least one step
        ({"windows": 0}, ["windows"]),  # at least one window
        ({"step": 0}, ["step"]),  # at least one point between cutoffs
        ({"level": 1.0}, ["level"]),  # an interval strictly inside (0, 1)
        ({"seasonality": 0}, ["seasonality"]),  # a season of at least one point
        ({"quantile_levels": [0.5, 1.5]}, ["quantile_levels", 1]),  # levels in (0, 1)
    ],
)
def test_invalid_backtest_parameters_are_named(client, change, loc):
    body = {"series": [series([float(i) for i in range(30)])], "horizon": 3, **change}
    assert_problem(client.post("/api/v1/backtest", json=body), 422, loc)


def _mase(actual: list, forecast: list, scale: float) -> float:
    pairs = [(a, f) for a, f in zip(actual, forecast, strict=True) if a is not None and f is not None]
    return sum(abs(a - f) for a, f in pairs) / len(pairs) / scale


def test_skill_compares_only_windows_where_the_baseline_is_defined_too(client):
    values = [10, 20, 30, 40, 11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43, None, None, None, None, 15, 25, 35, 45]
    body = {"series": [series(values)], "horizon": 4, "windows": 3, "seasonality": 4}
    result = post_ok(client, "/api/v1/backtest", body, BacktestResponse)["backtests"][0]
    first, empty, last = result["windows"]
    assert empty["actual"] == [None] * 4  # nothing to score
    assert last["baseline"] == [None] * 4  # its last season is missing: only the model is defined there
    scale = 1.0  # |y_t - y_{t-4}| = 1 throughout the first context
    expected = 1 - _mase(first["actual"], first["median"], scale) / _mase(first["actual"], first["baseline"], scale)
    assert result["skill"] == pytest.approx(expected)
    assert result["metrics"]["MASE"] != pytest.approx(_mase(first["actual"], first["median"], scale))  # both windows


def test_skill_is_unchanged_when_every_window_is_defined(client):
    values = [10 + (t % 4) * 10 + t / 4 for t in range(32)]
    body = {"series": [series(values)], "horizon": 4, "windows": 3, "seasonality": 4}
    result = post_ok(client, "/api/v1/backtest", body, BacktestResponse)["backtests"][0]
    assert result["skill"] == pytest.approx(1 - result["metrics"]["MASE"] / result["baseline"]["metrics"]["MASE"])
