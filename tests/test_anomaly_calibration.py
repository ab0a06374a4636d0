"""Detect anomalies means what it says, with the bundled model: the level sets the share of ordinary points
flagged, a level shift is one short run of flags, and spikes late in a block are found."""

from __future__ import annotations

import numpy as np
import pytest

from chronos_excel import create_app

from .helpers import series


@pytest.fixture(scope="module")
def bundled():
    return create_app({"MODEL": "bundled", "DEVICE": "cpu", "DTYPE": "float32"}).test_client()


def scan(client, values: list[float], **options) -> dict:
    response = client.post("/api/v1/anomalies", json={"series": [series(values)], **options})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["anomalies"][0]


@pytest.mark.parametrize("level", [0.9, 0.95, 0.98])
def test_white_noise_is_flagged_at_about_one_minus_level(bundled, level):
    rng = np.random.default_rng(11)
    runs = [scan(bundled, rng.normal(50, 5, 800).round(3).tolist(), level=level) for _ in range(3)]
    flagged = sum(r["count"] for r in runs) / sum(sum(f is not None for f in r["is_anomaly"]) for r in runs)
    assert 0.5 * (1 - level) <= flagged <= 1.5 * (1 - level), flagged


def test_a_level_shift_is_one_short_run_of_flags(bundled):
    rng = np.random.default_rng(12)
    values = rng.normal(100, 2, 300)
    values[200:] += 20  # a 10σ shift
    result = scan(bundled, values.round(3).tolist(), level=0.98)
    assert result["is_anomaly"][200] is True
    after = sum(bool(f) for f in result["is_anomaly"][201:232])
    assert after <= 4, after


@pytest.mark.parametrize("step", [0, 1, 2, 3, 4, 5])
def test_spikes_are_found_at_every_step_of_a_block(bundled, step):
    rng = np.random.default_rng(13)
    values = (100 + 3 * np.sin(np.arange(300) * 2 * np.pi / 24) + rng.normal(0, 1, 300)).round(3)
    block = bundled.application.config["ANOMALY_BLOCK"]
    spikes = [32 + block * k + step for k in (15, 27, 39) if block * k + step < 260]  # same step, three blocks
    assert len(spikes) == 3 and step < block
    values[spikes] += 8  # 8σ
    result = scan(bundled, values.tolist(), level=0.98)
    assert all(result["is_anomaly"][i] for i in spikes), [result["is_anomaly"][i] for i in spikes]
