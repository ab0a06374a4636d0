"""The bundled model reads drivers: a known-future promotion lifts the forecast where it is planned."""

import numpy as np
import pytest

from chronos_excel import create_app

SIGMA, LIFT, HISTORY, HORIZON = 2.0, 5.0, 240, 24


@pytest.fixture(scope="module")
def bundled_client():
    app = create_app({"MODEL": "bundled", "DEVICE": "cpu", "DTYPE": "float32", "TESTING": True})
    return app.test_client()


def _promotions(rng: np.random.Generator, n: int) -> np.ndarray:
    """A 0/1 flag: campaigns of 1-3 steps starting on about 6% of the steps."""
    flag = np.zeros(n)
    for start in np.flatnonzero(rng.random(n) < 0.06):
        flag[start : start + rng.integers(1, 4)] = 1.0
    return flag


def promotion_lift(client, seed: int, season: np.ndarray) -> float:
    """Sales = level + ``season`` + noise (SIGMA) + LIFT·SIGMA during promotions; four campaigns planned in the
    forecast window. Returns the forecast's mean at the promotion steps minus at the others, net of the known
    season, in units of SIGMA."""
    rng = np.random.default_rng(seed)
    promo = _promotions(rng, HISTORY + HORIZON)
    promo[HISTORY:] = 0
    promo[HISTORY + rng.choice(HORIZON, 4, replace=False)] = 1
    y = 100 + season + SIGMA * rng.standard_normal(HISTORY + HORIZON) + LIFT * SIGMA * promo
    body = {"series": [{"values": y[:HISTORY].tolist(), "covariates": {"Promo": promo.tolist()}}], "horizon": HORIZON}
    response = client.post("/api/v1/forecast", json=body)
    assert response.status_code == 200, response.get_json()
    forecast = response.get_json()["forecasts"][0]
    assert forecast["covariates"] == [{"name": "Promo", "type": "numeric", "future": True}]
    net = np.array(forecast["median"]) - season[HISTORY:]
    on = promo[HISTORY:] == 1
    return float(net[on].mean() - net[~on].mean()) / SIGMA


def test_a_known_future_promotion_lifts_the_forecast(bundled_client):
    # a flat level with noise: only the promotion moves it. The goal is a lift of 3 sigma of the 5;
    # one history's lift varies with its luck (the offline model gives 2.5-5.8 sigma by history), so the
    # goal is asked of the mean over twelve histories (3.6 sigma), and every one must lift by 2 (a model
    # that ignores the driver gives 0)
    lifts = [promotion_lift(bundled_client, seed, np.zeros(HISTORY + HORIZON)) for seed in range(12)]
    assert np.mean(lifts) >= 3 and min(lifts) >= 2, f"lifts in sigma: {np.round(lifts, 2)}"


def test_the_promotion_lifts_the_forecast_on_top_of_a_season(bundled_client):
    # read less fully on a seasonal series (about 2.2 sigma of the 5, 1.7-2.9 by history): what must hold is
    # that the lift comes on top of the season rather than not at all
    season = 5 * np.sin(2 * np.pi * np.arange(HISTORY + HORIZON) / 12)
    lifts = [promotion_lift(bundled_client, seed, season) for seed in range(6)]
    assert np.mean(lifts) >= 1.5 and min(lifts) >= 1, f"lifts in sigma: {np.round(lifts, 2)}"
