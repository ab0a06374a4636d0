"""Rolling backtests of the bundled model on classic series, through the real HTTP API.

Usage: ``python bench/quality.py [--windows 3] [--model bundled] [--dtype float32] [--compare bfloat16 int8]
[--card DIR]``

Prints, per series, MASE of the model and of seasonal naive and the 80% interval coverage, then a
summary. ``--card DIR`` also writes the table into ``DIR/MODEL_CARD.md`` between its quality markers.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.datasets as sm


@dataclass
class Series:
    """One benchmark series: ISO timestamps, values and the horizon to backtest."""

    name: str
    timestamps: list[str]
    values: list[float]
    horizon: int


def _series(name: str, index: pd.DatetimeIndex, values: np.ndarray, horizon: int) -> Series:
    return Series(name, [t.strftime("%Y-%m-%d") for t in index], [float(v) for v in values], horizon)


def classic_series() -> list[Series]:
    """Load the classic series that ship with statsmodels, on regular timelines."""
    co2 = sm.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    sun = sm.sunspots.load_pandas().data
    nile = sm.nile.load_pandas().data
    macro = sm.macrodata.load_pandas().data
    quarters = pd.date_range("1959-01-01", periods=len(macro), freq="QS")
    elnino = sm.elnino.load_pandas().data
    months = pd.date_range("1950-01-01", periods=elnino.shape[0] * 12, freq="MS")
    danish = sm.danish_data.load_pandas().data
    rates = sm.interest_inflation.load_pandas().data
    rate_quarters = pd.date_range("1972-04-01", periods=len(rates), freq="QS")
    out = [
        _series("co2 (monthly)", co2.index, co2.to_numpy(), 12),
        _series("elnino SST (monthly)", months, elnino.iloc[:, 1:].to_numpy().ravel(), 12),
        _series("sunspots (yearly)", pd.date_range("1700", periods=len(sun), freq="YS"), sun["SUNACTIVITY"], 10),
        _series("nile (yearly)", pd.date_range("1871", periods=len(nile), freq="YS"), nile["volume"], 10),
    ]
    for col in ("realgdp", "realcons", "realinv", "cpi", "m1", "unemp", "tbilrate", "infl"):
        out.append(_series(f"macrodata {col} (quarterly)", quarters, macro[col].to_numpy(), 8))
    danish_quarters = pd.date_range("1974-01-01", periods=len(danish), freq="QS")
    for col in ("lrm", "lry"):
        out.append(_series(f"danish {col} (quarterly)", danish_quarters, danish[col].to_numpy(), 8))
    for col in ("Dp", "R"):
        out.append(_series(f"interest_inflation {col} (quarterly)", rate_quarters, rates[col].to_numpy(), 8))
    return out


def run_backtests(client, series: list[Series], windows: int) -> list[dict]:
    """POST one `/api/v1/backtest` per horizon group and return the per-series results in input order."""
    results: dict[str, dict] = {}
    for horizon in sorted({s.horizon for s in series}):
        group = [s for s in series if s.horizon == horizon]
        body = {
            "series": [{"name": s.name, "values": s.values, "timestamps": s.timestamps} for s in group],
            "horizon": horizon,
            "windows": windows,
            "level": 0.8,
        }
        response = client.post("/api/v1/backtest", json=body)
        if response.status_code != 200:
            raise RuntimeError(f"backtest of horizon {horizon} failed: {response.status_code} {response.get_json()}")
        for s, result in zip(group, response.get_json()["backtests"], strict=True):
            results[s.name] = result | {"horizon": horizon, "n": len(s.values)}
    return [results[s.name] for s in series]


def table(results: list[dict]) -> str:
    """Format the per-series results and their summary as a Markdown table."""
    lines = [
        "| series | points | horizon | season | MASE model | MASE seasonal naive | skill | 80% coverage |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        model, base = r["metrics"], r["baseline"]["metrics"]
        lines.append(
            f"| {r['name']} | {r['n']} | {r['horizon']} | {r['seasonality']} | {model['MASE']:.3f} "
            f"| {base['MASE']:.3f} | {r['skill']:+.3f} | {model['coverage']:.2f} |"
        )
    mase = np.array([r["metrics"]["MASE"] for r in results])
    base = np.array([r["baseline"]["metrics"]["MASE"] for r in results])
    coverage = np.array([r["metrics"]["coverage"] for r in results])
    wins = int(np.sum(mase < base))
    lines.append(
        f"| **mean of {len(results)} series** | | | | **{mase.mean():.3f}** | **{base.mean():.3f}** "
        f"| {1 - mase.mean() / base.mean():+.3f} | **{coverage.mean():.2f}** |"
    )
    lines.append("")
    lines.append(
        f"The model beats seasonal naive on {wins} of {len(results)} series; geometric mean of relative MASE "
        f"{np.exp(np.mean(np.log(mase / base))):.3f}; mean 80% interval coverage {coverage.mean():.2f}."
    )
    return "\n".join(lines)


def write_card(card_dir: str, text: str, windows: int) -> None:
    """Replace the quality section of ``card_dir/MODEL_CARD.md`` with ``text``."""
    from chronos_excel.training import fill_card_section

    intro = (
        f"Rolling-origin backtests through `POST /api/v1/backtest` ({windows} windows, step = horizon) on classic "
        "series shipped with statsmodels, measured by `python bench/quality.py`:"
    )
    fill_card_section(card_dir, "quality", f"{intro}\n\n{text}")


def _means(dtype: str, results: list) -> str:
    mase = np.mean([r["metrics"]["MASE"] for r in results if r["metrics"]["MASE"] is not None])
    wql = np.mean([r["metrics"]["WQL"] for r in results if r["metrics"]["WQL"] is not None])
    return f"| {dtype} | {mase:.4f} | {wql:.4f} |"


def main() -> None:
    """Backtest the model on the classic series through the API and print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bundled", help="model id or directory (default: bundled)")
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--card", help="checkpoint directory whose MODEL_CARD.md gets the table")
    parser.add_argument("--dtype", default="float32", help="float32, bfloat16 or int8 (default float32)")
    parser.add_argument(
        "--compare", nargs="+", default=[], metavar="DTYPE", help="also print mean MASE and WQL in these dtypes"
    )
    args = parser.parse_args()

    from chronos_excel import create_app

    client = create_app({"MODEL": args.model, "DEVICE": "cpu", "DTYPE": args.dtype}).test_client()
    results = run_backtests(client, classic_series(), args.windows)
    text = table(results)
    print(text)
    if args.compare:
        print("\n| dtype | mean MASE | mean WQL |\n|---|---:|---:|")
        print(_means(args.dtype, results))
        for dtype in args.compare:
            other = create_app({"MODEL": args.model, "DEVICE": "cpu", "DTYPE": dtype}).test_client()
            print(_means(dtype, run_backtests(other, classic_series(), args.windows)))
    if args.card:
        write_card(args.card, text, args.windows)


if __name__ == "__main__":
    main()
