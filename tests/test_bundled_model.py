"""Behaviour of the bundled model through the real API: it forecasts, it is calibrated, it finds spikes."""

import numpy as np
import pytest

from chronos_excel import create_app


@pytest.fixture(scope="module")
def bundled_client():
    app = create_app({"MODEL": "bundled", "DEVICE": "cpu", "DTYPE": "float32"})
    return app.test_client()


def _post(client, path: str, body: dict) -> dict:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_health_reports_the_bundled_model(bundled_client):
    health = bundled_client.get("/api/v1/health").get_json()
    assert health["model"]["source"] == "bundled" and not health["fallback"]
    assert 1_000_000 < health["model"]["parameters"] < 5_000_000


def test_spikes_in_a_seasonal_series_are_flagged_and_little_else(bundled_client):
    rng = np.random.default_rng(0)
    t = np.arange(300)
    y = 50 + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, len(t))
    spikes = [80, 150, 230]
    y[spikes] += np.array([8, -8, 9]) * np.std(y)
    body = {"series": [{"name": "spiky", "values": y.tolist()}]}
    result = _post(bundled_client, "/api/v1/anomalies", body)["anomalies"][0]
    flagged = {i for i, hit in enumerate(result["is_anomaly"]) if hit}
    scored = sum(hit is not None for hit in result["is_anomaly"])
    assert set(spikes) <= flagged
    assert len(flagged - set(spikes)) <= 0.05 * scored, sorted(flagged - set(spikes))
    assert [result["direction"][i] for i in spikes] == [1, -1, 1]


@pytest.mark.parametrize(
    ("period", "horizon"),
    [
        (12, 24),  # monthly seasonality, two years ahead
        (24, 48),  # hourly daily cycle, two days ahead
    ],
)
def test_a_pure_sine_is_continued(bundled_client, period, horizon):
    t = np.arange(240 + horizon)
    y = 100 + 10 * np.sin(2 * np.pi * t / period)
    body = {"series": [{"values": y[:240].tolist()}], "horizon": horizon}
    median = np.array(_post(bundled_client, "/api/v1/forecast", body)["forecasts"][0]["median"])
    assert np.mean(np.abs(median - y[240:])) < 0.1 * 10  # a tenth of the amplitude


def test_the_80_percent_band_of_white_noise_covers_about_80_percent(bundled_client):
    rng = np.random.default_rng(1)
    history, future = rng.normal(0, 1, (40, 200)), rng.normal(0, 1, (40, 32))
    body = {"series": [{"values": h.tolist()} for h in history], "horizon": 32, "quantile_levels": [0.1, 0.9]}
    forecasts = _post(bundled_client, "/api/v1/forecast", body)["forecasts"]
    lower = np.array([f["quantiles"]["0.1"] for f in forecasts])
    upper = np.array([f["quantiles"]["0.9"] for f in forecasts])
    coverage = np.mean((future >= lower) & (future <= upper))
    assert 0.7 <= coverage <= 0.9, coverage
