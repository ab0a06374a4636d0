"""Forecast bands calibrated on the series' own history, measured on windows never used to calibrate them.

    python bench/calibration.py [--model bundled] [--levels 0.8 0.95] [--seed 7] [--speed]

Every family is backtested through ``POST /api/v1/backtest`` with ``"calibrate": true``: each held-out window
is forecast from everything before it, its band is calibrated on the windows before its cutoff (never on
itself or later points), and the raw and the calibrated bands are scored on it. Families: the 16 classic
series of ``bench/quality.py`` (5 windows), and synthetic series (20 per family, 300 points, 3 windows of 24)
with seasonal structure under skewed (log-normal), heavy-tailed (Student t, 3 degrees of freedom) and
heteroscedastic (noise growing with the level) noise. Printed per family and band level: the mean coverage
raw → calibrated (the goal: within ±0.04 of the level) and the mean WQL over the nine deciles, raw →
calibrated (the goal: no worse).

``--speed`` times instead a calibrated against a plain forecast of 100 series × 512 points (horizon 32,
deciles) through ``POST /api/v1/forecast`` on the real-size model (``amazon/chronos-2``'s architecture, random
weights), float32, median of 3 alternating rounds (the goal: at most 2.5×).
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

DECILES = [k / 10 for k in range(1, 10)]


def synthetic(kind: str, seed: int, n: int = 300, count: int = 20) -> list[dict]:
    """Seasonal series with a trend and noise of one kind."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    out = []
    for k in range(count):
        period = int(rng.choice([7, 12, 24]))
        level = 50 + rng.uniform(5, 15) * np.sin(2 * np.pi * t / period) + rng.uniform(-0.05, 0.05) * t
        if kind == "skewed":
            noise = rng.lognormal(0, 0.8, n) * 3
            noise -= np.median(noise)
        elif kind == "heavy-tailed":
            noise = rng.standard_t(3, n) * 2
        else:  # heteroscedastic: the noise grows with the level and over time
            noise = rng.normal(0, 1, n) * (0.5 + 4 * t / n) * (level / 50)
        out.append({"name": f"{kind} {k}", "values": np.round(level + noise, 3).tolist()})
    return out


def families(seed: int) -> dict[str, tuple[list[dict], int, int]]:
    """Family name -> (series, horizon, windows)."""
    classic = classic_series()
    out: dict[str, tuple[list[dict], int, int]] = {}
    for horizon in sorted({s.horizon for s in classic}):
        group = [s for s in classic if s.horizon == horizon]
        body = [{"name": s.name, "values": s.values, "timestamps": s.timestamps} for s in group]
        out[f"classic (horizon {horizon}, {len(group)} series)"] = (body, horizon, 5)
    for k, kind in enumerate(("skewed", "heavy-tailed", "heteroscedastic")):
        out[f"{kind} noise (20 series)"] = (synthetic(kind, seed + k), 24, 3)
    return out


def run(client, series: list[dict], horizon: int, windows: int, level: float) -> dict:
    body = {
        "series": series,
        "horizon": horizon,
        "windows": windows,
        "level": level,
        "quantile_levels": DECILES,
        "calibrate": True,
    }
    response = client.post("/api/v1/backtest", json=body)
    assert response.status_code == 200, response.get_json()
    results = response.get_json()["backtests"]
    pick = [r["metrics"] for r in results]
    calibrated = sum(r["calibration"]["calibrated"] for r in results)
    return {
        "coverage": np.mean([m["coverage"] for m in pick]),
        "coverage_calibrated": np.mean([m["coverage_calibrated"] for m in pick]),
        "WQL": np.mean([m["WQL"] for m in pick]),
        "WQL_calibrated": np.mean([m["WQL_calibrated"] for m in pick]),
        "windows": f"{calibrated}/{sum(r['calibration']['windows'] for r in results)}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--levels", type=float, nargs="+", default=[0.8, 0.95])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--speed", action="store_true", help="time a calibrated forecast on the real-size model")
    args = parser.parse_args()
    if args.speed:
        return speed()
    app = create_app({"MODEL": args.model, "DEVICE": "cpu", "DTYPE": "float32"})
    client = app.test_client()
    config = app.config
    print(
        f"Calibration on up to {config['CALIBRATION_WINDOWS']} past windows of at most "
        f"{config['CALIBRATION_CONTEXT']} points each; model {args.model}\n"
    )
    print("| family | level | windows calibrated | coverage raw | calibrated | WQL raw | calibrated |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    totals: dict[float, list[dict]] = {level: [] for level in args.levels}
    for name, (series, horizon, windows) in families(args.seed).items():
        for level in args.levels:
            r = run(client, series, horizon, windows, level)
            totals[level].append(r)
            print(
                f"| {name} | {level:.0%} | {r['windows']} | {r['coverage']:.3f} | {r['coverage_calibrated']:.3f} "
                f"| {r['WQL']:.4f} | {r['WQL_calibrated']:.4f} |",
                flush=True,
            )
    for level, rows in totals.items():
        raw, cal = np.mean([r["coverage"] for r in rows]), np.mean([r["coverage_calibrated"] for r in rows])
        wql, wql_cal = np.mean([r["WQL"] for r in rows]), np.mean([r["WQL_calibrated"] for r in rows])
        mean = f"| **mean over the families** | {level:.0%} | | **{raw:.3f}** | **{cal:.3f}** "
        print(f"{mean}| {wql:.4f} | {wql_cal:.4f} |")


def speed() -> None:
    rng = np.random.default_rng(0)
    t = np.arange(512)
    series = [
        {"values": np.round(100 + 10 * np.sin(2 * np.pi * t / 24 + k) + rng.normal(0, 2, 512), 3).tolist()}
        for k in range(100)
    ]
    body = {"series": series, "horizon": 32, "quantile_levels": DECILES}
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = build_real_size_model(Path(scratch) / "chronos-2-random")
        app = create_app({"MODEL": str(model_dir), "DEVICE": "cpu", "DTYPE": "float32"})
        client = app.test_client()

        def timed(calibrate: bool) -> float:
            started = time.perf_counter()
            response = client.post("/api/v1/forecast", json={**body, "calibrate": calibrate})
            assert response.status_code == 200, response.get_json()
            return time.perf_counter() - started

        timed(False)
        plain, calibrated = [], []
        for _ in range(3):
            plain.append(timed(False))
            calibrated.append(timed(True))
        p, c = statistics.median(plain), statistics.median(calibrated)
        config = app.config
        print(
            f"100 series × 512 points, horizon 32, real-size model, float32: plain {p:.2f} s, calibrated {c:.2f} s "
            f"({c / p:.2f}×; goal at most 2.5×) with {config['CALIBRATION_WINDOWS']} windows of at most "
            f"{config['CALIBRATION_CONTEXT']} points"
        )


if __name__ == "__main__":
    main()
