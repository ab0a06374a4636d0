"""Many users, one model: concurrent requests share model calls and get exactly what they would alone; a
full queue is refused at once with Retry-After; /health never waits; SIGTERM drains and exits 0."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import requests
from werkzeug.serving import make_server

from chronos_excel import create_app
from chronos_excel.batching import peer_closed

from .helpers import assert_problem, series
from .test_serving import free_port


def body_for(k: int) -> dict:
    rng = np.random.default_rng(k)
    levels = [[0.1, 0.5, 0.9], [0.05, 0.95], [0.2, 0.8], [0.25, 0.5, 0.75]][k % 4]
    return {
        "series": [series(rng.normal(50, 5, 40 + 9 * k).round(3).tolist(), name=f"client {k}")],
        "horizon": [4, 8, 12, 16][k % 4],
        "quantile_levels": levels,
    }


def test_concurrent_requests_share_model_calls_and_get_what_they_would_get_alone(tiny_model_dir):
    app = create_app({"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "GATHER_MS": 50})
    client = app.test_client()
    alone = [client.post("/api/v1/forecast", json=body_for(k)).get_json()["forecasts"][0] for k in range(16)]
    predictor = app.extensions["chronos_predictor"]
    calls = []
    real = predictor.pipeline.predict
    predictor.pipeline.predict = lambda inputs, **kw: calls.append(len(inputs)) or real(inputs, **kw)
    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(lambda k: app.test_client().post("/api/v1/forecast", json=body_for(k)), range(16)))
    assert len(calls) < 16 and max(calls) > 1, calls  # merged: the four horizons can share, no more
    for k, response in enumerate(together):
        got = response.get_json()["forecasts"][0]
        np.testing.assert_allclose(got["median"], alone[k]["median"], rtol=1e-5, atol=1e-6)
        for key, band in alone[k]["quantiles"].items():
            np.testing.assert_allclose(got["quantiles"][key], band, rtol=1e-5, atol=1e-6)


@pytest.fixture
def gated(tiny_model_dir):
    """An app whose model worker waits at a gate before each model call, to hold the model busy."""
    app = create_app(
        {"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "MAX_QUEUED_TOKENS": 10,
         "GATHER_MS": 0, "QUEUE_DEADLINE": 2}
    )  # fmt: skip
    predictor = app.extensions["chronos_predictor"]
    gate, entered = threading.Event(), threading.Event()
    queue = predictor._queue()
    real = queue._run

    def held(*args, **kwargs):
        entered.set()
        gate.wait(timeout=30)
        return real(*args, **kwargs)

    queue._run = held
    yield app, gate, entered
    gate.set()


def test_a_full_queue_is_refused_at_once_with_retry_after_and_health_stays_fast(gated):
    app, gate, entered = gated
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(app.test_client().post, "/api/v1/forecast", json=body_for(1))
        assert entered.wait(10)  # the model is now busy with the first request
        second = pool.submit(app.test_client().post, "/api/v1/forecast", json=body_for(2))
        time.sleep(0.2)  # the second waits in the queue
        started = time.perf_counter()
        refused = app.test_client().post("/api/v1/forecast", json=body_for(3))
        assert time.perf_counter() - started < 1.0
        body = assert_problem(refused, 503, match="queued")
        assert int(refused.headers["Retry-After"]) >= 1 and body["title"] == "Model busy"
        started = time.perf_counter()
        health = app.test_client().get("/api/v1/health")
        assert time.perf_counter() - started < 0.1
        assert health.get_json()["in_flight"] == 1 and health.get_json()["queued"] == 1
        gate.set()
        assert first.result().status_code == 200 and second.result().status_code == 200
    assert app.test_client().get("/api/v1/health").get_json()["queued"] == 0


def test_a_request_that_waits_past_the_deadline_is_dropped(gated):
    app, gate, entered = gated
    app.extensions["chronos_predictor"].queue.max_queued_tokens = 10**9
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(app.test_client().post, "/api/v1/forecast", json=body_for(1))
        assert entered.wait(10)
        started = time.perf_counter()
        late = app.test_client().post("/api/v1/forecast", json=body_for(2))  # QUEUE_DEADLINE is 2 s
        assert 1.5 < time.perf_counter() - started < 10
        assert_problem(late, 503, match="waited more than 2 s")
        assert app.test_client().get("/api/v1/health").get_json()["queued"] == 0
        gate.set()
        assert first.result().status_code == 200


@pytest.mark.skipif(os.name == "nt", reason="gunicorn (POSIX) handles SIGTERM; Windows uses cheroot")
def test_sigterm_finishes_in_flight_requests_refuses_new_connections_and_exits_0(tiny_model_dir, tmp_path):
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "chronos_excel.cli", "serve", "--port", str(port), "--model", str(tiny_model_dir),
             "--device", "cpu", "--dtype", "float32", "--grace-seconds", "60"],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if requests.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        rng = np.random.default_rng(0)
        heavy = {"series": [series(rng.normal(0, 1, 400).round(2).tolist()) for _ in range(10)], "min_context": 32}
        with ThreadPoolExecutor(3) as pool:
            in_flight = [
                pool.submit(requests.post, f"{base}/api/v1/anomalies", json=heavy, timeout=120) for _ in range(3)
            ]
            time.sleep(1.0)  # the requests are being answered
            process.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            with pytest.raises(requests.ConnectionError):
                requests.get(f"{base}/api/v1/health", timeout=5)  # refused, not hung
            answers = [future.result() for future in in_flight]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert process.wait(timeout=90) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()


def test_peer_closed_sees_a_hang_up_not_waiting_data():
    server, client = socket.socketpair()
    try:
        assert not peer_closed(server)
        client.sendall(b"GET / HTTP/1.1\r\n\r\n")  # a request waiting to be read is not a hang-up
        assert not peer_closed(server)
        client.close()
        assert peer_closed(server)
    finally:
        server.close()


def test_a_request_whose_client_hangs_up_is_dropped_from_the_queue(gated):
    app, gate, entered = gated
    queue = app.extensions["chronos_predictor"].queue
    queue.max_queued_tokens, queue.deadline_seconds = 10**9, 600
    rows = []
    held = queue._run
    queue._run = lambda inputs, *args: rows.append(len(inputs)) or held(inputs, *args)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(requests.post, f"{base}/api/v1/forecast", json=body_for(1), timeout=60)
            assert entered.wait(10)  # the model is busy with the first request
            payload = json.dumps(body_for(2)).encode()
            gone = socket.create_connection(("127.0.0.1", server.server_port))
            gone.sendall(
                b"POST /api/v1/forecast HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Content-Length: {len(payload)}\r\n\r\n".encode()
                + payload
            )
            health = f"{base}/api/v1/health"
            deadline = time.monotonic() + 10
            while requests.get(health, timeout=5).json()["queued"] != 1:  # waiting behind the first
                assert time.monotonic() < deadline
                time.sleep(0.05)
            gone.close()  # the user closed the workbook
            time.sleep(1.0)
            status = requests.get(health, timeout=5).json()
            assert (status["queued"], status["in_flight"]) == (0, 1)
            gate.set()
            assert first.result().status_code == 200
        assert rows == [1]  # the model never computed the second request
    finally:
        server.shutdown()
