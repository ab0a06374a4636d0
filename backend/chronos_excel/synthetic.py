"""Synthetic time series for training the bundled Chronos-2 from scratch.

Every generator takes a seeded ``numpy.random.Generator`` and returns float32 arrays, so a corpus
is a pure function of its seed. The mixture follows the Chronos papers: KernelSynth Gaussian-process
samples plus simple structural families (trend + seasonality, random walks, level shifts, spikes and
intermittent demand) at varied lengths and scales.

Covariate tasks (`generate_covariate_tasks`) add targets that depend on drivers: prices, temperatures,
0/1 promotions, categorical regimes, leading indicators, and groups of related series.
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


def smooth_growth(rng: np.random.Generator, length: int) -> np.ndarray:
    """An economic-indicator-like series (GDP, prices, money stock): a level moving by a persistent rate of
    -0.5% to 3% per step with small AR(1) shocks to the rate, compounded or not."""
    rate = rng.uniform(-0.005, 0.03) + _ar1(rng.uniform(0.001, 0.01) * rng.standard_normal(length), rng.uniform(0, 0.8))
    if rng.random() < 0.5:
        return (10 ** rng.uniform(0, 4) * np.exp(np.cumsum(rate))).astype(np.float32)
    return (10 ** rng.uniform(0, 4) * (1 + np.cumsum(rate))).astype(np.float32)


def generate_growth_series(n_series: int, seed: int = 0) -> list[np.ndarray]:
    """``n_series`` `smooth_growth` series of the corpus lengths; identical for identical seeds."""
    rng = np.random.default_rng([seed, 1])
    return [smooth_growth(rng, int(rng.choice(LENGTHS))) for _ in range(n_series)]


# --- Covariate tasks -------------------------------------------------------------------------------
#
# A task is one dict in the input format of `Chronos2Pipeline.fit`: ``target`` (1-d, or 2-d for a group
# of related series), ``past_covariates`` (every covariate over the whole series) and
# ``future_covariates`` naming the known-future ones with ``None`` (in training the library takes their
# future values from the series itself). `split_task` cuts a task into a forecasting input and the truth.

Task = dict

COVARIATE_LENGTHS = (128, 256, 384, 512, 768, 1024)


def _z(x: np.ndarray) -> np.ndarray:
    """Standardise to mean 0 and standard deviation 1 (a constant becomes zeros)."""
    return (x - x.mean()) / (x.std() + 1e-8)


def _lag(x: np.ndarray, k: int) -> np.ndarray:
    """``x`` delayed by ``k`` steps, its first value repeated at the start."""
    return np.concatenate([np.full(k, x[0]), x[: len(x) - k]]) if k > 0 else x


def _base(rng: np.random.Generator, length: int) -> np.ndarray:
    """The part of a target its drivers do not explain: a standardised univariate series (seasonal, Gaussian
    process, random walk, or a flat level with noise, as many sales series are between their events), half the
    time on a linear or exponential trend that moves it by 1-4 standard deviations (drivers come on top of
    growth)."""
    kind = rng.random()
    if kind < 0.4:
        base = _z(trend_seasonal(rng, length).astype(np.float64))
    elif kind < 0.65:
        base = _z(kernel_synth(rng, length, max_kernels=3).astype(np.float64))
    elif kind < 0.8:
        base = _z(random_walk(rng, length).astype(np.float64))
    else:
        base = _z(_ar1(rng.standard_normal(length), rng.uniform(0, 0.5)))
    if rng.random() < 0.5:
        t = np.linspace(0, 1, length)
        shape = t if rng.random() < 0.5 else np.expm1(rng.uniform(1, 3) * t) / np.expm1(1)
        base = base + rng.choice([-1, 1], p=[0.3, 0.7]) * rng.uniform(1, 4) * shape / shape[-1]
    return _z(base)


def _weight(rng: np.random.Generator) -> float:
    """How much of a driven target its drivers leave unexplained: 0.2-0.8 of a standardised base series."""
    return rng.uniform(0.2, 0.8)


def _events(rng: np.random.Generator, length: int, rate: float, max_duration: int) -> np.ndarray:
    """A 0/1 indicator: events start with probability ``rate`` per step and last 1..max_duration steps."""
    x = np.zeros(length)
    for start in np.flatnonzero(rng.random(length) < rate):
        x[start : start + rng.integers(1, max_duration + 1)] = 1.0
    return x


def price_driver(rng: np.random.Generator, length: int) -> np.ndarray:
    """A shelf price: a list price that changes every 30-200 steps plus short 10-40% discounts."""
    log_price = np.zeros(length)
    for cut in np.cumsum(rng.integers(30, 200, size=length // 30 + 1)):
        log_price[cut:] += rng.normal(0, 0.08)
    discount = _events(rng, length, rng.uniform(0.02, 0.12), 4) * rng.uniform(0.1, 0.4)
    price = 10 ** rng.uniform(0, 2) * np.exp(log_price) * (1 - discount)
    return np.round(price, 2)


def temperature_driver(rng: np.random.Generator, length: int) -> np.ndarray:
    """A temperature: an annual (or daily) cycle plus persistent AR(1) weather anomalies."""
    period = int(rng.choice([365, 365, 52, 24, 12]))
    t = np.arange(length)
    cycle = rng.uniform(4, 12) * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    weather = _ar1(rng.uniform(1, 3) * rng.standard_normal(length), rng.uniform(0.5, 0.95))
    return np.round(rng.uniform(0, 20) + cycle + weather, 1)


def promotion_driver(rng: np.random.Generator, length: int) -> np.ndarray:
    """A 0/1 promotion flag: campaigns of 1-4 steps, a few percent of the time."""
    return _events(rng, length, rng.uniform(0.02, 0.1), 4)


def regime_driver(rng: np.random.Generator, length: int) -> np.ndarray:
    """A categorical regime (strings): a sticky Markov chain over 2-5 labels, or a weekly calendar with holidays."""
    if rng.random() < 0.3:
        labels = np.where(np.arange(length) % 7 >= 5, "weekend", "weekday").astype(object)
        labels[_events(rng, length, 0.01, 2) > 0] = "holiday"
        return labels.astype(str)
    names = ["low", "normal", "high", "closed", "peak"] if rng.random() < 0.5 else ["A", "B", "C", "D", "E"]
    n = int(rng.integers(2, 6))
    stay = rng.uniform(0.9, 0.99)
    state, states = int(rng.integers(n)), np.empty(length, dtype=int)
    for i in range(length):
        if rng.random() > stay:
            state = int(rng.integers(n))
        states[i] = state
    return np.array(names[:n])[states]


DRIVERS = (price_driver, temperature_driver, promotion_driver)


def _assemble(rng: np.random.Generator, y: np.ndarray, covariates: dict, known: set[str]) -> Task:
    """Add noise, optional irrelevant covariates, a random scale and offset; return the task dict."""
    y = y + rng.uniform(0.05, 0.3) * rng.standard_normal(y.shape)
    if rng.random() < 0.3:  # drivers that do not matter, known or not: the model must learn to ignore them
        for j in range(int(rng.integers(1, 3))):
            name = f"unrelated_{j}"
            covariates[name] = DRIVERS[int(rng.integers(len(DRIVERS)))](rng, y.shape[-1])
            if rng.random() < 0.5:
                known.add(name)
    scale = 10 ** rng.uniform(-1, 3)
    if y.ndim == 1 and rng.random() < 0.2:  # multiplicative, sales-like
        y = np.exp(0.4 * _z(y))
    y = (y + (rng.random() < 0.5) * rng.normal(0, 5)) * scale
    return {
        "target": y.astype(np.float32),
        "past_covariates": {k: (v if v.dtype.kind == "U" else v.astype(np.float32)) for k, v in covariates.items()},
        "future_covariates": {k: None for k in sorted(known)},
    }


def price_task(rng: np.random.Generator, length: int) -> Task:
    """Demand that falls when the price rises (elasticity -1 to -3 in standard units), reacting within 0-1 steps."""
    price = price_driver(rng, length)
    effect = -rng.uniform(1, 3) * _z(_lag(np.log(price), int(rng.random() < 0.2)))
    return _assemble(rng, _weight(rng) * _base(rng, length) + effect, {"price": price}, {"price"})


def temperature_task(rng: np.random.Generator, length: int) -> Task:
    """A load driven by temperature: linear, V-shaped (heating and cooling) or a hinge, lag 0-2, often known ahead."""
    temp = temperature_driver(rng, length)
    shifted = _lag(temp, int(rng.choice([0, 0, 0, 1, 2])))
    comfort = np.quantile(temp, rng.uniform(0.3, 0.7))
    response = rng.choice([shifted, np.abs(shifted - comfort), np.maximum(shifted - comfort, 0)], p=[0.4, 0.3, 0.3])
    effect = rng.choice([-1, 1]) * rng.uniform(1, 3) * _z(response)
    known = {"temperature"} if rng.random() < 0.7 else set()
    return _assemble(rng, _weight(rng) * _base(rng, length) + effect, {"temperature": temp}, known)


def promotion_task(rng: np.random.Generator, length: int) -> Task:
    """Sales lifted by 2-6 units of the base's scale during promotions, sometimes with a dip right after."""
    promo = promotion_driver(rng, length)
    lift = rng.choice([-1, 1], p=[0.15, 0.85]) * rng.uniform(2, 6)
    effect = lift * promo
    if rng.random() < 0.3:
        effect = effect - 0.3 * lift * np.maximum(_lag(promo, 1) - promo, 0)
    base = _weight(rng) * _base(rng, length)
    covariates, known = {"promo": promo}, {"promo"}
    if rng.random() < 0.4:
        covariates["price"] = price_driver(rng, length)
        effect = effect - rng.uniform(0.3, 2) * _z(np.log(covariates["price"]))
        known.add("price")
    return _assemble(rng, base + effect, covariates, known)


