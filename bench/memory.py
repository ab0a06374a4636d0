"""Peak memory of the worker for the heaviest requests the default limits accept, with the real-size model.

Each case runs in a fresh process (the real app, in-process, the real amazon/chronos-2 architecture with
random weights) and reports its resident memory once the model is loaded and the highest resident memory
sampled (every 20 ms) while the request is answered, which includes the model's ~480 MB of weights.
Target: every case under 1.5 GB.

    python bench/memory.py            # all cases
    python bench/memory.py long       # one case
"""

from __future__ import annotations

import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

HERE = Path(__file__).resolve().parent


def _values(n: int, seed: int) -> list[float]:
    return [round(100 + 10 * ((seed * 7 + t) % 13) / 13, 2) for t in range(n)]


# name: (path, body) — each at or near a default limit
CASES = {
    # many long series: 32 series × 8192 points, the most context the model reads, horizon 64
    "long": ("/api/v1/forecast", {"series": [{"values": _values(8192, s)} for s in range(32)], "horizon": 64}),
    # one series with the most covariates (50) over the longest context, horizon 1024 with known future values
    "covariates": (
        "/api/v1/forecast",
        {
            "series": [
                {
                    "values": _values(8192, 0),
                    "covariates": {f"c{k}": _values(8192 + 1024, k) for k in range(50)},
                }
            ],
            "horizon": 1024,
        },
    ),
    # an answer of about 5,000,000 numbers (the limit): 250 series × 1000 steps × (19 levels + 1)
    "answer": (
        "/api/v1/forecast",
        {
            "series": [{"values": _values(64, s)} for s in range(250)],
            "horizon": 1000,
            "quantile_levels": [round(0.05 * k, 2) for k in range(1, 20)],
        },
    ),
    # a 10 MB body: 1,000 series of 1,200 points, anomaly scan of their last 16 points
    "body": ("/api/v1/anomalies", {"series": [{"values": _values(1200, s)} for s in range(1000)], "last": 16}),
}


def resident_mb() -> float:
    """This process's resident memory now (VmRSS), in MB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) / 1024


def run_case(name: str, model_dir: str) -> None:
    """Run one case in this process and print its peak memory."""
    from chronos_excel import create_app

    path, body = CASES[name]
    app = create_app({"MODEL": model_dir, "DEVICE": "cpu", "DTYPE": "float32"})
    data = json.dumps(body)
    del body
    gc.collect()
    before = resident_mb()
    samples = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            samples.append(resident_mb())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    response = app.test_client().post(path, data=data, content_type="application/json")
    size = len(response.get_data())
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    peak = max(samples)
    print(
        f"| {name} | {path} | {len(data) / 1e6:.1f} MB | {response.status_code} | {size / 1e6:.1f} MB "
        f"| {before:.0f} MB | {peak:.0f} MB | {seconds:.0f} s |",
        flush=True,
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        run_case(sys.argv[2], os.environ["BENCH_MODEL_DIR"])
        return
    names = sys.argv[1:] or list(CASES)
    sys.path.insert(0, str(HERE))
    from realsize import build_real_size_model

    with tempfile.TemporaryDirectory() as scratch:
        model_dir = str(build_real_size_model(Path(scratch) / "chronos-2-size"))
        print("| case | route | body | status | answer | loaded | peak | time |")
        print("|---|---|---|---|---|---|---|---|")
        for name in names:
            env = {**os.environ, "BENCH_MODEL_DIR": model_dir}
            subprocess.run([sys.executable, __file__, "--case", name], env=env, check=True)


if __name__ == "__main__":
    main()
