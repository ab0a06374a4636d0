"""The synthetic training corpus: deterministic, finite, varied."""

import numpy as np
import pytest

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
