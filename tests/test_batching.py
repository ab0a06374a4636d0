"""Forward passes are sized by patch tokens (bounded activation memory), without changing the forecasts."""

from __future__ import annotations

import numpy as np
import torch

from chronos_excel import create_app

from .helpers import series


def test_a_pass_holds_at_most_the_token_budget(app):
    predictor = app.extensions["chronos_predictor"]
    long_series = [torch.zeros(8192)] * 256
    # 512 context patches + 1 register + 1 output patch per row: 7 rows fit in 4096 tokens
    assert predictor.pass_size(long_series, horizon=16) == (7, 8192)
    # short series: the row limit (256) binds first
    assert predictor.pass_size([torch.zeros(100)] * 1000, horizon=16) == (256, 112)
    # one input whose 51 rows of 8192 points cannot fit: its context is cut to what fits
    wide = {"target": np.zeros(8192), "past_covariates": {f"c{k}": np.zeros(8192) for k in range(50)}}
    rows, context = predictor.pass_size([wide], horizon=64)
    assert rows == 51 and context == (4096 // 51 - 5) * 16


def test_a_small_token_budget_splits_passes_but_not_the_answer(client, tiny_model_dir):
    rng = np.random.default_rng(3)
    body = {"series": [series(rng.normal(10, 2, n).round(3).tolist()) for n in (300, 50, 700, 20)], "horizon": 24}
    reference = client.post("/api/v1/forecast", json=body).get_json()["forecasts"]
    small = create_app({"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "BATCH_TOKENS": 64})
    passes = []
    model = small.extensions["chronos_predictor"].pipeline.model
    model.register_forward_hook(lambda module, args, output: passes.append(1))
    split = small.test_client().post("/api/v1/forecast", json=body).get_json()["forecasts"]
    assert len(passes) == 4  # 700 points = 44 patches + 3: one series per pass
    for a, b in zip(reference, split, strict=True):
        np.testing.assert_allclose(a["median"], b["median"], rtol=1e-4, atol=1e-5)
