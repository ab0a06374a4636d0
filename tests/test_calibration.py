"""Forecast bands calibrated on the series' own history: past windows forecast as a backtest would, each band
scaled about the median by the conformal quantile of the past surprises; the median never moves; the answer
says what was done or why not; backtests show raw and calibrated bands side by side on held-out windows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from chronos.chronos2 import Chronos2Pipeline
from chronos.utils import interpolate_quantiles

from chronos_excel import create_app
from chronos_excel.calibration import FORECAST_PRIOR
from chronos_excel.schemas import ForecastResponse

from .adapting import start, wait_for
from .helpers import post_ok

LEVELS = [0.1, 0.5, 0.9]


def seasonal(n: int, seed: int = 0, noise: float = 2.0) -> list[float]:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return np.round(50 + 8 * np.sin(2 * np.pi * t / 12) + rng.standard_t(3, n) * noise, 3).tolist()


def forecast(client, series: list[dict], horizon: int = 6, **options) -> list[dict]:
    body = {"series": series, "horizon": horizon, "quantile_levels": LEVELS, **options}
    return post_ok(client, "/api/v1/forecast", body, ForecastResponse)["forecasts"]


@pytest.fixture(scope="module")
def pipeline(tiny_model_dir):
    return Chronos2Pipeline.from_pretrained(str(tiny_model_dir), device_map="cpu")


def oracle_scale(pipeline, values: list[float], horizon: int, windows: int, context: int, level: float) -> float:
    """The scale computed by hand: the last ``windows`` windows of ``horizon`` before the end, each forecast from
    at most ``context`` points, surprises in half widths of the raw band, conformal quantile, prior of 1s."""
    y = np.array(values)
    n = len(y)
    cuts = [n - j * horizon for j in range(windows, 0, -1)]
    contexts = [torch.tensor(y[max(0, c - context) : c], dtype=torch.float32) for c in cuts]
    grid = torch.cat(pipeline.predict(contexts, prediction_length=horizon)).transpose(1, 2).sort(dim=-1).values
    median = grid[..., pipeline.quantiles.index(0.5)].numpy().astype(np.float64)
    band = (
        interpolate_quantiles([(1 - level) / 2, (1 + level) / 2], pipeline.quantiles, grid).numpy().astype(np.float64)
    )
    scores = []
    for w, c in enumerate(cuts):
        for t in range(horizon):
            actual, m = y[c + t], median[w, t]
            width = band[w, t, 1] - m if actual >= m else m - band[w, t, 0]
            scores.append(abs(actual - m) / width)
    scores.sort()
    k = min(len(scores), math.ceil((len(scores) + 1) * level))
    return (len(scores) * scores[k - 1] + FORECAST_PRIOR) / (len(scores) + FORECAST_PRIOR)


def test_a_calibrated_band_is_the_raw_one_scaled_about_an_unmoved_median(client, app, pipeline):
    values = seasonal(80)
    [plain] = forecast(client, [{"values": values}])
    [calibrated] = forecast(client, [{"values": values}], calibrate=True)
    assert calibrated["median"] == plain["median"]  # exactly: the median never moves
    assert calibrated["quantiles"]["0.5"] == plain["quantiles"]["0.5"]
    note = calibrated["calibration"]
    windows, context = app.config["CALIBRATION_WINDOWS"], app.config["CALIBRATION_CONTEXT"]
    assert (note["applied"], note["windows"], note["points"]) == (True, windows, windows * 6)
    expected = oracle_scale(pipeline, values, 6, windows, context, 0.8)
    assert note["scale"]["0.8"] == pytest.approx(expected, rel=1e-3)
    median = np.array(plain["median"])
    for key in ("0.1", "0.9"):
        raw = np.array(plain["quantiles"][key])
        np.testing.assert_allclose(
            calibrated["quantiles"][key], median + note["scale"]["0.8"] * (raw - median), rtol=1e-3
        )
    assert 0 <= note["coverage_before"]["0.8"] <= 1 and "split conformal" in note["method"]
    assert "calibration" not in plain  # not asked, not said


def test_quantiles_stay_ordered_whatever_each_band_is_scaled_by(client):
    levels = [0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975]
    for seed in range(4):
        body = {"series": [{"values": seasonal(100, seed, noise=5)}], "horizon": 12, "quantile_levels": levels}
        [answer] = post_ok(client, "/api/v1/forecast", {**body, "calibrate": True}, ForecastResponse)["forecasts"]
        grid = np.array([answer["quantiles"][str(q)] for q in levels])
        assert (np.diff(grid, axis=0) >= 0).all()
        assert set(answer["calibration"]["scale"]) == {"0.95", "0.9", "0.8", "0.5"}


def test_a_history_too_short_returns_the_raw_bands_and_says_why(client):
    series = [{"name": "short", "values": seasonal(14)}, {"name": "long", "values": seasonal(60)}]
    plain = forecast(client, series, horizon=12)
    calibrated = forecast(client, series, horizon=12, calibrate=True)
    short, long = (f["calibration"] for f in calibrated)
    reason = "14 points of history are too few: calibrating needs at least 17 (a past window of 12 after 5 points)"
    assert short == {"applied": False, "reason": reason}
    assert calibrated[0]["quantiles"] == plain[0]["quantiles"]  # the raw bands
    assert long["applied"] is True and calibrated[1]["quantiles"] != plain[1]["quantiles"]


def test_only_a_median_has_nothing_to_calibrate(client):
    body = {"series": [{"values": seasonal(60)}], "horizon": 3, "quantile_levels": [0.5], "calibrate": True}
    [answer] = post_ok(client, "/api/v1/forecast", body, ForecastResponse)["forecasts"]
    assert answer["calibration"] == {
        "applied": False,
        "reason": "only the median was asked for, and calibration never moves it",
    }


def test_many_series_drivers_and_joint_groups_are_calibrated_on_their_own_windows(client):
    n = 60
    promo = [float(k % 5 == 0) for k in range(n + 6)]
    series = [
        {"name": "a", "values": seasonal(n, 1), "covariates": {"promo": promo}},
        {"name": "b", "values": seasonal(n, 2, noise=6), "covariates": {"promo": promo}},
    ]
    alone = [forecast(client, [s], calibrate=True)[0] for s in series]
    together = forecast(client, series, calibrate=True)
    assert [f["calibration"] for f in together] == [f["calibration"] for f in alone]
    assert together[0]["calibration"]["scale"] != together[1]["calibration"]["scale"]  # each its own history
    joint = forecast(client, series, calibrate=True, joint=True)
    assert all(f["calibration"]["applied"] for f in joint)


def test_an_adapted_model_is_calibrated_on_its_own_forecasts(client):
    values = seasonal(90, 4)
    job = start(client, "for-calibration", [{"values": values}], horizon=6, steps=5)
    assert wait_for(client, job["id"])["state"] == "succeeded"
    [base] = forecast(client, [{"values": values}], calibrate=True)
    [adapted] = forecast(client, [{"values": values}], calibrate=True, adapter="for-calibration")
    assert adapted["calibration"]["applied"] and adapted["calibration"] != base["calibration"]


def test_backtest_shows_raw_and_calibrated_bands_side_by_side(client):
    body = {"series": [{"values": seasonal(120, 5)}], "horizon": 6, "windows": 3, "level": 0.8}
    plain = client.post("/api/v1/backtest", json=body).get_json()
    answer = client.post("/api/v1/backtest", json={**body, "calibrate": True}).get_json()
    [result] = answer["backtests"]
    assert result["metrics"]["coverage"] == plain["backtests"][0]["metrics"]["coverage"]  # the raw side unchanged
    assert {"coverage_calibrated", "WQL_calibrated"} <= result["metrics"].keys() <= answer["summary"]["metrics"].keys()
    assert result["calibration"] == {"windows": 3, "calibrated": 3, "reason": None}
    for window in result["windows"]:
        assert set(window["calibrated_quantiles"]) == {"0.1", "0.5", "0.9"}
        assert window["calibrated_quantiles"]["0.5"] == window["quantiles"]["0.5"]
    covered = [
        lo <= y <= hi
        for w in result["windows"]
        for y, lo, hi in zip(
            w["actual"], w["calibrated_quantiles"]["0.1"], w["calibrated_quantiles"]["0.9"], strict=True
        )
    ]
    assert result["metrics"]["coverage_calibrated"] == pytest.approx(np.mean(covered))


def test_a_backtest_window_is_calibrated_only_on_what_came_before_it(client):
    values = seasonal(120, 6)
    body = {"horizon": 6, "windows": 3, "calibrate": True}
    first = client.post("/api/v1/backtest", json={**body, "series": [{"values": values}]}).get_json()
    changed = values[:-6] + [v * 3 for v in values[-6:]]  # the last window's actuals change
    second = client.post("/api/v1/backtest", json={**body, "series": [{"values": changed}]}).get_json()
    before, after = (r["backtests"][0]["windows"] for r in (first, second))
    assert [w["calibrated_quantiles"] for w in before] == [w["calibrated_quantiles"] for w in after]


def test_calibrated_bands_hold_their_level_better_on_held_out_windows():
    """The bundled model on series with noise that grows: its raw 80% band covers too little; calibrated on each
    series' past, the held-out windows' coverage comes closer to 80%."""
    client = create_app({"MODEL": "bundled", "DEVICE": "cpu", "DTYPE": "float32"}).test_client()
    rng = np.random.default_rng(3)
    t = np.arange(240)
    series = [
        {
            "values": np.round(
                60 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 240) * (1 + 3 * t / 240), 3
            ).tolist()
        }
        for _ in range(10)
    ]
    body = {"series": series, "horizon": 12, "windows": 3, "level": 0.8, "calibrate": True}
    summary = client.post("/api/v1/backtest", json=body).get_json()["summary"]["metrics"]
    raw, calibrated = summary["coverage"], summary["coverage_calibrated"]
    assert abs(calibrated - 0.8) < abs(raw - 0.8) - 0.05, (raw, calibrated)
    assert summary["WQL_calibrated"] <= summary["WQL"] * 1.01
