"""--dtype int8: the model's linear layers quantized dynamically, for CPUs without bf16 units."""

from __future__ import annotations

import numpy as np
import pytest

from chronos_excel import cli, create_app
from chronos_excel.predictor import resolve_dtype

from .helpers import series


def test_int8_serves_within_one_percent_of_float32(tiny_model_dir, client):
    rng = np.random.default_rng(0)
    body = {"series": [series((50 + 5 * np.sin(np.arange(200) / 5) + rng.normal(0, 1, 200)).tolist())] * 3,
            "horizon": 24, "quantile_levels": [0.1, 0.5, 0.9]}  # fmt: skip
    app = create_app({"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "int8"})
    int8 = app.test_client()
    assert int8.get("/api/v1/health").get_json()["model"]["dtype"] == "int8"
    quantized = int8.post("/api/v1/forecast", json=body).get_json()["forecasts"]
    reference = client.post("/api/v1/forecast", json=body).get_json()["forecasts"]
    for a, b in zip(quantized, reference, strict=True):
        for key in ("0.1", "0.5", "0.9"):
            np.testing.assert_allclose(a["quantiles"][key], b["quantiles"][key], rtol=0.01)


def test_int8_is_refused_on_cuda_with_a_clear_error():
    with pytest.raises(ValueError, match="int8 runs on the CPU only"):
        resolve_dtype("int8", "cuda")


def test_serve_accepts_dtype_int8():
    args = cli.build_parser().parse_args(["serve", "--dtype", "int8"])
    assert cli._model_settings(args)["DTYPE"] == "int8"
