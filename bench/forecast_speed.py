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
from pathlib import Path

import numpy as np
import pandas as pd
import requests
import torch
from chronos.chronos2 import Chronos2CoreConfig, Chronos2Model, Chronos2Pipeline
from werkzeug.serving import make_server

from chronos_excel import create_app

QUANTILES = [0.01, *[round(0.05 * i, 2) for i in range(1, 20)], 0.99]
LEVELS = [0.1, 0.5, 0.9]


def build_real_size_model(directory: Path) -> Path:
    """Save amazon/chronos-2's architecture with random weights."""
    config = Chronos2CoreConfig(
        d_model=768,
        d_kv=64,
        d_ff=3072,
        num_layers=12,
        num_heads=12,
        architectures=["Chronos2Model"],
        chronos_pipeline_class="Chronos2Pipeline",
        chronos_config={
            "context_length": 8192,
            "input_patch_size": 16,
            "input_patch_stride": 16,
            "output_patch_size": 16,
            "max_output_patches": 64,
            "quantiles": QUANTILES,
            "time_encoding_scale": 8192,
            "use_arcsinh": True,
            "use_reg_token": True,
        },
    )
    torch.manual_seed(0)
    Chronos2Model(config).save_pretrained(directory)
    return directory


def best_of(repeats: int, fn) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


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
    repeats = 1 if n >= 1000 else args.repeats
    return (
        best_of(repeats, lambda: pipeline.predict_df(df, prediction_length=args.horizon, quantile_levels=LEVELS)),
        best_of(
            repeats, lambda: pipeline.predict_quantiles(tensors, prediction_length=args.horizon, quantile_levels=LEVELS)
        ),
        best_of(repeats, http),
    )


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
