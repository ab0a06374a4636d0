"""Many users, one model, on the real-size architecture (random weights), through the real app in-process.

    python bench/concurrency.py [--dtypes float32 bfloat16 int8] [--clients 16]

Prints, per dtype: 16 single-series requests one after another, the same 16 at once from 16 threads, and
the 16 series in one request, with the ratios; then p50/p95 latency of 32 clients sending one request
each at once. Each series has 512 points, horizon 32.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
from realsize import build_real_size_model  # noqa: E402

from chronos_excel import create_app  # noqa: E402


def body(k: int, n: int = 1) -> dict:
    rng = np.random.default_rng(k)
    values = [(100 + 10 * np.sin(np.arange(512) / 8) + rng.normal(0, 2, 512)).round(3).tolist() for _ in range(n)]
    return {"series": [{"values": v} for v in values], "horizon": 32}


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16", "int8"])
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    n = args.clients
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = str(build_real_size_model(Path(scratch) / "chronos-2-size"))
        columns = f"{n} × 1 serial | {n} × 1 concurrent | 1 × {n} | serial ÷ concurrent | p50 / p95 of 32 clients"
        print(f"| dtype | {columns} |")
        print("|---|---:|---:|---:|---:|---:|")
        for dtype in args.dtypes:
            app = create_app({"MODEL": model_dir, "DEVICE": "cpu", "DTYPE": dtype})

            def post(b: dict, app=app) -> float:
                started = time.perf_counter()
                reply = app.test_client().post("/api/v1/forecast", json=b)
                assert reply.status_code == 200, reply.get_json()
                return time.perf_counter() - started

            post(body(0))  # warm-up
            serial = timed(lambda: [post(body(k)) for k in range(n)])
            with ThreadPoolExecutor(n) as pool:
                concurrent = timed(lambda: list(pool.map(lambda k: post(body(k)), range(n))))
            one = timed(lambda: post(body(0, n)))
            with ThreadPoolExecutor(32) as pool:
                latencies = sorted(pool.map(lambda k: post(body(k)), range(32)))
            p95 = latencies[int(0.95 * len(latencies)) - 1]
            print(
                f"| {dtype} | {serial:.2f} s | {concurrent:.2f} s | {one:.2f} s | {serial / concurrent:.2f}× "
                f"| {statistics.median(latencies):.2f} s / {p95:.2f} s |",
                flush=True,
            )


if __name__ == "__main__":
    main()
