"""Do drivers help? Backtests on held-out synthetic covariate tasks, with and without covariates, through the API.

Usage: ``python bench/covariates.py [--model bundled] [--tasks 30] [--windows 3] [--horizon 24] [--seed 2024]
[--card DIR]``

Draws ``--tasks`` tasks per family of `chronos_excel.synthetic.COVARIATE_FAMILIES` with ``--seed`` (the
bundled model trains on seed 0) and backtests the last ``--windows`` windows of ``--horizon`` steps of each
through ``POST /api/v1/backtest``: with its covariates (the known-future ones named in
``future_covariates``), which the API answers together with the same windows forecast without them
(``without_covariates``); a group of related series once with ``joint`` (and its covariates, if any) and
once as separate series. MASE's scale is the lag-1 naive in-sample error (``seasonality`` 1). Prints mean
MASE per family and over all tasks (a group of related series counts once, the mean over its series);
``--card DIR`` also writes the table into ``DIR/MODEL_CARD.md``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from chronos_excel import synthetic


def _json(values: np.ndarray) -> list:
    return values.tolist() if values.dtype.kind == "U" else [float(v) for v in values]


def _backtest(client, body: dict) -> list[dict]:
    response = client.post("/api/v1/backtest", json=body)
    if response.status_code != 200:
        raise RuntimeError(f"backtest failed: {response.status_code} {response.get_json()}")
    return response.get_json()["backtests"]


def backtest_task(client, task: dict, windows: int, horizon: int) -> tuple[list[float], list[float]]:
    """MASE of each target of ``task`` (averaged over the windows) with and without its covariates."""
    common = {"horizon": horizon, "windows": windows, "seasonality": 1}
    covariates = {name: _json(values) for name, values in task["past_covariates"].items()}
    known = sorted(task["future_covariates"])
    if task["target"].ndim == 1:
        series = [{"values": _json(task["target"]), "covariates": covariates}]
        (result,) = _backtest(client, {"series": series, "future_covariates": known, **common})
        return [result["metrics"]["MASE"]], [result["without_covariates"]["metrics"]["MASE"]]
    rows = [_json(row) for row in task["target"]]
    joint = [{"values": row} | ({"covariates": covariates} if covariates else {}) for row in rows]
    together = _backtest(client, {"series": joint, "future_covariates": known, "joint": True, **common})
    apart = _backtest(client, {"series": [{"values": row} for row in rows], **common})
    return [r["metrics"]["MASE"] for r in together], [r["metrics"]["MASE"] for r in apart]


def run(client, tasks: int, windows: int, horizon: int, seed: int) -> list[tuple[str, int, float, float]]:
    """(family, tasks, mean MASE with, mean MASE without) per family, then over all tasks; a group of related
    series counts as one task (the mean over its series)."""
    rng = np.random.default_rng(seed)
    rows, every_with, every_without = [], [], []
    for family in synthetic.COVARIATE_FAMILIES:
        with_cov, without = [], []
        for _ in range(tasks):
            scores = backtest_task(client, synthetic.generate_covariate_task(rng, family), windows, horizon)
            with_cov.append(np.mean(scores[0]))
            without.append(np.mean(scores[1]))
        rows.append((family, len(with_cov), float(np.mean(with_cov)), float(np.mean(without))))
        every_with += with_cov
        every_without += without
    rows.append(("**all**", len(every_with), float(np.mean(every_with)), float(np.mean(every_without))))
    return rows


def table(rows: list[tuple[str, int, float, float]]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| family | tasks | MASE with covariates | MASE without | with / without |",
        "|---|---:|---:|---:|---:|",
    ]
    for family, n, mase_with, mase_without in rows:
        lines.append(f"| {family} | {n} | {mase_with:.3f} | {mase_without:.3f} | {mase_with / mase_without:.2f} |")
    return "\n".join(lines)


def main() -> None:
    """Backtest the model on held-out covariate tasks through the API and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bundled", help="model id or directory (default: bundled)")
    parser.add_argument("--tasks", type=int, default=30, help="tasks per family (default 30)")
    parser.add_argument("--windows", type=int, default=3)
    parser.add_argument("--horizon", type=int, default=24)
    parser.add_argument("--seed", type=int, default=2024, help="held-out seed (the bundled model trains on 0)")
    parser.add_argument("--card", help="checkpoint directory whose MODEL_CARD.md gets the table")
    args = parser.parse_args()

    from chronos_excel import create_app
    from chronos_excel.training import fill_card_section

    started = time.perf_counter()
    client = create_app({"MODEL": args.model, "DEVICE": "cpu", "DTYPE": "float32"}).test_client()
    rows = run(client, args.tasks, args.windows, args.horizon, args.seed)
    text = (
        f"Held-out synthetic covariate tasks (`python bench/covariates.py`: {args.tasks} per family, seed "
        f"{args.seed}; training used seed 0), the last {args.windows} windows of {args.horizon} steps of each, "
        "backtested through `POST /api/v1/backtest` with the covariates (known-future ones named in "
        "`future_covariates`) and without them (`without_covariates`; related series: `joint` against one "
        "by one); mean MASE (lag-1 naive scale):\n\n" + table(rows)
    )
    print(text)
    print(f"\n({time.perf_counter() - started:.0f} s)")
    if args.card:
        fill_card_section(args.card, "covariates", text)


if __name__ == "__main__":
    main()
