"""Anomaly scan speed: the calibrated scan against the plan before calibration, at the real model's cost.

    python bench/anomaly_speed.py [--points 2000] [--dtype float32] [--repeats 3] [--settings 6:64 4:64]

The series: ``--points`` hourly points of a daily cycle with noise and 5 spikes, every point from the 33rd on
scored (level 0.95, then 0.98).

- *before*: the plan before calibration: 16-point windows over 256 points, all in one batched model call,
  the model's raw band, no re-forecasting;
- *after*: ``anomalies.detect`` as the server runs it (``CHRONOS_ANOMALY_BLOCK`` : ``CHRONOS_ANOMALY_CONTEXT``
  windows, calibration, re-forecasting rounds).

Both run on the real ``amazon/chronos-2`` architecture with random weights (the real model's compute
cost). Random weights flag nothing, so they would never re-forecast: the scan's decisions (flags, hence
re-forecasting rounds) come from the bundled model, while every model call is also made, at the same size,
on the real-size model; the figures are the real-size calls plus everything else the scan does, without the
bundled model's own time. Rounds alternate and the median of ``--repeats`` is printed with the ratio
after ÷ before (the issue's goal: at most 1.3).
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
from realsize import build_real_size_model  # noqa: E402

from chronos_excel import anomalies  # noqa: E402
from chronos_excel.predictor import Predictor  # noqa: E402
from chronos_excel.schemas import AnomaliesRequest  # noqa: E402
from chronos_excel.series import prepare_series  # noqa: E402

OLD_BLOCK, OLD_CONTEXT = 16, 256


class RealSizeCost(Predictor):
    """Answers with the bundled model's forecasts, after making the same call on the real-size model; keeps
    the time spent in the bundled model, to take it out of the figures."""

    def __init__(self, decider: Predictor, real_size: Predictor) -> None:
        super().__init__(model="bundled", device="cpu", dtype="float32")
        self.decider, self.real_size = decider, real_size
        self.pipeline, self.info, self.state = decider.pipeline, decider.info, "ready"
        self.excluded, self.calls = 0.0, []

    def quantile_grid(self, inputs, horizon, **options):
        self.real_size.quantile_grid(inputs, horizon, **options)
        self.calls.append(len(inputs))
        started = time.perf_counter()
        grid = self.decider.quantile_grid(inputs, horizon, **options)
        self.excluded += time.perf_counter() - started
        return grid


def timed_scan(predictor: RealSizeCost, prepared, level: float, block: int, context: int) -> tuple[float, list, int]:
    """The calibrated scan: seconds without the bundled model's own time, windows per model call, flags."""
    predictor.excluded, predictor.calls = 0.0, []
    started = time.perf_counter()
    [result] = anomalies.detect(
        predictor, prepared, level=level, min_context=32, last=None, block=block, context=context
    )
    return time.perf_counter() - started - predictor.excluded, predictor.calls, result["count"]


def timed_old_plan(real_size: Predictor, prepared, level: float) -> tuple[float, int]:
    """The plan before calibration: one batched call of 16-point windows over 256 points, raw bands."""
    values = prepared[0].values
    plan = anomalies.plan_windows(values, anomalies.scored_points(values, 32, None), OLD_BLOCK, OLD_CONTEXT)
    started = time.perf_counter()
    anomalies.Forecasts(prepared).fill(
        real_size,
        prepared,
        [(0, cut, points) for cut, points in plan],
        level=level,
        block=OLD_BLOCK,
        context=OLD_CONTEXT,
    )
    return time.perf_counter() - started, len(plan)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--levels", type=float, nargs="+", default=[0.95, 0.98])
    parser.add_argument("--settings", nargs="+", default=["6:64"], help="block:context of the calibrated scan")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    t = np.arange(args.points)
    values = 100 + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1, args.points)
    values[rng.choice(args.points, 5, replace=False)] += 15
    prepared = prepare_series(AnomaliesRequest.model_validate({"series": [{"values": values.tolist()}]}))

    with tempfile.TemporaryDirectory() as scratch:
        model_dir = build_real_size_model(Path(scratch) / "chronos-2-random")
        real_size = Predictor(model=str(model_dir), device="cpu", dtype=args.dtype, gather_seconds=0)
        decider = Predictor(model="bundled", device="cpu", dtype="float32", gather_seconds=0)
        real_size.load()
        decider.load()
        predictor = RealSizeCost(decider, real_size)
        timed_old_plan(real_size, prepared, 0.95)  # warm-up
        print(f"{args.points}-point series, real-size model ({args.dtype}), median of {args.repeats}\n")
        print(
            "| level | block:context | model calls (windows each) | flags | before (s) | after (s) | after ÷ before |"
        )
        print("|---:|---|---|---:|---:|---:|---:|")
        for level in args.levels:
            for setting in args.settings:
                block, context = (int(part) for part in setting.split(":"))
                before, after = [], []
                for _ in range(args.repeats):  # alternate, so that both see the same machine
                    seconds, old_windows = timed_old_plan(real_size, prepared, level)
                    before.append(seconds)
                    seconds, calls, flags = timed_scan(predictor, prepared, level, block, context)
                    after.append(seconds)
                b, a = statistics.median(before), statistics.median(after)
                shown = " + ".join(str(c) for c in calls)
                print(
                    f"| {level} | {block}:{context} (before {OLD_BLOCK}:{OLD_CONTEXT}, {old_windows} windows) "
                    f"| {shown} | {flags} | {b:.2f} | {a:.2f} | {a / b:.2f}× |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
