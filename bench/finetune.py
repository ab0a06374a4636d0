"""Adapt to my data, measured through the API: does an adapter help where the model is poor, does its own
validation tell when it helps, how long does it take, and what does training cost the requests served meanwhile.

    python bench/finetune.py [--parts families classic speed] [--steps 200] [--seed 2026]

- *families*: synthetic series the bundled model forecasts badly (shapes it never saw), 30 per family, 400
  points, seed 2026 (no test uses it). One adapter per family is trained on the first 376 points (its own
  validation window included); then the last 24 points, never seen, are forecast zero-shot and adapted
  (``POST /api/v1/backtest``, one window, lag-1 scaled MASE, WQL on the 9 deciles).
- *classic*: the 16 classic series of ``bench/quality.py``, one adapter each, trained without the last window
  of the series; the held-out result (adapted better than zero-shot on that window?) is compared with what
  the adapter's own validation said (``recommended``).
- *speed*: seconds per 100 training steps of the bundled and of the real-size model (``amazon/chronos-2``'s
  architecture, random weights) on this CPU, with ``CHRONOS_TRAIN_THREADS`` at its default; a lone forecast
  (one 512-point series, horizon 32) and ``/health`` on the real-size model, idle and while a real-size job
  trains.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as `chronos-excel serve` runs torch

import numpy as np  # noqa: E402
from quality import classic_series  # noqa: E402
from realsize import build_real_size_model  # noqa: E402

from chronos_excel import create_app  # noqa: E402

N, HOLD_OUT, PER_FAMILY = 400, 24, 30


def sawtooth(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """An asymmetric sawtooth of period 13: a slow convex rise, then a drop."""
    return 20 + rng.uniform(5, 15) * (((t + rng.integers(13)) % 13) / 13) ** 2


def pulses(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """Three high steps out of every twelve (a weekly delivery, a shift pattern)."""
    return 10 + rng.uniform(5, 20) * (((t + rng.integers(12)) % 12) < 3)


def plateaus(rng: np.random.Generator, t: np.ndarray) -> np.ndarray:
    """A staircase of period 16: four flat levels, up and up, then back down at once."""
    return 50 + rng.uniform(3, 8) * (((t + rng.integers(16)) % 16) // 4)


FAMILIES = {"asymmetric sawtooth (13)": sawtooth, "pulses (3 of 12)": pulses, "staircase (16)": plateaus}


def family(shape, seed: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    t = np.arange(N)
    series = []
    for k in range(PER_FAMILY):
        level = shape(rng, t)
        noise = rng.normal(0, 0.03 * np.std(level) + 0.05, N)
        series.append({"name": f"{k}", "values": np.round(level + noise, 4).tolist()})
    return series


def train(client, name: str, series: list[dict], horizon: int, steps: int, seed: int) -> tuple[dict, float]:
    """Train an adapter through the API; the job at its end and its wall time. The job gets ``per_step``: the
    seconds per training step seen in its progress (from its first reported step to its last)."""
    started = time.perf_counter()
    body = {"name": name, "series": series, "horizon": horizon, "steps": steps, "seed": seed}
    response = client.post("/api/v1/adapters", json=body)
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    seen: list[tuple[float, int]] = []
    while job["state"] in ("queued", "running"):
        time.sleep(0.2)
        job = client.get(f"/api/v1/jobs/{job['id']}").get_json()
        step = job["progress"]["step"]
        if step and (not seen or step > seen[-1][1]) and step <= steps:
            seen.append((time.perf_counter(), step))
    assert job["state"] == "succeeded", job
    (t0, s0), (t1, s1) = seen[0], seen[-1]
    job["per_step"] = (t1 - t0) / (s1 - s0) if s1 > s0 else float("nan")
    return job, time.perf_counter() - started


def held_out(client, series: list[dict], horizon: int, adapter: str | None) -> list[dict]:
    """The last window of each series, forecast from everything before it: per series MASE and WQL."""
    body = {"series": series, "horizon": horizon, "windows": 1, "quantile_levels": [k / 10 for k in range(1, 10)]}
    response = client.post("/api/v1/backtest", json={**body, **({"adapter": adapter} if adapter else {})})
    assert response.status_code == 200, response.get_json()
    return [b["metrics"] for b in response.get_json()["backtests"]]


def families(client, steps: int, seed: int) -> None:
    print("\n## Families the bundled model forecasts badly\n")
    print("| family | series | MASE zero-shot | MASE adapted | adapted ÷ zero-shot | WQL zero-shot | WQL adapted "
          "| validation skill | job (s) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    ratios = []
    for k, (name, shape) in enumerate(FAMILIES.items()):
        series = family(shape, seed + k)
        training = [{**s, "values": s["values"][:-HOLD_OUT]} for s in series]
        job, seconds = train(client, f"family-{k}", training, HOLD_OUT, steps, seed)
        zero, adapted = held_out(client, series, HOLD_OUT, None), held_out(client, series, HOLD_OUT, f"family-{k}")
        mase_z, mase_a = (np.mean([m["MASE"] for m in ms]) for ms in (zero, adapted))
        wql_z, wql_a = (np.mean([m["WQL"] for m in ms]) for ms in (zero, adapted))
        ratios.append(mase_a / mase_z)
        skill = job["result"]["validation"]["skill"]
        print(f"| {name} | {len(series)} | {mase_z:.3f} | {mase_a:.3f} | {mase_a / mase_z:.2f} | {wql_z:.4f} "
              f"| {wql_a:.4f} | {skill:+.2f} | {seconds:.0f} |", flush=True)  # fmt: skip
    print(f"\nMean adapted ÷ zero-shot MASE over the families: {np.mean(ratios):.2f} (goal: at most 0.5).")


def classic(client, steps: int, seed: int) -> None:
    print("\n## Classic series, last window held out\n")
    print("| series | horizon | validation skill | recommended | held-out MASE zero-shot | adapted | held-out skill "
          "| agree |")  # fmt: skip
    print("|---|---:|---:|:-:|---:|---:|---:|:-:|")
    agree = 0
    rows = classic_series()
    for k, s in enumerate(rows):
        full = {"name": s.name, "values": s.values, "timestamps": s.timestamps}
        training = {**full, "values": s.values[: -s.horizon], "timestamps": s.timestamps[: -s.horizon]}
        job, _ = train(client, f"classic-{k}", [training], s.horizon, steps, seed)
        validation = job["result"]["validation"]
        [zero], [adapted] = (
            held_out(client, [full], s.horizon, None),
            held_out(client, [full], s.horizon, f"classic-{k}"),
        )
        skill = 1 - adapted["MASE"] / zero["MASE"]
        same = validation["recommended"] == (skill > 0)
        agree += same
        shown = "—" if validation["skill"] is None else f"{validation['skill']:+.2f}"
        print(f"| {s.name} | {s.horizon} | {shown} | {'yes' if validation['recommended'] else 'no'} "
              f"| {zero['MASE']:.3f} | {adapted['MASE']:.3f} | {skill:+.2f} | {'yes' if same else 'no'} |",
              flush=True)  # fmt: skip
    print(f"\nThe validation's verdict agrees with the held-out window on {agree} of {len(rows)} series.")


def speed(steps: int, seed: int) -> None:
    print("\n## Speed (this CPU)\n")
    series = family(sawtooth, seed)
    training = [{**s, "values": s["values"][:-HOLD_OUT]} for s in series]
    with tempfile.TemporaryDirectory() as scratch:
        bundled = create_app({"MODEL": "bundled", "DEVICE": "cpu", "DTYPE": "float32", "DATA_DIR": scratch})
        job, wall = train(bundled.test_client(), "speed", training, HOLD_OUT, steps, seed)
        threads = bundled.config["TRAIN_THREADS"]
        print(f"- bundled model: {100 * job['per_step']:.1f} s per 100 steps (batch 32) on {threads} thread(s); a "
              f"whole job of {steps} steps, process start and validation included, {wall:.1f} s.")  # fmt: skip

        model_dir = build_real_size_model(Path(scratch) / "chronos-2-random")
        app = create_app({"MODEL": str(model_dir), "DEVICE": "cpu", "DTYPE": "float32", "DATA_DIR": scratch})
        client = app.test_client()
        real_steps = 10
        job, wall = train(client, "real-size", training[:8], HOLD_OUT, real_steps, seed)
        print(f"- real-size model: {job['per_step']:.1f} s per step (batch 32), so {100 * job['per_step'] / 60:.0f} "
              f"min per 100 steps on {threads} thread(s); a whole job of {real_steps} steps {wall:.0f} s.")  # fmt: skip

        body = {"series": [{"values": np.sin(np.arange(512) / 7).round(4).tolist()}], "horizon": 32}

        def lone() -> float:
            started = time.perf_counter()
            assert client.post("/api/v1/forecast", json=body).status_code == 200
            return time.perf_counter() - started

        def health() -> float:
            started = time.perf_counter()
            assert client.get("/api/v1/health").status_code == 200
            return time.perf_counter() - started

        lone()
        idle = statistics.median(lone() for _ in range(7))
        response = client.post("/api/v1/adapters", json={"name": "busy", "series": training[:8], "horizon": HOLD_OUT,
                                                           "steps": 2000})  # fmt: skip
        busy_job = response.get_json()["id"]
        while client.get(f"/api/v1/jobs/{busy_job}").get_json()["progress"]["step"] < 1:
            time.sleep(0.5)
        during = statistics.median(lone() for _ in range(7))
        health_times = [health() for _ in range(20)]
        client.delete(f"/api/v1/jobs/{busy_job}")
        print(f"- a lone forecast on the real-size model (512 points, horizon 32): {1000 * idle:.0f} ms idle, "
              f"{1000 * during:.0f} ms while a real-size job trains ({during / idle:.2f}×; goal at most 2×); "
              f"/health while it trains: median {1000 * statistics.median(health_times):.1f} ms, slowest "
              f"{1000 * max(health_times):.1f} ms (goal under 100 ms).")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", nargs="+", default=["families", "classic", "speed"])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        client = create_app(
            {"MODEL": "bundled", "DEVICE": "cpu", "DTYPE": "float32", "DATA_DIR": scratch}
        ).test_client()
        if "families" in args.parts:
            families(client, args.steps, args.seed)
        if "classic" in args.parts:
            classic(client, args.steps, args.seed)
    if "speed" in args.parts:
        speed(args.steps, args.seed)


if __name__ == "__main__":
    main()
