"""Synthetic time series for training the bundled Chronos-2 from scratch.

Every generator takes a seeded ``numpy.random.Generator`` and returns float32 arrays, so a corpus
is a pure function of its seed. The mixture follows the Chronos papers: KernelSynth Gaussian-process
samples plus simple structural families (trend + seasonality, random walks, level shifts, spikes and
intermittent demand) at varied lengths and scales.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Generator = Callable[[np.random.Generator, int], np.ndarray]

COMMON_PERIODS = (4, 7, 12, 24, 52)  # quarterly, daily, monthly, hourly, weekly seasonality
PERIODS = (*COMMON_PERIODS, 5, 6, 14, 30, 48, 60, 96, 168, 365)
LENGTHS = (64, 128, 256, 384, 512, 768, 1024)


def _kernel(rng: np.random.Generator, t: np.ndarray, lags: np.ndarray) -> np.ndarray:
    """One random kernel from a KernelSynth-style bank on the grid ``t`` (in steps); ``lags`` is |i - j|.

    Stationary kernels are evaluated once per lag and gathered into the matrix (much cheaper than n²).
    """
    n = len(t)
    x = t / n  # non-periodic kernels work on [0, 1) as in KernelSynth
    d = t  # the distinct distances |i - j| are 0..n-1
    kind = rng.choice(["periodic", "periodic", "linear", "rbf", "rq", "white", "constant"])
    if kind == "periodic":
        period = _period(rng)
        return np.exp(-2.0 * np.sin(np.pi * d / period) ** 2 / rng.choice([0.5, 1.0, 2.0]) ** 2)[lags]
    if kind == "linear":
        return rng.choice([0.0, 1.0, 10.0]) ** 2 + np.outer(x, x)
    if kind == "rbf":
        return np.exp(-0.5 * (d / n) ** 2 / rng.choice([0.02, 0.1, 1.0]) ** 2)[lags]
    if kind == "rq":
        alpha = rng.choice([0.1, 1.0, 10.0])
        return ((1.0 + (d / n) ** 2 / (2.0 * alpha * 0.1**2)) ** -alpha)[lags]
    if kind == "white":
        return rng.choice([0.01, 0.1, 1.0]) * np.eye(n)
    return np.ones((n, n))


def kernel_synth(rng: np.random.Generator, length: int, max_kernels: int = 5) -> np.ndarray:
    """Draw a zero-mean GP sample whose kernel is a random sum/product of 1..max_kernels base kernels."""
    t = np.arange(length, dtype=np.float64)
    lags = np.abs(np.subtract.outer(np.arange(length), np.arange(length)))
    cov = _kernel(rng, t, lags)
    for _ in range(rng.integers(0, max_kernels)):
        cov = cov + _kernel(rng, t, lags) if rng.random() < 0.5 else cov * _kernel(rng, t, lags)
    jitter = 1e-6 * max(float(np.mean(np.diag(cov))), 1e-12)
    for _ in range(6):
        try:
            chol = np.linalg.cholesky(cov + jitter * np.eye(length))
            break
        except np.linalg.LinAlgError:
            jitter *= 10.0
    else:
        return random_walk(rng, length)
    return (chol @ rng.standard_normal(length)).astype(np.float32)


def _period(rng: np.random.Generator) -> int:
    """A seasonal period, mostly one of the common calendar ones."""
    return int(rng.choice(COMMON_PERIODS) if rng.random() < 0.7 else rng.choice(PERIODS))


def trend_seasonal(rng: np.random.Generator, length: int) -> np.ndarray:
    """Linear/quadratic trend plus one or two seasonal patterns (1-3 harmonics) plus white or AR(1) noise."""
    t = np.arange(length, dtype=np.float64)
    y = rng.normal(0, 1) * t / length + (rng.random() < 0.2) * rng.normal(0, 0.5) * (t / length) ** 2
    for period in {_period(rng) for _ in range(rng.integers(1, 3))}:
        if period > length / 3:
            continue
        k = np.arange(1, rng.integers(1, 4) + 1)
        amp = rng.normal(0, 1, size=len(k)) / k
        phase = rng.uniform(0, 2 * np.pi, size=len(k))
        y = y + (amp[:, None] * np.sin(2 * np.pi * k[:, None] * t / period + phase[:, None])).sum(0)
    noise = rng.choice([0.0, 0.02, 0.05, 0.1, 0.2, 0.4]) * rng.standard_normal(length)
    if rng.random() < 0.3:
        noise = _ar1(noise, rng.uniform(0.3, 0.9))
    y = y + noise
    if rng.random() < 0.2:  # multiplicative seasonality: sales-like exponential series
        y = np.exp(0.3 * y / (np.std(y) + 1e-8))
    return y.astype(np.float32)


def _ar1(eps: np.ndarray, phi: float) -> np.ndarray:
    """Filter white noise into an AR(1) process (a short loop: lengths are at most a few thousand)."""
    out = np.empty_like(eps)
    acc = 0.0
    for i, e in enumerate(eps):
        acc = phi * acc + e
        out[i] = acc
    return out


def random_walk(rng: np.random.Generator, length: int) -> np.ndarray:
    """A stationary AR(1), a Gaussian or heavy-tailed random walk with drift, or a smooth trend
    (integrated AR(1) around a drift, like GDP or prices)."""
    kind = rng.random()
    steps = rng.standard_t(rng.choice([3, 30]), size=length)
    if kind < 0.3:
        return _ar1(steps, rng.uniform(0.5, 0.97)).astype(np.float32)
    if kind < 0.65:
        return np.cumsum(steps + rng.normal(0, 0.3)).astype(np.float32)
    drift = rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 1.0)
    return np.cumsum(drift + _ar1(rng.uniform(0.05, 0.5) * steps, rng.uniform(0.0, 0.9))).astype(np.float32)


def level_shifts(rng: np.random.Generator, length: int) -> np.ndarray:
    """Piecewise-constant level with 1..4 shifts, noise and sometimes a seasonal pattern."""
    level = np.zeros(length)
    for cut in rng.integers(length // 8, length, size=rng.integers(1, 5)):
        level[cut:] += rng.normal(0, 3)
    base = trend_seasonal(rng, length) if rng.random() < 0.5 else rng.standard_normal(length)
    return (level + base).astype(np.float32)


def intermittent(rng: np.random.Generator, length: int) -> np.ndarray:
    """Mostly-zero demand: Bernoulli occurrences with Poisson or rounded-gamma sizes."""
    p = rng.uniform(0.03, 0.5)
    sizes = rng.poisson(rng.uniform(1, 10), size=length) + 1
    if rng.random() < 0.5:
        sizes = np.ceil(rng.gamma(rng.uniform(0.5, 3), rng.uniform(1, 20), size=length))
    return ((rng.random(length) < p) * sizes).astype(np.float32)


def add_spikes(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """Add 1..3 isolated spikes of 4-10 robust standard deviations, so the model learns to see past them."""
    diffs = np.diff(y)
    sigma = 1.4826 * np.median(np.abs(diffs - np.median(diffs))) + 1e-3 * (np.std(y) + 1e-8)
    idx = rng.integers(0, len(y), size=rng.integers(1, 4))
    out = y.copy()
    out[idx] += rng.choice([-1.0, 1.0], size=len(idx)) * rng.uniform(4, 10, size=len(idx)) * sigma
    return out


FAMILIES: dict[str, tuple[Generator, float]] = {
    "kernel_synth": (kernel_synth, 0.35),
    "trend_seasonal": (trend_seasonal, 0.30),
    "random_walk": (random_walk, 0.15),
    "level_shifts": (level_shifts, 0.08),
    "intermittent": (intermittent, 0.12),
}


def generate_series(rng: np.random.Generator) -> np.ndarray:
    """Draw one series: a random family, length, scale and offset, with occasional spikes."""
    names = list(FAMILIES)
    weights = np.array([FAMILIES[n][1] for n in names])
    name = names[rng.choice(len(names), p=weights / weights.sum())]
    length = int(rng.choice(LENGTHS))
    y = FAMILIES[name][0](rng, length)
    if name != "intermittent":
        if rng.random() < 0.15:
            y = add_spikes(rng, y)
        scale = 10 ** rng.uniform(-1, 3)
        offset = (rng.random() < 0.5) * rng.normal(0, 5) * (np.std(y) + 1e-3)
        y = (y + offset) * scale
    return y.astype(np.float32)


def generate_corpus(n_series: int, seed: int = 0) -> list[np.ndarray]:
    """Return ``n_series`` synthetic float32 series of varied lengths; identical for identical seeds."""
    rng = np.random.default_rng(seed)
    return [generate_series(rng) for _ in range(n_series)]
