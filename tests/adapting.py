"""Builders shared by the adapter tests: series with a shape of their own, and waiting for a job."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

ACTIVE = ("queued", "running")


def sawtooth(n: int = 160, seed: int = 0, period: int = 13) -> list[float]:
    """An asymmetric sawtooth with noise: a shape the models were not trained on."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return (20 + 6 * ((t % period) / period) ** 2 + rng.normal(0, 0.2, n)).round(3).tolist()


def alpha_series() -> list[dict]:
    """Three sawtooth series of 160 points."""
    return [{"name": f"store {k}", "values": sawtooth(160, seed=k)} for k in range(3)]


def wait_for(client: Any, job_id: str, until: Any = None, timeout: float = 180, **request: Any) -> dict:
    """Poll a job until ``until(job)`` (by default: until it has ended); its last answer."""
    until = until or (lambda job: job["state"] not in ACTIVE)
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/api/v1/jobs/{job_id}", **request)
        assert response.status_code == 200, response.get_json()
        job = response.get_json()
        if until(job):
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['state']} after {timeout} s: {job}"
        time.sleep(0.1)


def start(client: Any, name: str, series: list[dict], **options: Any) -> dict:
    """POST /adapters; assert a 202 with the job at its Location; the job."""
    headers = options.pop("headers", None)
    body = {"name": name, "series": series, "horizon": 12, "steps": 30, **options}
    response = client.post("/api/v1/adapters", json=body, headers=headers)
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    assert response.headers["Location"] == f"/api/v1/jobs/{job['id']}"
    return job


ALPHA_SERIES = alpha_series()
