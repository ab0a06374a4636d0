"""A flagged point lies outside its band, and only a flagged one: on every point of many kinds of series, with
the tiny test model and the bundled model (whose re-forecasting rounds and calibration really move bands)."""

from __future__ import annotations

import numpy as np
import pytest

from chronos_excel import create_app

LEVELS = [0.95, 0.98]


def kinds_of_series(seed: int) -> list[dict]:
    """White noise, seasonal, level shifts, spikes, trends, missing values and a constant stretch."""
    rng = np.random.default_rng(seed)
    t = np.arange(300)
    seasonal = 24 + np.sin(2 * np.pi * t / 12) + rng.normal(0, 0.1, t.size)
    shifted = rng.normal(100, 2, t.size)
    shifted[150:] += 25
    spiky = 50 + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1, t.size)
    spiky[[60, 61, 130, 200, 201, 202, 270]] += [15, -12, 30, 20, 20, 20, -25]
    gappy = rng.normal(10, 1, t.size)
    gappy[rng.choice(t.size, 40, replace=False)] = np.nan
    flat = np.concatenate([np.full(100, 5.0), 5 + rng.normal(0, 1, 200)])
    flat[[50, 120]] = [6.0, 15.0]
    return [
        {"name": "noise", "values": rng.normal(0, 1, t.size)},
        {"name": "seasonal", "values": seasonal},
        {"name": "shift", "values": shifted},
        {"name": "spikes", "values": spiky},
        {"name": "trend", "values": 0.5 * t + rng.standard_t(3, t.size)},
        {"name": "missing", "values": gappy},
        {"name": "flat", "values": flat},
        {"name": "walk", "values": np.cumsum(rng.normal(0, 1, t.size))},
    ]


def as_json(values: np.ndarray) -> list:
    return [None if np.isnan(v) else round(float(v), 4) for v in values]


def assert_flag_iff_outside(result: dict) -> int:
    """On every point: flagged exactly when outside [lower, upper], score > 0 exactly then; unscored points
    have no flag, band or score. Returns the number of scored points."""
    scored = 0
    for i, value in enumerate(result["values"]):
        flag, lower, upper, score = (result[k][i] for k in ("is_anomaly", "lower", "upper", "score"))
        where = f"{result['name']} point {i}: value {value}, band [{lower}, {upper}], flag {flag}, score {score}"
        if flag is None:
            assert (lower, upper, score) == (None, None, None), where
            continue
        scored += 1
        assert lower is not None and upper is not None and score is not None, where
        outside = value < lower or value > upper
        assert flag is outside, where
        assert (score > 0) is flag, where
        assert result["direction"][i] == (1 if value > upper else -1 if value < lower else 0), where
    assert result["count"] == sum(f is True for f in result["is_anomaly"])
    return scored


@pytest.fixture(scope="module", params=["tiny", "bundled"])
def any_model(request, tiny_model_dir):
    model = str(tiny_model_dir) if request.param == "tiny" else "bundled"
    return create_app({"MODEL": model, "DEVICE": "cpu", "DTYPE": "float32"}).test_client()


@pytest.mark.parametrize("level", LEVELS)
def test_flag_iff_outside_the_band_on_every_point(any_model, level):
    series = [{**s, "values": as_json(s["values"])} for s in kinds_of_series(seed=5)]
    response = any_model.post("/api/v1/anomalies", json={"series": series, "level": level})
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["anomalies"]
    assert sum(assert_flag_iff_outside(r) for r in results) > 1500
    assert any(r["count"] for r in results)


@pytest.mark.parametrize("level", LEVELS)
def test_flag_iff_outside_the_band_with_drivers_and_a_short_context(any_model, level):
    rng = np.random.default_rng(9)
    n = 160
    promo = (rng.random(n) < 0.15).astype(float)
    sales = 100 + 30 * promo + rng.normal(0, 3, n)
    sales[[70, 71, 120]] += [40, 40, -45]
    body = {
        "series": [
            {"name": "sales", "values": as_json(sales), "covariates": {"promo": promo.tolist()}},
            {
                "name": "plain",
                "values": as_json(rng.normal(0, 1, n)),
                "covariates": {"weekday": [str(k % 7) for k in range(n)]},
            },
        ],
        "future_covariates": ["promo"],
        "level": level,
        "min_context": 8,
    }
    response = any_model.post("/api/v1/anomalies", json=body)
    assert response.status_code == 200, response.get_json()
    for result in response.get_json()["anomalies"]:
        assert assert_flag_iff_outside(result) > 100