def regime_task(rng: np.random.Generator, length: int) -> Task:
    """A level set by a categorical regime (string labels), each label its own shift (standard deviation 2)."""
    regime = regime_driver(rng, length)
    labels = np.unique(regime)
    levels = dict(zip(labels, rng.normal(0, 2, size=len(labels)), strict=True))
    effect = np.array([levels[r] for r in regime])
    known = {"regime"} if rng.random() < 0.85 else set()
    return _assemble(rng, _weight(rng) * _base(rng, length) + effect, {"regime": regime}, known)


def leading_task(rng: np.random.Generator, length: int) -> Task:
    """A target that follows a past-only indicator 1-16 steps later (orders before sales, visits before sign-ups)."""
    indicator = rng.uniform(0.5, 2) * _base(rng, length)
    effect = rng.choice([-1, 1]) * rng.uniform(1, 2.5) * _z(_lag(indicator, int(rng.integers(1, 17))))
    indicator = indicator + rng.uniform(0.02, 0.2) * rng.standard_normal(length)
    return _assemble(rng, _weight(rng) * _base(rng, length) + effect, {"indicator": indicator}, set())


def related_task(rng: np.random.Generator, length: int) -> Task:
    """2-4 related series (a 2-d target): a common factor (loading 0.5-1.5 either way, lag 0-3 steps), sometimes
    a second weaker one, and their own parts."""
    n = int(rng.integers(2, 5))
    common, second = _base(rng, length), _base(rng, length) * (rng.random() < 0.5)
    rows = []
    for _ in range(n):
        shared = rng.choice([-1, 1]) * rng.uniform(0.5, 1.5) * _lag(common, int(rng.choice([0, 0, 1, 2, 3])))
        shared = shared + rng.normal(0, 0.4) * second + rng.uniform(0.1, 0.5) * _base(rng, length)
        rows.append(_z(shared) * 10 ** rng.uniform(-0.5, 0.5))
    covariates, known = {}, set()
    if rng.random() < 0.3:
        covariates["promo"], known = promotion_driver(rng, length), {"promo"}
        rows = [r + rng.uniform(1, 4) * covariates["promo"] for r in rows]
    return _assemble(rng, np.stack(rows), covariates, known)


