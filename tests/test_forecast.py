"""/api/v1/forecast answers exactly what the Chronos-2 model says, sorted and interpolated."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests
import torch
from chronos.chronos2 import Chronos2Pipeline
from chronos.utils import interpolate_quantiles

from chronos_excel.schemas import ForecastResponse

from .helpers import series


@pytest.fixture(scope="module")
def pipeline(tiny_model_dir):
    return Chronos2Pipeline.from_pretrained(str(tiny_model_dir), device_map="cpu")


def direct_forecast(pipeline, contexts: list[list[float | None]], horizon: int, levels: list[float]):
    """The oracle: call the pipeline directly, sort the native quantiles per step, interpolate."""
    tensors = [torch.tensor([math.nan if v is None else v for v in c], dtype=torch.float32) for c in contexts]
    raw = torch.cat(pipeline.predict(tensors, prediction_length=horizon), dim=0).transpose(1, 2)
    grid = raw.sort(dim=-1).values
    median = grid[..., pipeline.quantiles.index(0.5)]
    return median.numpy(), interpolate_quantiles(levels, pipeline.quantiles, grid).numpy(), raw


def test_one_series_matches_the_pipeline(client, pipeline):
    values = [112.0, 118.0, None, 129.0, 121.0, 135.0, 148.0, 148.0, 136.0, 119.0, 104.0, 118.0]
    body = {"series": [series(values)], "horizon": 5, "quantile_levels": [0.1, 0.5, 0.9]}
    response = client.post("/api/v1/forecast", json=body)
    assert response.status_code == 200
    forecast = response.get_json()["forecasts"][0]
    median, quantiles, _ = direct_forecast(pipeline, [values], 5, [0.1, 0.5, 0.9])
    np.testing.assert_allclose(forecast["median"], median[0], rtol=1e-6)
    for j, key in enumerate(["0.1", "0.5", "0.9"]):
        np.testing.assert_allclose(forecast["quantiles"][key], quantiles[0, :, j], rtol=1e-6)
    assert forecast["quantiles"]["0.5"] == forecast["median"]


def test_several_series_of_different_lengths_match_and_keep_their_order(client, pipeline):
    rng = np.random.default_rng(1)
    contexts = [rng.normal(100, 10, n).round(2).tolist() for n in (40, 7, 100)]
    levels = [0.025, 0.3, 0.975]  # off the native grid: interpolated
    body = {"series": [series(c) for c in contexts], "horizon": 20, "quantile_levels": levels}
    data = client.post("/api/v1/forecast", json=body).get_json()
    assert [f["name"] for f in data["forecasts"]] == ["Series 1", "Series 2", "Series 3"]
    median, quantiles, _ = direct_forecast(pipeline, contexts, 20, levels)
    for i, forecast in enumerate(data["forecasts"]):
        np.testing.assert_allclose(forecast["median"], median[i], rtol=1e-6)
        assert list(forecast["quantiles"]) == ["0.025", "0.3", "0.975"]
        for j, key in enumerate(forecast["quantiles"]):
            np.testing.assert_allclose(forecast["quantiles"][key], quantiles[i, :, j], rtol=1e-6)


def test_quantiles_never_cross_although_the_raw_model_output_does(client, pipeline):
    context = np.sin(np.arange(60) / 3).tolist()
    levels = [0.01, 0.05, 0.1, 0.2, 0.33, 0.5, 0.66, 0.8, 0.9, 0.95, 0.99]
    _, _, raw = direct_forecast(pipeline, [context], 10, levels)
    assert (raw.diff(dim=-1) < 0).any(), "the random tiny model should produce crossing quantiles"
    data = client.post(
        "/api/v1/forecast", json={"series": [series(context)], "horizon": 10, "quantile_levels": levels}
    ).get_json()
    bands = np.array([data["forecasts"][0]["quantiles"][str(q)] for q in levels])
    assert (np.diff(bands, axis=0) >= 0).all()


def test_defaults_names_and_response_shape(client):
    body = {"series": [series([1.0, 2.0, 3.0, 4.0], name="Sales"), series([5.0, 6.0, 7.0])], "horizon": 3}
    data = client.post("/api/v1/forecast", json=body).get_json()
    ForecastResponse.model_validate(data)
    assert data["model"] == {"id": data["model"]["id"], "device": "cpu", "dtype": "float32", "adapter": None}
    first, second = data["forecasts"]
    assert (first["name"], second["name"]) == ("Sales", "Series 2")
    assert list(first["quantiles"]) == ["0.1", "0.5", "0.9"]
    assert len(first["median"]) == 3 and first["timestamps"] is None and first["frequency"] is None


def test_a_series_longer_than_the_context_uses_the_most_recent_points(client, pipeline):
    long = np.random.default_rng(2).normal(size=8192 + 300).tolist()
    data = client.post("/api/v1/forecast", json={"series": [series(long)], "horizon": 4}).get_json()
    median, _, _ = direct_forecast(pipeline, [long[-8192:]], 4, [0.5])
    np.testing.assert_allclose(data["forecasts"][0]["median"], median[0], rtol=1e-5)


def test_eight_threads_posting_at_once_all_get_their_own_answer(live_server, pipeline):
    contexts = [(np.arange(30) * (k + 1)).astype(float).tolist() for k in range(8)]

    def post(context):
        reply = requests.post(
            f"{live_server}/api/v1/forecast", json={"series": [series(context)], "horizon": 6}, timeout=60
        )
        reply.raise_for_status()
        return reply.json()["forecasts"][0]["median"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(post, contexts))
    for context, answer in zip(contexts, answers, strict=True):
        expected, _, _ = direct_forecast(pipeline, [context], 6, [0.5])
        np.testing.assert_allclose(answer, expected[0], rtol=1e-5)


def test_health_reports_the_loaded_model(client, tiny_model_dir):
    data = client.get("/api/v1/health").get_json()
    assert data["status"] == "ok"
    assert data["model"]["id"] == str(tiny_model_dir)
    assert data["model"]["source"] == "local"
    assert (data["model"]["device"], data["model"]["dtype"]) == ("cpu", "float32")
    assert data["model"]["parameters"] == 26512
    assert data["fallback"] is False
