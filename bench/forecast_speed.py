"""Forecast speed: in-process predict_df vs predict_quantiles vs the HTTP /api/v1/forecast round trip.

Builds the real amazon/chronos-2 architecture (d_model 768, 12 layers, 12 heads, d_ff 3072, 21 quantiles,
patch 16, context 8192) with random weights — the same compute as the real model — and times, for
1, 100 and 1000 series of 512 points with horizon 32, in float32 and bfloat16:

    python bench/forecast_speed.py [--sizes 1 100 1000] [--dtypes float32 bfloat16] [--repeats 3]

Prints a table with the ratios HTTP / predict_quantiles and HTTP / predict_df.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import requests
import torch
from chronos.chronos2 import Chronos2Pipeline
from realsize import build_real_size_model
from werkzeug.serving import make_server

from chronos_excel import create_app

LEVELS = [0.1, 0.5, 0.9]


def best_of_interleaved(repeats: int, *fns) -> list[float]:
    """Best time of each function over ``repeats`` rounds, running them in turn so that load and
    thermal drift hit all of them alike.

    Each call runs in a worker thread, as the server's model calls do: on a busy machine the same
    model call from the main thread was measured up to 8x slower, which would flatter the server.
    """
    best = [float("inf")] * len(fns)
    with ThreadPoolExecutor(max_workers=1) as worker:
        for _ in range(repeats):
            for i, fn in enumerate(fns):
                started = time.perf_counter()
                worker.submit(fn).result()
                best[i] = min(best[i], time.perf_counter() - started)
    return best


def time_one_size(pipeline, url: str, n: int, args: argparse.Namespace, rng) -> tuple[float, float, float]:
    """Best-of times of the three ways to forecast ``n`` series."""
    data = rng.normal(100, 10, size=(n, args.length)).cumsum(axis=1)
    stamps = pd.date_range("2020-01-01", periods=args.length, freq="D")
    df = pd.DataFrame(
        {"item_id": np.repeat(np.arange(n), args.length), "timestamp": np.tile(stamps, n), "target": data.ravel()}
    )
    tensors = [torch.tensor(row, dtype=torch.float32) for row in data]
    iso = stamps.strftime("%Y-%m-%d").tolist()
    body = {
        "series": [{"values": row.tolist(), "timestamps": iso} for row in data],
        "horizon": args.horizon,
        "quantile_levels": LEVELS,
    }

    def http() -> None:
        reply = requests.post(url, json=body, timeout=3600)
        reply.raise_for_status()

    warm = [tensors[0]]  # first calls pay one-off kernel set-up; keep that out of every timing
    pipeline.predict_quantiles(warm, prediction_length=args.horizon, quantile_levels=LEVELS)
    requests.post(url, json={**body, "series": body["series"][:1]}, timeout=600).raise_for_status()
    t_df, t_q, t_http = best_of_interleaved(
        1 if n >= 1000 else args.repeats,
        lambda: pipeline.predict_df(df, prediction_length=args.horizon, quantile_levels=LEVELS),
        lambda: pipeline.predict_quantiles(tensors, prediction_length=args.horizon, quantile_levels=LEVELS),
        http,
    )
    return t_df, t_q, t_http


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--length", type=int, default=512)
    parser.add_argument("--horizon", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = build_real_size_model(Path(scratch) / "chronos-2-random")
        rows = []
        for dtype in args.dtypes:
            app = create_app({"MODEL": str(model_dir), "DEVICE": "cpu", "DTYPE": dtype, "MAX_CONTENT_LENGTH": 1 << 30})
            server = make_server("127.0.0.1", 0, app, threaded=True)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            url = f"http://127.0.0.1:{server.server_port}/api/v1/forecast"
            pipeline = Chronos2Pipeline.from_pretrained(str(model_dir), device_map="cpu", dtype=getattr(torch, dtype))
            for n in args.sizes:
                t_df, t_q, t_http = time_one_size(pipeline, url, n, args, rng)
                rows.append((dtype, n, t_df, t_q, t_http))
                print(
                    f"{dtype:9} {n:5} series  predict_df {t_df:8.3f} s  predict_quantiles {t_q:8.3f} s  "
                    f"HTTP {t_http:8.3f} s  HTTP/quantiles {t_http / t_q:5.2f}x  HTTP/df {t_http / t_df:5.2f}x",
                    flush=True,
                )
            server.shutdown()

    print("\n| dtype | series | predict_df (s) | predict_quantiles (s) | HTTP (s) | HTTP ÷ quantiles | HTTP ÷ df |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for dtype, n, t_df, t_q, t_http in rows:
        print(f"| {dtype} | {n} | {t_df:.3f} | {t_q:.3f} | {t_http:.3f} | {t_http / t_q:.2f}× | {t_http / t_df:.2f}× |")


if __name__ == "__main__":
    main()