COVARIATE_FAMILIES: dict[str, tuple[Callable[[np.random.Generator, int], Task], float]] = {
    "price": (price_task, 0.2),
    "temperature": (temperature_task, 0.2),
    "promotion": (promotion_task, 0.2),
    "regime": (regime_task, 0.15),
    "leading": (leading_task, 0.1),
    "related": (related_task, 0.15),
}


def generate_covariate_task(rng: np.random.Generator, family: str | None = None) -> Task:
    """Draw one covariate task of a random (or the given) family and a random length."""
    names = list(COVARIATE_FAMILIES)
    if family is None:
        weights = np.array([COVARIATE_FAMILIES[n][1] for n in names])
        family = names[rng.choice(len(names), p=weights / weights.sum())]
    return COVARIATE_FAMILIES[family][0](rng, int(rng.choice(COVARIATE_LENGTHS)))


def generate_covariate_tasks(n_tasks: int, seed: int = 0) -> list[Task]:
    """Return ``n_tasks`` covariate tasks in `Chronos2Pipeline.fit`'s dict format; identical for identical seeds."""
    rng = np.random.default_rng(seed)
    return [generate_covariate_task(rng) for _ in range(n_tasks)]


def split_task(task: Task, horizon: int) -> tuple[Task, np.ndarray]:
    """Cut the last ``horizon`` steps off a task: the forecasting input (`predict`'s dict format) and the truth.

    The input's ``target`` and ``past_covariates`` have ``length - horizon`` steps; its
    ``future_covariates`` hold the known-future covariates' last ``horizon`` values. The truth has the
    target's shape with ``horizon`` steps: ``(horizon,)`` or ``(n_variates, horizon)``.
    """
    past = {k: v[:-horizon] for k, v in task["past_covariates"].items()}
    future = {k: task["past_covariates"][k][-horizon:] for k in task["future_covariates"]}
    target = task["target"]
    return {"target": target[..., :-horizon], "past_covariates": past, "future_covariates": future}, target[
        ..., -horizon:
    ]
