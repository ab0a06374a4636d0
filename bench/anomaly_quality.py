"""Anomaly detection quality: ``POST /api/v1/anomalies`` against a rolling z-score and STL residuals.

Usage: ``python bench/anomaly_quality.py [--levels 0.95,0.98] [--model bundled] [--seed 0] [--out FILE]``

The recipe: 20 real series shipped with statsmodels and pmdarima (at most their last 480 points), each
in four copies drawn with ``numpy.random.default_rng(seed)``:

- *clean*: the series as it is;
- *spike*: 3 points moved by ±3–8σ;
- *shift*: one level shift of ±3–8σ (that point and every later one move);
- *dropout*: 2 points set to 0, drawn among points more than 3σ from 0 (a zero there is an anomaly).

σ is a robust noise scale of the series: ``1.4826 · MAD(diff(x)) / √2``, where ``MAD(d) = median(|d −
median(d)|)``. 1.4826 · MAD is the standard deviation of Gaussian noise, robust to outliers; first
differences remove the level and trend, and the √2 undoes the doubling of variance that differencing
white noise causes. (On strongly seasonal series the differences also carry the season, so σ is larger
there; on random walks it is the innovations' scale over √2.) Sizes and signs are uniform draws;
anomalies sit at points ≥ 40 and ≥ 20 before the end.

Scoring starts at point 32 (the API's ``min_context``). The ground truth is the spike points, the
dropout points and, for a shift, its first shifted point only; a flag on any other point is a false
positive. "Flags after shifts" counts the flags on the 16 points that follow each shift (already
counted as false positives). The clean false-positive rate is the flags on clean copies over their
scored points. Spike recall by block step: the server forecasts 16-point blocks, block k covering
points 32 + 16k … 47 + 16k, so a spike at point p sits at step (p − 32) mod 16 + 1.

Methods:

- ``/anomalies`` at each ``--levels`` value, through the real app in-process, all 80 copies in one request;
- rolling z-score: the previous 24 points' mean and population standard deviation, flag |z| > 3;
- STL residuals: ``statsmodels`` STL with the series' period and ``robust=True`` over the whole series
  (it sees the future), flag |r − median(r)| > 3 · 1.4826 · MAD(r). Series without a calendar season
  get their known cycle (sunspots 11, lynx 10) or the smallest period STL takes, 2.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pmdarima.datasets as pm
import statsmodels.datasets as sm
from numpy.lib.stride_tricks import sliding_window_view
from statsmodels.tsa.seasonal import STL

FIRST_SCORED = 32
FIRST_ANOMALY = 40
END_MARGIN = 20
BLOCK = 16
MAX_POINTS = 480
KINDS = ("clean", "spike", "shift", "dropout")
MAD_TO_SIGMA = 1.4826


@dataclass
class Series:
    """One real series: ISO timestamps, values and its seasonal period for STL."""

    name: str
    timestamps: list[str]
    values: np.ndarray
    period: int


@dataclass
class Case:
    """One copy of a series: its values after injection and the indices of the injected points."""

    series: Series
    kind: str
    values: np.ndarray
    truth: np.ndarray
    shift: int | None = None


def _series(name: str, index: pd.DatetimeIndex, values, period: int) -> Series:
    """Keep the last ``MAX_POINTS`` points; dates as ``YYYY-MM-DD``, sub-daily as date-times."""
    index, values = index[-MAX_POINTS:], np.asarray(values, dtype=float)[-MAX_POINTS:]
    daily = (index.normalize() == index).all()
    stamps = [t.strftime("%Y-%m-%d" if daily else "%Y-%m-%dT%H:%M:%S") for t in index]
    return Series(name, stamps, values, period)


def real_series() -> list[Series]:
    """Load the 20 series from statsmodels and pmdarima, on regular timelines."""
    co2 = sm.co2.load_pandas().data["co2"].resample("MS").mean().interpolate()
    elnino = sm.elnino.load_pandas().data.iloc[:, 1:].to_numpy().ravel()
    sun = sm.sunspots.load_pandas().data["SUNACTIVITY"]
    nile = sm.nile.load_pandas().data["volume"]
    macro = sm.macrodata.load_pandas().data
    rates = sm.interest_inflation.load_pandas().data
    out = [
        _series("co2", co2.index, co2, 12),
        _series("elnino SST", pd.date_range("1950-01-01", periods=len(elnino), freq="MS"), elnino, 12),
        _series("sunspots", pd.date_range("1700", periods=len(sun), freq="YS"), sun, 11),
        _series("nile", pd.date_range("1871", periods=len(nile), freq="YS"), nile, 2),
    ]
    quarters = pd.date_range("1959-01-01", periods=len(macro), freq="QS")
    for col in ("realgdp", "realinv", "unemp", "infl", "tbilrate"):
        out.append(_series(f"macrodata {col}", quarters, macro[col], 4))
    rate_quarters = pd.date_range("1972-04-01", periods=len(rates), freq="QS")
    for col in ("Dp", "R"):
        out.append(_series(f"interest_inflation {col}", rate_quarters, rates[col], 4))
    pmd = [  # name, loader, start, frequency, period
        ("airpassengers", pm.load_airpassengers, "1949-01-01", "MS", 12),
        ("ausbeer", pm.load_ausbeer, "1956-01-01", "QS", 4),
        ("austres", pm.load_austres, "1971-01-01", "QS", 4),
        ("heartrate (0.5 s, sent as 1 s)", pm.load_heartrate, "2000-01-01", "s", 2),  # the API takes whole seconds
        ("lynx", pm.load_lynx, "1821-01-01", "YS", 10),
        ("wineind", pm.load_wineind, "1980-01-01", "MS", 12),
        ("woolyrnq", pm.load_woolyrnq, "1965-01-01", "QS", 4),
        ("taylor (half-hourly)", pm.load_taylor, "2000-06-05", "30min", 48),
    ]
    for name, load, start, freq, period in pmd:
        values = load(as_series=True).dropna().to_numpy()  # ausbeer ends with a missing quarter
        out.append(_series(name, pd.date_range(start, periods=len(values), freq=freq), values, period))
    msft = pm.load_msft()["Close"].to_numpy()  # trading days, put on a business-day axis
    out.append(_series("msft close (business days)", pd.bdate_range(end="2017-11-10", periods=len(msft)), msft, 5))
    return out


def noise_scale(values: np.ndarray) -> float:
    """σ = 1.4826 · median(|d − median(d)|) / √2 with d the first differences of ``values``."""
    d = np.diff(values)
    return float(MAD_TO_SIGMA * np.median(np.abs(d - np.median(d))) / np.sqrt(2))


def inject(series: Series, rng: np.random.Generator) -> list[Case]:
    """The four copies of ``series``: clean, 3 spikes, one level shift, 2 dropouts to 0."""
    x, sigma = series.values, noise_scale(series.values)
    allowed = np.arange(FIRST_ANOMALY, len(x) - END_MARGIN)
    if len(allowed) < 3:
        raise ValueError(f"{series.name}: {len(x)} points, at least {FIRST_ANOMALY + END_MARGIN + 3} needed")

    def sizes(k: int) -> np.ndarray:
        return rng.choice([-1.0, 1.0], k) * rng.uniform(3, 8, k) * sigma

    spikes = np.sort(rng.choice(allowed, 3, replace=False))
    spiked = x.copy()
    spiked[spikes] += sizes(3)

    start = int(rng.choice(allowed))
    shifted = x.copy()
    shifted[start:] += sizes(1)[0]

    far = allowed[np.abs(x[allowed]) > 3 * sigma]
    if len(far) < 2:
        raise ValueError(f"{series.name}: {len(far)} points more than 3σ from 0, 2 needed for dropouts")
    drops = np.sort(rng.choice(far, 2, replace=False))
    dropped = x.copy()
    dropped[drops] = 0.0
    return [
        Case(series, "clean", x, np.array([], dtype=int)),
        Case(series, "spike", spiked, spikes),
        Case(series, "shift", shifted, np.array([start]), shift=start),
        Case(series, "dropout", dropped, drops),
    ]


def api_flags(client, cases: list[Case], level: float) -> list[np.ndarray]:
    """Flags of ``POST /api/v1/anomalies`` at ``level``, all cases in one request; one bool array each."""
    body = {
        "series": [
            {"name": f"{c.series.name} / {c.kind}", "values": c.values.tolist(), "timestamps": c.series.timestamps}
            for c in cases
        ],
        "level": level,
        "min_context": FIRST_SCORED,
    }
    response = client.post("/api/v1/anomalies", json=body)
    if response.status_code != 200:
        raise RuntimeError(f"anomalies at level {level} failed: {response.status_code} {response.get_json()}")
    return [np.array([bool(f) for f in r["is_anomaly"]]) for r in response.get_json()["anomalies"]]


def zscore_flags(values: np.ndarray, window: int = 24, threshold: float = 3.0) -> np.ndarray:
    """Flag point t when |x[t] − mean| > threshold · std over x[t − window : t] (population std)."""
    flags = np.zeros(len(values), dtype=bool)
    past = sliding_window_view(values[:-1], window)  # row i: the points before i + window
    mean, std = past.mean(axis=1), past.std(axis=1)
    flags[window:] = np.abs(values[window:] - mean) > threshold * std
    return flags


def stl_flags(values: np.ndarray, period: int, threshold: float = 3.0) -> np.ndarray:
    """Flag |r − median(r)| > threshold · 1.4826 · MAD(r), r the residuals of a robust STL fit."""
    resid = STL(values, period=period, robust=True).fit().resid
    deviation = np.abs(resid - np.median(resid))
    return deviation > threshold * MAD_TO_SIGMA * np.median(deviation)


def evaluate(cases: list[Case], flags: list[np.ndarray]) -> dict:
    """Counts and rates over all cases: precision, recall, F1 overall and per kind, spike recall by step."""
    found = {k: 0 for k in KINDS}
    wanted = {k: 0 for k in KINDS}
    flagged = {k: 0 for k in KINDS}
    clean_points, after_shifts = 0, 0
    steps_found, steps_total = np.zeros(4, dtype=int), np.zeros(4, dtype=int)
    for case, f in zip(cases, flags, strict=True):
        f = f.copy()
        f[:FIRST_SCORED] = False
        hit = f[case.truth]
        found[case.kind] += int(hit.sum())
        wanted[case.kind] += len(case.truth)
        flagged[case.kind] += int(f.sum())
        if case.kind == "clean":
            clean_points += len(f) - FIRST_SCORED
        if case.shift is not None:
            after_shifts += int(f[case.shift + 1 : case.shift + 1 + BLOCK].sum())
        if case.kind == "spike":
            quarter = ((case.truth - FIRST_SCORED) % BLOCK) // 4
            np.add.at(steps_total, quarter, 1)
            np.add.at(steps_found, quarter, hit.astype(int))

    def prf(tp: int, fl: int, total: int) -> tuple[float, float, float]:
        p, r = (tp / fl if fl else float("nan")), tp / total
        return p, r, (2 * p * r / (p + r) if p + r > 0 else 0.0)

    tp, fl, total = sum(found.values()), sum(flagged.values()), sum(wanted.values())
    return {
        "overall": prf(tp, fl, total),
        "kinds": {k: prf(found[k], flagged[k], wanted[k]) for k in KINDS[1:]},
        "clean_rate": flagged["clean"] / clean_points,
        "after_shifts": after_shifts,
        "steps": (steps_found, steps_total),
    }


def tables(results: list[tuple[str, dict, float]], seed: int) -> str:
    """Markdown: the summary table, precision/recall/F1 per kind, and spike recall by block step."""
    lines = [
        "| method | precision | recall | F1 | recall spike | recall shift | recall dropout "
        "| clean flagged | flags after shifts | time |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r, seconds in results:
        p, rec, f1 = r["overall"]
        kinds = " | ".join(f"{r['kinds'][k][1]:.3f}" for k in KINDS[1:])
        lines.append(
            f"| {name} | {p:.3f} | {rec:.3f} | {f1:.3f} | {kinds} | {r['clean_rate']:.1%} "
            f"| {r['after_shifts']} | {seconds:.1f} s |"
        )
    lines += ["", "| method | " + " | ".join(f"{k} P / R / F1" for k in KINDS[1:]) + " |", "|---|---:|---:|---:|"]
    for name, r, _ in results:
        cells = " | ".join("{:.3f} / {:.3f} / {:.3f}".format(*r["kinds"][k]) for k in KINDS[1:])
        lines.append(f"| {name} | {cells} |")
    lines += ["", "| method | spike recall, steps 1–4 | 5–8 | 9–12 | 13–16 |", "|---|---:|---:|---:|---:|"]
    for name, r, _ in results:
        hit, total = r["steps"]
        cells = " | ".join(f"{h / t:.2f} ({h}/{t})" if t else "–" for h, t in zip(hit, total, strict=True))
        lines.append(f"| {name} | {cells} |")
    lines += [
        "",
        f"20 series × 4 copies (clean, 3 spikes, 1 level shift, 2 dropouts), seed {seed}, scored from point "
        f"{FIRST_SCORED}; Precision/F1 per kind count the flags on that kind's copies.",
    ]
    return "\n".join(lines)


def timed(fn: Callable[[], list[np.ndarray]]) -> tuple[list[np.ndarray], float]:
    """Call ``fn`` and return its result with its wall time in seconds."""
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def main() -> None:
    """Inject anomalies into real series, score every method and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="bundled", help="model id or directory (default: bundled)")
    parser.add_argument("--levels", default="0.95,0.98", help="comma-separated /anomalies levels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="also write the tables to this Markdown file")
    args = parser.parse_args()
    levels = [float(v) for v in args.levels.split(",")]

    from chronos_excel import create_app

    rng = np.random.default_rng(args.seed)
    cases = [case for s in real_series() for case in inject(s, rng)]
    client = create_app({"MODEL": args.model, "DEVICE": "cpu", "DTYPE": "float32"}).test_client()
    api_flags(client, cases[:1], levels[0])  # warm-up

    results = []
    for level in levels:
        flags, seconds = timed(lambda level=level: api_flags(client, cases, level))
        results.append((f"/anomalies, level {level:g}", evaluate(cases, flags), seconds))
    flags, seconds = timed(lambda: [zscore_flags(c.values) for c in cases])
    results.append(("rolling z-score (24 points, \\|z\\| > 3)", evaluate(cases, flags), seconds))
    flags, seconds = timed(lambda: [stl_flags(c.values, c.series.period) for c in cases])
    results.append(("STL residual, 3 robust σ", evaluate(cases, flags), seconds))

    text = tables(results, args.seed)
    print(text)
    if args.out:
        with open(args.out, "w") as out:
            out.write(text + "\n")


if __name__ == "__main__":
    main()
