"""Anomaly scan speed: one 2,000-point series through POST /api/v1/anomalies with the real-size model.

    python bench/anomaly_speed.py [--points 2000] [--dtype float32] [--blocks 16 8] [--contexts 512 256]

Prints the wall time of the scan for each (block, context) setting and the number of windows it needs.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from realsize import build_real_size_model

from chronos_excel import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=2000)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--blocks", type=int, nargs="+", default=[16])
    parser.add_argument("--contexts", type=int, nargs="+", default=[512, 256])
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    t = np.arange(args.points)
    values = 100 + 10 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1, args.points)
    values[rng.choice(args.points, 5, replace=False)] += 15
    body = {"series": [{"values": values.tolist()}], "min_context": 32}
    print(f"| block | context | windows | scan of {args.points} points ({args.dtype}) |")
    print("|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = build_real_size_model(Path(scratch) / "chronos-2-random")
        for block in args.blocks:
            for context in args.contexts:
                app = create_app(
                    {
                        "MODEL": str(model_dir),
                        "DEVICE": "cpu",
                        "DTYPE": args.dtype,
                        "ANOMALY_BLOCK": block,
                        "ANOMALY_CONTEXT": context,
                    }
                )
                client = app.test_client()
                client.post("/api/v1/anomalies", json={**body, "last": 16})  # warm-up
                started = time.perf_counter()
                reply = client.post("/api/v1/anomalies", json=body)
                elapsed = time.perf_counter() - started
                assert reply.status_code == 200, reply.get_json()
                windows = -(-(args.points - 32) // block)
                print(f"| {block} | {context} | {windows} | {elapsed:.1f} s |", flush=True)


if __name__ == "__main__":
    main()
