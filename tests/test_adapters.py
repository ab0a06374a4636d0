"""Adapt to my data: POST /adapters trains LoRA weights in a job with progress, validates them on held-out
windows, keeps them; /forecast, /anomalies and /backtest run with them. Real tiny Chronos-2, real jobs (child
processes), real app."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from chronos.chronos2 import Chronos2Pipeline
from sqlalchemy import func, select
from transformers import set_seed

from chronos_excel import create_app
from chronos_excel.store import adapters as adapters_table
from chronos_excel.store import jobs as jobs_table

from .adapting import ACTIVE, sawtooth, start, wait_for
from .conftest import build_tiny_chronos2
from .helpers import assert_problem

ALPHA = [{"name": f"store {k}", "values": sawtooth(160, seed=k)} for k in range(3)]
BETA = [{"name": "weekly", "values": sawtooth(140, seed=9, period=7)}]


def make_app(model_dir: Path, data_dir: Path, **settings):
    config = {"MODEL": str(model_dir), "DEVICE": "cpu", "DTYPE": "float32", "DATA_DIR": str(data_dir)}
    return create_app({**config, "TRAIN_THREADS": 1, **settings})


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("chronos-data")


@pytest.fixture(scope="module")
def served(tiny_model_dir, data_dir):
    """An app with two adapters trained: alpha (3 series, seed 1) and beta (another shape, seed 2)."""
    app = make_app(tiny_model_dir, data_dir, GATHER_MS=20)
    client = app.test_client()
    # the base model's lone answer, taken before any adapter exists in this server
    app.config["BASE_ANSWER"] = client.post("/api/v1/forecast", json={"series": ALPHA, "horizon": 12}).get_json()
    alpha = start(client, "alpha", ALPHA, seed=1)
    beta = start(client, "beta", BETA, seed=2, steps=20, learning_rate=0.005)
    app.config["JOBS"] = {"alpha": wait_for(client, alpha["id"]), "beta": wait_for(client, beta["id"])}
    app.config["CREATED"] = alpha
    return app


def test_a_job_trains_validates_and_keeps_an_adapter(served, data_dir):
    created, job = served.config["CREATED"], served.config["JOBS"]["alpha"]
    assert created["state"] == "queued" and created["progress"]["step"] == 0 and created["result"] is None
    assert job["state"] == "succeeded", job
    assert job["progress"]["step"] == job["progress"]["steps"] == 30 and job["error"] is None
    assert job["created"] <= job["started"] <= job["finished"]
    adapter = job["result"]
    assert {k: adapter[k] for k in ("name", "series", "points", "horizon", "steps", "seed", "job")} == {
        "name": "alpha",
        "series": 3,
        "points": 3 * (160 - 12),  # the held-out window is never trained on
        "horizon": 12,
        "steps": 30,
        "seed": 1,
        "job": job["id"],
    }
    assert adapter["base_model"] == served.extensions["chronos_predictor"].info["id"]
    validation = adapter["validation"]
    assert (validation["windows"], validation["horizon"]) == (1, 12)
    zero, adapted = validation["zero_shot"]["MASE"], validation["adapted"]["MASE"]
    assert validation["skill"] == pytest.approx(1 - adapted / zero)
    assert validation["recommended"] is (validation["skill"] > 0)
    assert validation["zero_shot"]["WQL"] > 0 and validation["adapted"]["WQL"] > 0
    # only the LoRA weights, as peft saves them
    record = served.extensions["chronos_jobs"].store.adapter("", "alpha")
    folder = data_dir / "adapters" / record["id"]
    assert sorted(f.name for f in folder.iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    assert adapter["size_bytes"] == sum(f.stat().st_size for f in folder.iterdir())
    client = served.test_client()
    assert client.get("/api/v1/adapters/alpha").get_json() == adapter
    assert [a["name"] for a in client.get("/api/v1/adapters").get_json()["adapters"]] == ["beta", "alpha"]


def test_the_adapted_model_is_the_librarys_fit(served, tiny_model_dir):
    """/forecast with the adapter = Chronos2Pipeline.fit(...) (same data, settings and seed), then predict."""
    client = served.test_client()
    answer = client.post(
        "/api/v1/forecast",
        json={"series": ALPHA, "horizon": 12, "adapter": "alpha", "quantile_levels": [0.1, 0.5, 0.9]},
    ).get_json()
    assert answer["model"]["adapter"] == "alpha"
    pipeline = Chronos2Pipeline.from_pretrained(str(tiny_model_dir), device_map="cpu")
    training = [np.array(s["values"][:-12]) for s in ALPHA]  # the held-out window left out
    set_seed(1)
    fitted = pipeline.fit(
        training, prediction_length=12, finetune_mode="lora", learning_rate=1e-3, num_steps=30, batch_size=32,
        seed=1, output_dir=str(tiny_model_dir.parent / "library-fit"), disable_tqdm=True,
    )  # fmt: skip
    predicted = fitted.predict([torch.tensor(s["values"]) for s in ALPHA], prediction_length=12)
    for k, grid in enumerate(predicted):
        ordered = grid[0].sort(dim=0).values  # the API sorts the quantiles so that bands never cross
        median = ordered[fitted.quantiles.index(0.5)].numpy()
        np.testing.assert_allclose(answer["forecasts"][k]["median"], median, rtol=1e-6)
    base = served.config["BASE_ANSWER"]["forecasts"][0]["median"]
    assert not np.allclose(answer["forecasts"][0]["median"], base)


def test_every_model_route_runs_with_the_adapter_and_names_it(served):
    client = served.test_client()
    one = ALPHA[:1]
    for path, body in [
        ("/api/v1/forecast", {"series": one, "horizon": 6}),
        ("/api/v1/anomalies", {"series": one, "last": 20}),
        ("/api/v1/backtest", {"series": one, "horizon": 6, "windows": 2}),
    ]:
        adapted = client.post(path, json={**body, "adapter": "beta"}).get_json()
        plain = client.post(path, json=body).get_json()
        assert adapted["model"]["adapter"] == "beta" and plain["model"]["adapter"] is None
        assert adapted != {**plain, "model": adapted["model"]}, path  # the adapter changed the numbers


def test_model_batches_never_mix_adapters(served):
    """16 threads interleaving the base model and two adapters each get exactly their lone answer."""
    client = served.test_client()
    body = {"series": ALPHA, "horizon": 12}
    lone = {None: served.config["BASE_ANSWER"]}
    for name in ("alpha", "beta"):
        lone[name] = client.post("/api/v1/forecast", json={**body, "adapter": name}).get_json()
    assert lone["alpha"]["forecasts"] != lone["beta"]["forecasts"] != lone[None]["forecasts"]
    order = [None, "alpha", "beta"] * 16

    def ask(name):
        extra = {} if name is None else {"adapter": name}
        return name, served.test_client().post("/api/v1/forecast", json={**body, **extra}).get_json()

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(ask, order))
    for name, answer in answers:
        assert answer == lone[name], name


def test_a_taken_name_is_409_while_its_job_runs_and_once_it_exists(served):
    client = served.test_client()
    response = client.post("/api/v1/adapters", json={"name": "alpha", "series": ALPHA, "horizon": 12})
    assert_problem(response, 409, match="an adapter named 'alpha' exists already")
    job = start(client, "gamma", BETA, steps=2000)
    response = client.post("/api/v1/adapters", json={"name": "gamma", "series": BETA, "horizon": 12})
    assert_problem(response, 409, match=f"job {job['id']} is training an adapter named 'gamma'")
    assert client.delete(f"/api/v1/jobs/{job['id']}").get_json()["state"] == "cancelled"


@pytest.mark.parametrize(
    ("change", "loc", "match"),
    [
        # too short: one held-out window of 12 and 12 + 16 points to train on
        ({"series": [{"values": sawtooth(39)}]}, ["series", 0, "values"], "adapting needs at least 40"),
        ({"validation_windows": 3, "series": [{"values": sawtooth(63)}]}, ["series", 0, "values"], "at least 64"),
        ({"steps": 2001}, ["steps"], "steps must be at most 2000, got 2001"),
        ({"steps": 0}, ["steps"], "greater than or equal to 1"),
        ({"learning_rate": 0}, ["learning_rate"], "greater than 0"),
        ({"learning_rate": 0.5}, ["learning_rate"], "less than or equal to 0.1"),
        ({"validation_windows": 6}, ["validation_windows"], "less than or equal to 5"),
        ({"name": "my adapter"}, ["name"], "should match pattern"),
        ({"name": "x" * 65}, ["name"], "should match pattern"),
        ({"series": [{"values": sawtooth(1001)}] * 200}, [], "a training job takes at most 200,000"),
        ({"horizon": 2000}, ["horizon"], "horizon must be at most 1024"),
        ({"future_covariates": ["price"]}, ["future_covariates", 0], "'price' is not a covariate"),
    ],
)
def test_bad_input_is_a_located_422_and_starts_no_job(served, change, loc, match):
    client = served.test_client()
    store = served.extensions["chronos_jobs"].store
    with store.engine.connect() as connection:
        before = connection.execute(select(func.count()).select_from(jobs_table)).scalar()
    response = client.post("/api/v1/adapters", json={"name": "bad", "series": ALPHA, "horizon": 12, **change})
    assert_problem(response, 422, loc if loc else None, match)
    with store.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(jobs_table)).scalar() == before


def test_an_unknown_adapter_is_a_422_at_adapter(served):
    response = served.test_client().post("/api/v1/forecast", json={"series": ALPHA, "horizon": 3, "adapter": "nope"})
    assert_problem(response, 422, ["adapter"], "there is no adapter named 'nope' (your adapters: 'beta', 'alpha')")


def test_an_adapter_of_another_base_model_is_a_409_naming_both(served, data_dir, tmp_path):
    other_model = build_tiny_chronos2(tmp_path / "other-tiny", seed=5)
    other = make_app(other_model, data_dir).test_client()
    response = other.post("/api/v1/forecast", json={"series": ALPHA, "horizon": 3, "adapter": "alpha"})
    trained_on = served.extensions["chronos_predictor"].info["id"]
    body = assert_problem(response, 409, match=f"trained on {trained_on!r}, but this server runs {str(other_model)!r}")
    assert "Traceback" not in body["detail"]


def test_a_queued_job_is_cancelled_at_once_and_a_running_one_within_2_s_leaving_nothing(tiny_model_dir, tmp_path):
    app = make_app(tiny_model_dir, tmp_path, TRAIN_CONCURRENCY=1)
    client = app.test_client()
    running = start(client, "long", ALPHA, steps=2000)
    queued = start(client, "next", BETA, steps=2000)
    answer = client.delete(f"/api/v1/jobs/{queued['id']}").get_json()
    assert (answer["state"], answer["started"]) == ("cancelled", None)
    wait_for(client, running["id"], until=lambda job: job["progress"]["step"] > 0)
    asked = time.monotonic()
    answer = client.delete(f"/api/v1/jobs/{running['id']}").get_json()
    assert answer["state"] == "cancelled" and time.monotonic() - asked < 2
    assert not any(p.is_alive() for p in multiprocessing.active_children() if p.name.startswith("train-"))
    assert client.get("/api/v1/adapters").get_json()["adapters"] == []
    assert list((tmp_path / "adapters").iterdir()) == []
    assert client.delete(f"/api/v1/jobs/{running['id']}").get_json()["state"] == "cancelled"  # again: the same


def test_progress_is_monotone_and_reported_at_least_every_2_s(tiny_model_dir, tmp_path):
    client = make_app(tiny_model_dir, tmp_path).test_client()
    job = start(client, "steady", ALPHA, steps=400)
    seen = []
    while True:
        current = client.get(f"/api/v1/jobs/{job['id']}").get_json()
        seen.append((time.monotonic(), current))
        if current["state"] not in ACTIVE:
            break
        time.sleep(0.2)
    assert current["state"] == "succeeded"
    steps = [j["progress"]["step"] for _, j in seen]
    elapsed = [j["progress"]["elapsed_s"] for _, j in seen]
    assert steps == sorted(steps) and elapsed == sorted(elapsed)
    assert len(set(steps)) > 3  # it moved while it ran, not only at the end
    running = [(t, j) for t, j in seen if j["state"] == "running"]
    pairs = zip(running[1:], running, strict=False)
    updates = [t for (t, j), (_, previous) in pairs if j["progress"] != previous["progress"]]
    assert all(b - a <= 2.0 for a, b in zip(updates, updates[1:], strict=False)), updates
    assert any(j["progress"]["eta_s"] for _, j in running) and any(j["progress"]["loss"] for _, j in running)


def test_a_job_past_its_time_limit_fails_with_a_message(tiny_model_dir, tmp_path):
    client = make_app(tiny_model_dir, tmp_path, TRAIN_MAX_SECONDS=3).test_client()
    job = wait_for(client, start(client, "slow", ALPHA, steps=2000)["id"])
    assert job["state"] == "failed" and "CHRONOS_TRAIN_MAX_SECONDS" in job["error"], job
    assert client.get("/api/v1/adapters").get_json()["adapters"] == []


def test_a_crashed_training_fails_its_job_not_the_server(tiny_model_dir, tmp_path):
    client = make_app(tiny_model_dir, tmp_path).test_client()
    job = start(client, "doomed", ALPHA, steps=2000)
    wait_for(client, job["id"], until=lambda j: j["progress"]["step"] > 0)
    [child] = [p for p in multiprocessing.active_children() if p.name == f"train-{job['id']}"]
    os.kill(child.pid, signal.SIGKILL)
    failed = wait_for(client, job["id"])
    assert failed["state"] == "failed" and "stopped unexpectedly" in failed["error"], failed
    assert client.post("/api/v1/forecast", json={"series": ALPHA, "horizon": 3}).status_code == 200
    assert client.get("/api/v1/health").status_code == 200


def test_a_full_training_queue_is_503_with_retry_after(tiny_model_dir, tmp_path):
    client = make_app(tiny_model_dir, tmp_path, TRAIN_QUEUE=1).test_client()
    first = start(client, "one", ALPHA, steps=2000)
    wait_for(client, first["id"], until=lambda j: j["state"] == "running")
    second = start(client, "two", ALPHA, steps=2000)
    response = client.post("/api/v1/adapters", json={"name": "three", "series": ALPHA, "horizon": 12})
    assert_problem(response, 503, match="1 training jobs are waiting already")
    assert int(response.headers["Retry-After"]) >= 1
    for job in (second, first):
        assert client.delete(f"/api/v1/jobs/{job['id']}").get_json()["state"] == "cancelled"


def test_health_and_forecasts_answer_while_a_job_trains(tiny_model_dir, tmp_path):
    client = make_app(tiny_model_dir, tmp_path).test_client()
    job = start(client, "busy", ALPHA, steps=2000)
    wait_for(client, job["id"], until=lambda j: j["progress"]["step"] > 0)
    assert client.get("/api/v1/health").status_code == 200
    assert client.post("/api/v1/forecast", json={"series": ALPHA, "horizon": 3}).status_code == 200
    client.delete(f"/api/v1/jobs/{job['id']}")


def test_a_finished_job_cannot_be_cancelled_and_an_unknown_job_is_404(served):
    client = served.test_client()
    job = served.config["JOBS"]["beta"]
    assert_problem(client.delete(f"/api/v1/jobs/{job['id']}"), 409, match="has succeeded already")
    assert_problem(client.get("/api/v1/jobs/nope"), 404)
    assert_problem(client.delete("/api/v1/jobs/nope"), 404)
    assert_problem(client.get("/api/v1/adapters/nope"), 404)
    assert_problem(client.delete("/api/v1/adapters/nope"), 404)


def test_deleting_an_adapter_removes_its_weights_and_its_use(tiny_model_dir, tmp_path):
    client = make_app(tiny_model_dir, tmp_path).test_client()
    job = wait_for(client, start(client, "short-lived", BETA, steps=5)["id"])
    assert job["state"] == "succeeded"
    folders = list((tmp_path / "adapters").iterdir())
    assert len(folders) == 1
    response = client.delete("/api/v1/adapters/short-lived")
    assert response.status_code == 204 and not folders[0].exists()
    assert_problem(client.get("/api/v1/adapters/short-lived"), 404)
    response = client.post("/api/v1/forecast", json={"series": BETA, "horizon": 3, "adapter": "short-lived"})
    assert_problem(response, 422, ["adapter"])


def test_adapters_belong_to_the_key_that_made_them(tiny_model_dir, tmp_path):
    client = make_app(tiny_model_dir, tmp_path, API_KEYS="key-of-ann,key-of-bob").test_client()
    ann, bob = ({"Authorization": f"Bearer key-of-{who}"} for who in ("ann", "bob"))
    job = start(client, "private", BETA, steps=5, headers=ann)
    assert_problem(client.get(f"/api/v1/jobs/{job['id']}", headers=bob), 404)
    assert_problem(client.delete(f"/api/v1/jobs/{job['id']}", headers=bob), 404)
    assert wait_for(client, job["id"], headers=ann)["state"] == "succeeded"
    assert [a["name"] for a in client.get("/api/v1/adapters", headers=ann).get_json()["adapters"]] == ["private"]
    assert client.get("/api/v1/adapters", headers=bob).get_json() == {"adapters": []}
    assert_problem(client.get("/api/v1/adapters/private", headers=bob), 404)
    assert_problem(client.delete("/api/v1/adapters/private", headers=bob), 404)
    use = {"series": BETA, "horizon": 3, "adapter": "private"}
    assert_problem(client.post("/api/v1/forecast", json=use, headers=bob), 422, ["adapter"])
    assert client.post("/api/v1/forecast", json=use, headers=ann).status_code == 200
    # the same name is free for another key
    other = start(client, "private", BETA, steps=5, headers=bob)
    assert wait_for(client, other["id"], headers=bob)["state"] == "succeeded"
    with client.application.extensions["chronos_jobs"].store.engine.connect() as connection:
        owners = {row[0] for row in connection.execute(select(adapters_table.c.owner))}
    assert len(owners) == 2 and all(len(owner) == 64 and "key-of" not in owner for owner in owners)  # hashes only


def test_a_script_without_a_main_guard_can_train(tiny_model_dir, tmp_path):
    """A training child never runs the parent's script again (spawn would): a plain script that builds the app
    at module level, as a user's own WSGI file might, gets its job done."""
    script = tmp_path / "my_server.py"
    script.write_text(
        "import time\n"
        "from chronos_excel import create_app\n"
        f"app = create_app({{'MODEL': {str(tiny_model_dir)!r}, 'DEVICE': 'cpu', 'DTYPE': 'float32', "
        f"'DATA_DIR': {str(tmp_path / 'data')!r}}})\n"
        "client = app.test_client()\n"
        f"job = client.post('/api/v1/adapters', json={{'name': 'x', 'series': {BETA!r}, 'horizon': 6, "
        "'steps': 3}).get_json()\n"
        "while job['state'] in ('queued', 'running'):\n"
        "    time.sleep(0.2)\n"
        "    job = client.get('/api/v1/jobs/' + job['id']).get_json()\n"
        "print('STATE', job['state'], job['error'])\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert "STATE succeeded None" in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]
