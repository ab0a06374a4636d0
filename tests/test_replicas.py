"""Several replicas, one PostgreSQL database and one shared data directory: any replica answers for any job and
serves any adapter; a cancel reaches the replica running the job; a replica that died has its jobs failed;
a restarted server fails the jobs it held and keeps its adapters."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from chronos_excel import create_app
from chronos_excel.jobs import STALE_SECONDS

from .adapting import ALPHA_SERIES, start, wait_for
from .postgres import fresh_database


@pytest.fixture
def replicas(tiny_model_dir, tmp_path, postgres_url):
    """Two apps (as two replicas would be) on one PostgreSQL database and one data directory."""
    config = {
        "MODEL": str(tiny_model_dir),
        "DEVICE": "cpu",
        "DTYPE": "float32",
        "DATA_DIR": str(tmp_path / "shared"),
        "DATABASE_URL": fresh_database(postgres_url),
        "TRAIN_THREADS": 1,
    }
    apps = create_app(config), create_app(config)
    yield apps
    for app in apps:  # before the database server of the session goes
        app.extensions["chronos_jobs"].runner.stop()


def test_a_job_started_on_one_replica_is_followed_and_used_on_another(replicas):
    a, b = (app.test_client() for app in replicas)
    job = start(a, "shared", ALPHA_SERIES, seed=3)
    seen_running = wait_for(b, job["id"], until=lambda j: j["state"] != "queued")
    assert seen_running["state"] in ("running", "succeeded")
    done = wait_for(b, job["id"])
    assert done["state"] == "succeeded" and done["result"]["name"] == "shared"
    assert [x["name"] for x in b.get("/api/v1/adapters").get_json()["adapters"]] == ["shared"]
    body = {"series": ALPHA_SERIES, "horizon": 12, "adapter": "shared"}
    on_a, on_b = a.post("/api/v1/forecast", json=body).get_json(), b.post("/api/v1/forecast", json=body).get_json()
    assert on_b["model"]["adapter"] == "shared" and on_a == on_b  # b loaded the weights from the shared folder


def test_a_cancel_on_another_replica_stops_the_job_within_2_s(replicas):
    a, b = (app.test_client() for app in replicas)
    job = start(a, "long", ALPHA_SERIES, steps=2000)
    wait_for(b, job["id"], until=lambda j: j["progress"]["step"] > 0)
    asked = time.monotonic()
    b.delete(f"/api/v1/jobs/{job['id']}")
    cancelled = wait_for(a, job["id"], timeout=5)
    assert cancelled["state"] == "cancelled" and time.monotonic() - asked < 2.5, cancelled
    assert a.get("/api/v1/adapters").get_json()["adapters"] == []


def test_the_jobs_of_a_replica_that_died_are_failed_by_another(replicas):
    a, b = replicas
    store = b.extensions["chronos_jobs"].store
    now = time.time()
    for job_id, heartbeat in (("dead", now - STALE_SECONDS - 5), ("alive", now)):
        store.add_job(
            {"id": job_id, "owner": "", "kind": "adapter", "name": job_id, "state": "running", "steps": 10,
             "spec": {}, "replica": "pod-7:12:abc", "heartbeat": heartbeat, "created": now}
        )  # fmt: skip
    b.extensions["chronos_jobs"].runner.sweep()
    client = b.test_client()
    dead = client.get("/api/v1/jobs/dead").get_json()
    assert dead["state"] == "failed" and dead["error"].startswith("server stopped"), dead
    assert client.get("/api/v1/jobs/alive").get_json()["state"] == "running"  # its replica may still be working


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(tiny_model_dir, data_dir, log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "CHRONOS_DATA_DIR": str(data_dir), "CHRONOS_TRAIN_THREADS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "chronos_excel.cli", "serve", "--port", str(port), "--model", str(tiny_model_dir),
         "--device", "cpu", "--dtype", "float32"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if requests.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                return process, base
        except requests.RequestException:
            pass
        assert process.poll() is None, "the server stopped while starting"
        time.sleep(0.1)
    raise AssertionError("the server did not start")


class Http:
    """Just enough of Flask's test client over real HTTP for the helpers."""

    def __init__(self, base: str) -> None:
        self.base = base

    def get(self, path: str, **kwargs):
        return _Reply(requests.get(self.base + path, timeout=30, **kwargs))

    def post(self, path: str, json: dict, headers: dict | None = None):
        return _Reply(requests.post(self.base + path, json=json, headers=headers, timeout=60))


class _Reply:
    def __init__(self, response: requests.Response) -> None:
        self.status_code, self.headers, self._response = response.status_code, response.headers, response

    def get_json(self):
        return self._response.json()


def test_a_restarted_server_fails_the_jobs_it_held_and_keeps_its_adapters(tiny_model_dir, tmp_path):
    data_dir = tmp_path / "data"
    with (tmp_path / "first.log").open("w") as log:
        first, base = serve(tiny_model_dir, data_dir, log)
        try:
            client = Http(base)
            kept = wait_for(client, start(client, "kept", ALPHA_SERIES, steps=5)["id"])
            assert kept["state"] == "succeeded", kept
            running = start(client, "interrupted", ALPHA_SERIES, steps=2000)
            wait_for(client, running["id"], until=lambda j: j["progress"]["step"] > 0)
        finally:
            os.killpg(first.pid, signal.SIGKILL)  # the server and its training child, without a goodbye
            first.wait(timeout=30)
    with (tmp_path / "second.log").open("w") as log:
        second, base = serve(tiny_model_dir, data_dir, log)
        try:
            client = Http(base)
            job = client.get(f"/api/v1/jobs/{running['id']}").get_json()
            assert job["state"] == "failed" and job["error"].startswith("server stopped"), job
            assert [a["name"] for a in client.get("/api/v1/adapters").get_json()["adapters"]] == ["kept"]
            use = {"series": ALPHA_SERIES, "horizon": 3, "adapter": "kept"}
            assert client.post("/api/v1/forecast", json=use).get_json()["model"]["adapter"] == "kept"
            missing = requests.get(f"{base}/api/v1/adapters/interrupted", timeout=10)
            assert missing.status_code == 404 and missing.headers["Content-Type"] == "application/problem+json"
        finally:
            second.send_signal(signal.SIGTERM)
            second.wait(timeout=60)
