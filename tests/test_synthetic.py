"""The synthetic training corpus: deterministic, finite, varied."""

import numpy as np
import pytest
from chronos.chronos2 import preprocess

from chronos_excel import synthetic


def test_corpus_is_a_pure_function_of_the_seed():
    first, again, other = (synthetic.generate_corpus(40, seed=s) for s in (3, 3, 4))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(len(a) == len(b) and np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_corpus_is_finite_float32_of_the_allowed_lengths():
    corpus = synthetic.generate_corpus(60, seed=0)
    assert len(corpus) == 60
    for y in corpus:
        assert y.dtype == np.float32 and y.ndim == 1
        assert len(y) in synthetic.LENGTHS
        assert np.isfinite(y).all()
    scales = [np.std(y) for y in corpus if np.std(y) > 0]
    assert max(scales) / min(scales) > 100  # several orders of magnitude


@pytest.mark.parametrize("name", list(synthetic.FAMILIES))
def test_every_family_draws_a_finite_series_of_the_asked_length(name):
    generate = synthetic.FAMILIES[name][0]
    y = generate(np.random.default_rng(1), 200)
    assert y.shape == (200,) and np.isfinite(y).all()


def test_intermittent_demand_is_mostly_zero_and_nonnegative():
    rng = np.random.default_rng(2)
    y = np.concatenate([synthetic.intermittent(rng, 500) for _ in range(20)])
    assert (y >= 0).all() and np.mean(y == 0) > 0.5


def test_spikes_stand_out_from_the_series():
    rng = np.random.default_rng(3)
    y = np.sin(np.arange(300) / 5.0).astype(np.float32)
    spiked = synthetic.add_spikes(rng, y)
    moved = np.flatnonzero(spiked != y)
    assert 1 <= len(moved) <= 3
    assert np.all(np.abs(spiked[moved] - y[moved]) > 2 * np.max(np.abs(np.diff(y))))


# --- Covariate tasks ---------------------------------------------------------------------------------


def test_covariate_tasks_are_a_pure_function_of_the_seed():
    first, again, other = (synthetic.generate_covariate_tasks(12, seed=s) for s in (3, 3, 4))
    for a, b in zip(first, again, strict=True):
        assert np.array_equal(a["target"], b["target"])
        assert a["past_covariates"].keys() == b["past_covariates"].keys()
        assert all(np.array_equal(v, b["past_covariates"][k]) for k, v in a["past_covariates"].items())
        assert a["future_covariates"] == b["future_covariates"]
    assert not all(a["target"].shape == b["target"].shape for a, b in zip(first, other, strict=True))


def test_covariate_tasks_are_valid_fit_inputs_of_every_kind():
    tasks = synthetic.generate_covariate_tasks(200, seed=0)
    kinds = set()
    for task in tasks:
        assert set(task) == {"target", "past_covariates", "future_covariates"}
        y = task["target"]
        assert y.dtype == np.float32 and y.ndim in (1, 2) and np.isfinite(y).all()
        assert y.shape[-1] in synthetic.COVARIATE_LENGTHS
        for name, values in task["past_covariates"].items():
            assert values.shape == (y.shape[-1],), name
            assert values.dtype.kind == "U" or (values.dtype == np.float32 and np.isfinite(values).all())
            kinds.add(("text" if values.dtype.kind == "U" else "number", name in task["future_covariates"]))
        assert set(task["future_covariates"]) <= set(task["past_covariates"])
        assert all(v is None for v in task["future_covariates"].values())  # known future: taken from the series
        # the library itself accepts it: one target row plus one row per covariate, known-future ones last
        (prepared,) = preprocess.from_list_of_dicts([task], prediction_length=64)
        assert prepared["context"].shape == (y.size // y.shape[-1] + len(task["past_covariates"]), y.shape[-1])
        assert prepared["n_future_covariates"] == len(task["future_covariates"])
    assert kinds == {("number", True), ("number", False), ("text", True), ("text", False)}
    assert any(task["target"].ndim == 2 for task in tasks)


def test_split_task_cuts_the_history_and_keeps_known_future_values():
    task = synthetic.promotion_task(np.random.default_rng(0), 128)
    task["past_covariates"]["visits"] = np.arange(128, dtype=np.float32)  # a past-only one too
    inputs, truth = synthetic.split_task(task, 24)
    assert np.array_equal(inputs["target"], task["target"][:104]) and np.array_equal(truth, task["target"][104:])
    assert all(len(v) == 104 for v in inputs["past_covariates"].values())
    assert inputs["future_covariates"].keys() == {"promo"} | task["future_covariates"].keys()
    assert np.array_equal(inputs["future_covariates"]["promo"], task["past_covariates"]["promo"][104:])
    related, truth = synthetic.split_task(synthetic.related_task(np.random.default_rng(1), 128), 24)
    assert related["target"].shape[1] == 104 and truth.shape == (related["target"].shape[0], 24)


def _binned_changes(covariates: dict, lags: int) -> np.ndarray:
    """Changes of one-hot indicators (quantile bins of numbers, or labels) at lags 0..lags: any step response."""
    columns = []
    for values in covariates.values():
        if values.dtype.kind == "U":
            onehot = (values[:, None] == np.unique(values)[None, :]).astype(float)
        else:
            edges = np.unique(np.quantile(values, np.linspace(0, 1, 9)[1:-1]))
            onehot = np.eye(len(edges) + 1)[np.searchsorted(edges, values)]
        columns += [np.roll(onehot, k, axis=0) for k in range(lags + 1)]
    return np.diff(np.concatenate(columns, axis=1), axis=0)[lags:]


def _r2(y: np.ndarray, covariates: dict, lags: int = 2) -> float:
    """Share of the target's step-to-step changes explained by least squares on ``_binned_changes``."""
    dy = np.diff(y.astype(float))[lags:]
    x = np.column_stack([np.ones(len(dy)), _binned_changes(covariates, lags)])
    coef, *_ = np.linalg.lstsq(x, dy, rcond=None)
    return 1 - np.var(dy - x @ coef) / np.var(dy)


@pytest.mark.parametrize("family", ["price", "temperature", "promotion", "regime"])
def test_the_target_depends_on_its_own_drivers(family):
    rng = np.random.default_rng(5)
    tasks = [synthetic.COVARIATE_FAMILIES[family][0](rng, 512) for _ in range(21)]
    own = np.array([_r2(t["target"], t["past_covariates"]) for t in tasks[:-1]])
    # the control: the same target against another task's drivers (same family, same length)
    other = np.array([_r2(t["target"], u["past_covariates"]) for t, u in zip(tasks[:-1], tasks[1:], strict=True)])
    assert np.median(own) > 0.3 and np.median(other) < 0.1, (own, other)
    assert np.mean(own > other) >= 0.85


def _best_lagged_corr(y: np.ndarray, x: np.ndarray, lags: range) -> float:
    """max |corr(y_t, x_{t-k})| over the lags k (|k| <= 16)."""
    n = len(y)
    return max(abs(np.corrcoef(y[16 : n - 16], x[16 - k : n - 16 - k])[0, 1]) for k in lags)


def test_a_leading_indicator_leads_the_target():
    rng = np.random.default_rng(6)
    tasks = [synthetic.leading_task(rng, 512) for _ in range(21)]
    assert all("indicator" not in t["future_covariates"] for t in tasks)  # past-only
    own = [_best_lagged_corr(t["target"], t["past_covariates"]["indicator"], range(1, 17)) for t in tasks[:-1]]
    other = [
        _best_lagged_corr(t["target"], u["past_covariates"]["indicator"], range(1, 17))
        for t, u in zip(tasks[:-1], tasks[1:], strict=True)
    ]
    assert min(own) > 0.5 and np.median(own) > 0.75 and np.median(other) < 0.3, (own, other)


def test_related_series_move_together():
    rng = np.random.default_rng(7)
    groups = [synthetic.related_task(rng, 512)["target"] for _ in range(21)]
    own = [_best_lagged_corr(g[0], g[1], range(-3, 4)) for g in groups[:-1]]
    other = [_best_lagged_corr(g[0], h[1], range(-3, 4)) for g, h in zip(groups[:-1], groups[1:], strict=True)]
    assert np.median(own) > 0.6 and np.median(other) < 0.3, (own, other)
