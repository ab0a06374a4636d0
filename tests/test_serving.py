"""The server as users start it: the console script, real HTTP, model selection and fallback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import huggingface_hub.constants
import pytest
import requests

from chronos_excel import cli, create_app, predictor
from chronos_excel.app import DEFAULTS

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("server", ["gunicorn", "cheroot"])
def test_chronos_excel_serve_answers_forecasts_over_http(tiny_model_dir, tmp_path, server):
    port = free_port()
    log = tmp_path / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "chronos_excel.cli", "serve", "--port", str(port), "--server", server,
             "--model", str(tiny_model_dir), "--device", "cpu", "--dtype", "float32"],
            stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if requests.get(f"{base}/api/v1/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or busy importing torch
                pass
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        else:
            pytest.fail(log.read_text())
        reply = requests.post(f"{base}/api/v1/forecast", json={"series": [{"values": [1, 2, 3, 4]}], "horizon": 2})
        assert reply.status_code == 200 and len(reply.json()["forecasts"][0]["median"]) == 2
        pane = requests.get(f"{base}/addin/taskpane.html", timeout=5)
        assert pane.status_code == 200 and pane.headers["Cache-Control"] == "no-cache"
    finally:
        process.send_signal(signal.SIGINT if os.name != "nt" else signal.SIGTERM)
        process.wait(timeout=30)
    text = log.read_text()
    assert f"listening on http://127.0.0.1:{port}" in text
    assert f"loaded {tiny_model_dir}" in text and "on cpu as float32" in text


def test_settings_come_from_chronos_environment_variables(tiny_model_dir, monkeypatch):
    monkeypatch.setenv("CHRONOS_MODEL", str(tiny_model_dir))
    monkeypatch.setenv("CHRONOS_DEVICE", "cpu")
    monkeypatch.setenv("CHRONOS_DTYPE", "float32")
    monkeypatch.setenv("CHRONOS_MAX_HORIZON", "7")
    app = create_app()
    assert app.config["MAX_HORIZON"] == 7
    health = app.test_client().get("/api/v1/health").get_json()
    assert health["model"]["id"] == str(tiny_model_dir)


def test_an_unreachable_default_model_falls_back_to_the_bundled_one(monkeypatch, caplog):
    monkeypatch.setattr(predictor, "DEFAULT_MODEL", "chronos-excel-tests/not-reachable")
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    started = time.perf_counter()
    app = create_app({"MODEL": "chronos-excel-tests/not-reachable", "DEVICE": "cpu", "DTYPE": "float32"})
    assert time.perf_counter() - started < 30  # no 50 s of retries before deciding
    health = app.test_client().get("/api/v1/health").get_json()
    assert health["fallback"] is True
    assert "chronos-excel-tests/not-reachable" in health["fallback_reason"]
    assert health["model"]["id"] == "bundled" and health["model"]["source"] == "bundled"
    assert "serving the bundled offline demo model" in caplog.text
    forecast = app.test_client().post("/api/v1/forecast", json={"series": [{"values": [1, 2, 3]}], "horizon": 2})
    assert forecast.status_code == 200


def test_another_unreachable_hub_model_is_an_error_not_a_fallback(monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(Exception, match="cannot download someone/else-model"):
        create_app({"MODEL": "someone/else-model", "DEVICE": "cpu"})


def test_an_explicit_missing_local_directory_fails_clearly(tmp_path):
    missing = tmp_path / "models" / "chronos"
    with pytest.raises(FileNotFoundError, match=f"the model directory {missing} does not exist"):
        create_app({"MODEL": str(missing), "DEVICE": "cpu"})


def test_bundled_model_can_be_picked_explicitly():
    health = create_app({"MODEL": "bundled", "DEVICE": "cpu", "DTYPE": "float32"}).test_client().get("/api/v1/health")
    data = health.get_json()
    assert data["model"]["source"] == "bundled" and data["fallback"] is False
    assert 1_000_000 <= data["model"]["parameters"] <= 5_000_000


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name in DEFAULTS:
        assert f"CHRONOS_{name}" in readme, f"CHRONOS_{name} is not documented in README.md"
    for command in ("chronos-excel serve", "chronos-excel manifest", "chronos-excel train-bundled"):
        assert command in readme
    for route in ("/api/v1/forecast", "/api/v1/anomalies", "/api/v1/backtest", "/api/v1/health", "/api/v1/docs"):
        assert route in readme


def test_manifest_command_points_the_add_in_at_another_server(tmp_path):
    out = tmp_path / "manifest.xml"
    cli.main(["manifest", "--url", "https://forecast.example.test:9443/", "--out", str(out)])
    xml = out.read_text()
    assert "https://forecast.example.test:9443/addin/taskpane.html" in xml
    assert "localhost:8000" not in xml
    with pytest.raises(SystemExit, match="http"):
        cli.main(["manifest", "--url", "ftp://nowhere", "--out", str(out)])
