"""The synthetic training corpora (univariate series, covariate tasks): deterministic, finite, varied, with
targets that depend on their drivers; and the staged training run on them."""

import numpy as np
import pytest
import torch
from chronos.chronos2 import preprocess
from safetensors.torch import load_file

from chronos_excel import synthetic
from chronos_excel.training import STAGES, Stage, train_bundled


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


def test_growth_series_are_smooth_seeded_trends():
    first, again = synthetic.generate_growth_series(20, seed=3), synthetic.generate_growth_series(20, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    for y in first:
        assert y.dtype == np.float32 and len(y) in synthetic.LENGTHS and np.isfinite(y).all()
        steps = np.diff(y) / np.abs(y[:-1])
        assert np.median(np.abs(steps)) < 0.05  # smooth: a few percent per step at most
    ups = sum(y[-1] > y[0] for y in first)
    assert 10 <= ups < 20  # mostly growing, some shrinking


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


# --- The staged training run on both corpora ------------------------------------------------------------


def test_training_resumed_at_the_covariate_stage_reproduces_the_whole_run(tmp_path):
    stages = (Stage(2, 8, 64, 1e-3), Stage(2, 4, 128, 1e-3), Stage(3, 8, 64, 1e-3, covariate_draws=2))
    tiny = {
        "seed": 1,
        "n_series": 12,
        "n_covariate_tasks": 12,
        "n_growth_series": 4,
        "d_model": 16,
        "d_ff": 32,
        "num_layers": 1,
    }
    whole = train_bundled(tmp_path / "whole", stages=stages, **tiny)
    first_two = train_bundled(tmp_path / "first_two", stages=stages[:2], **tiny)
    resumed = train_bundled(tmp_path / "resumed", stages=stages, start_stage=3, init=first_two, **tiny)
    expected, found = load_file(whole / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert expected.keys() == found.keys()
    assert all(torch.equal(expected[k], found[k]) for k in expected)
    assert not all(torch.equal(expected[k], v) for k, v in load_file(first_two / "model.safetensors").items())
    card = (whole / "MODEL_CARD.md").read_text()
    assert "3. 3 steps of 8 rows, context 64, peak learning rate 0.001, 2 covariate tasks per univariate series" in card
    assert "<!-- covariates:start -->" in card and "<!-- quality:start -->" in card


def test_resuming_needs_the_checkpoint_of_the_earlier_stages(tmp_path):
    with pytest.raises(ValueError, match="init .* goes with start_stage > 1"):
        train_bundled(tmp_path, start_stage=3)
    past_the_end = len(STAGES) + 1
    with pytest.raises(ValueError, match=f"start_stage must be between 1 and {len(STAGES)}, got {past_the_end}"):
        train_bundled(tmp_path, start_stage=past_the_end, init=tmp_path)
