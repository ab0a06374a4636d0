"""Covariates, joint and cross-learning forecasts: the API answers exactly what Chronos-2 says for the same
dict inputs, reads each driver as documented, and says where a request is wrong."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from chronos.chronos2 import Chronos2Pipeline
from chronos.utils import interpolate_quantiles

from chronos_excel import create_app
from chronos_excel.schemas import AnomaliesResponse, BacktestResponse, ForecastResponse

from .helpers import assert_problem, post_ok, series

LEVELS = [0.1, 0.5, 0.9]
N = 40
rng = np.random.default_rng(7)
SALES = (100 + 10 * np.sin(np.arange(N) / 3) + rng.normal(0, 2, N)).round(2).tolist()
OTHER = (50 + 5 * np.cos(np.arange(N) / 4) + rng.normal(0, 1, N)).round(2).tolist()
MONTHS = [f"{2020 + m // 12}-{m % 12 + 1:02d}-01" for m in range(N)]


def price(n: int) -> list[float]:
    return [9.9 if t % 5 else 7.9 for t in range(n)]


def promo(n: int) -> list[str]:
    return ["yes" if t % 4 == 0 else "no" for t in range(n)]


@pytest.fixture(scope="module")
def pipeline(tiny_model_dir):
    return Chronos2Pipeline.from_pretrained(str(tiny_model_dir), device_map="cpu")


def direct(pipeline, inputs: list, horizon: int, levels: list[float] = LEVELS, **kwargs):
    """The oracle: the library's own predict on the same dict inputs, quantiles sorted per step."""
    raw = torch.cat(pipeline.predict(inputs, prediction_length=horizon, **kwargs), dim=0).transpose(1, 2)
    grid = raw.sort(dim=-1).values
    return grid[..., pipeline.quantiles.index(0.5)].numpy(), interpolate_quantiles(levels, pipeline.quantiles, grid)


def assert_matches(forecasts: list[dict], median, quantiles) -> None:
    for i, forecast in enumerate(forecasts):
        np.testing.assert_allclose(forecast["median"], median[i], rtol=1e-5, atol=1e-6)
        for j, level in enumerate(LEVELS):
            np.testing.assert_allclose(forecast["quantiles"][str(level)], quantiles[i, :, j], rtol=1e-5, atol=1e-6)


def forecast(client, body: dict) -> list[dict]:
    return post_ok(client, "/api/v1/forecast", body, ForecastResponse)["forecasts"]


def test_numeric_past_only_covariate_matches_the_library(client, pipeline):
    visits = [1000.0 + 10 * t for t in range(N)]
    body = {"series": [{**series(SALES), "covariates": {"Visits": visits}}], "horizon": 6}
    [result] = forecast(client, body)
    oracle = direct(pipeline, [{"target": np.array(SALES), "past_covariates": {"Visits": np.array(visits)}}], 6)
    assert_matches([result], *oracle)
    assert result["covariates"] == [{"name": "Visits", "type": "numeric", "future": False}]


def test_numeric_known_future_covariate_matches_the_library_and_changes_the_forecast(client, pipeline):
    h = 5
    body = {"series": [{**series(SALES, MONTHS), "covariates": {"Price": price(N + h)}}], "horizon": h}
    [result] = forecast(client, body)
    p = np.array(price(N + h))
    oracle = direct(pipeline, [{"target": np.array(SALES), "past_covariates": {"Price": p[:N]},
                                "future_covariates": {"Price": p[N:]}}], h)  # fmt: skip
    assert_matches([result], *oracle)
    assert result["covariates"] == [{"name": "Price", "type": "numeric", "future": True}]
    assert result["timestamps"][0] == "2023-05-01"
    [plain] = forecast(client, {"series": [series(SALES, MONTHS)], "horizon": h})
    assert plain["median"] != result["median"]


def test_categorical_known_future_covariate_matches_the_library(client, pipeline):
    h = 4
    # numbers inside a categorical covariate are read as their text
    labels = [*promo(N + h)[:-1], 3]
    body = {"series": [{**series(SALES), "covariates": {"Promo": labels}}], "horizon": h}
    [result] = forecast(client, body)
    text = np.array([*promo(N + h)[:-1], "3"], dtype=object)
    oracle = direct(pipeline, [{"target": np.array(SALES), "past_covariates": {"Promo": text[:N]},
                                "future_covariates": {"Promo": text[N:]}}], h)  # fmt: skip
    assert_matches([result], *oracle)
    assert result["covariates"] == [{"name": "Promo", "type": "categorical", "future": True}]


def test_booleans_are_numeric_and_nulls_missing_even_in_the_future(client, pipeline):
    h = 3
    flags = [t % 3 == 0 for t in range(N + h)]
    flags[-1] = None  # unknown at the last future step
    body = {"series": [{**series(SALES), "covariates": {"Holiday": flags}}], "horizon": h}
    [result] = forecast(client, body)
    numeric = np.array([np.nan if f is None else float(f) for f in flags])
    oracle = direct(pipeline, [{"target": np.array(SALES), "past_covariates": {"Holiday": numeric[:N]},
                                "future_covariates": {"Holiday": numeric[N:]}}], h)  # fmt: skip
    assert_matches([result], *oracle)
    assert result["covariates"][0]["type"] == "numeric"


def test_mixed_schemas_in_one_request_match_and_take_one_model_call_each(client, pipeline, monkeypatch, app):
    h = 4
    bodies = [
        {**series(SALES, name="A"), "covariates": {"Price": price(N + h), "Promo": promo(N + h)}},
        {**series(OTHER, name="B")},
        {**series(OTHER[:30], name="C"), "covariates": {"Price": price(30 + h), "Promo": promo(30 + h)}},
        {**series(SALES[:25], name="D"), "covariates": {"Price": price(25)}},
    ]
    predictor = app.extensions["chronos_predictor"]
    calls = []
    real_predict = predictor.pipeline.predict
    monkeypatch.setattr(predictor.pipeline, "predict", lambda inputs, **kw: calls.append(len(inputs)) or
                        real_predict(inputs, **kw))  # fmt: skip
    results = forecast(client, {"series": bodies, "horizon": h})
    assert sorted(calls) == [1, 1, 2]  # three schemas: A and C share one
    assert [r["name"] for r in results] == ["A", "B", "C", "D"]

    def known(values, n):
        p, q = np.array(price(n + h)), np.array(promo(n + h), dtype=object)
        return {"target": np.array(values), "past_covariates": {"Price": p[:n], "Promo": q[:n]},
                "future_covariates": {"Price": p[n:], "Promo": q[n:]}}  # fmt: skip

    oracle_ac = direct(pipeline, [known(SALES, N), known(OTHER[:30], 30)], h)
    oracle_b = direct(pipeline, [torch.tensor(OTHER)], h)
    oracle_d = direct(
        pipeline, [{"target": np.array(SALES[:25]), "past_covariates": {"Price": np.array(price(25))}}], h
    )
    assert_matches([results[0], results[2]], *oracle_ac)
    assert_matches([results[1]], *oracle_b)
    assert_matches([results[3]], *oracle_d)
    assert [c["name"] for c in results[0]["covariates"]] == ["Price", "Promo"]  # input order


def test_joint_forecast_is_one_multivariate_group(client, pipeline):
    body = {"series": [series(SALES, MONTHS, "Sales"), series(OTHER, MONTHS, "Other")], "horizon": 6, "joint": True}
    results = forecast(client, body)
    oracle = direct(pipeline, [np.array([SALES, OTHER])], 6)
    assert_matches(results, *oracle)
    alone = forecast(client, {**body, "joint": False})
    assert alone[0]["median"] != results[0]["median"]


def test_joint_forecast_with_covariates(client, pipeline):
    h = 3
    covs = {"Price": price(N + h), "Promo": promo(N + h)}
    body = {
        "series": [{**series(SALES), "covariates": covs}, {**series(OTHER), "covariates": covs}],
        "horizon": h,
        "joint": True,
    }
    results = forecast(client, body)
    p, q = np.array(price(N + h)), np.array(promo(N + h), dtype=object)
    item = {"target": np.array([SALES, OTHER]), "past_covariates": {"Price": p[:N], "Promo": q[:N]},
            "future_covariates": {"Price": p[N:], "Promo": q[N:]}}  # fmt: skip
    assert_matches(results, *direct(pipeline, [item], h))


def test_cross_learning_is_passed_to_the_library(client, pipeline):
    body = {"series": [series(SALES[:20]), series(OTHER)], "horizon": 4, "cross_learning": True}
    results = forecast(client, body)
    assert_matches(results, *direct(pipeline, [torch.tensor(SALES[:20]), torch.tensor(OTHER)], 4, cross_learning=True))


def test_fill_missing_gives_inserted_steps_null_covariates(client, pipeline):
    days = ["2024-01-01", "2024-01-02", "2024-01-04", "2024-01-05", "2024-01-06", "2024-01-07"]
    values = [1.0, 2.0, 4.0, 5.0, 6.0, 7.0]
    body = {
        "series": [
            {**series(values, days), "covariates": {"Temp": [10, 11, 13, 14, 15, 16, 17], "Kind": list("abcdef")}}
        ],
        "horizon": 1,
        "fill_missing": True,
    }
    [result] = forecast(client, body)
    target = np.array([1.0, 2.0, np.nan, 4.0, 5.0, 6.0, 7.0])
    item = {"target": target, "past_covariates": {"Temp": np.array([10, 11, np.nan, 13, 14, 15, 16]),
            "Kind": np.array(["a", "b", None, "c", "d", "e", "f"], dtype=object)},
            "future_covariates": {"Temp": np.array([17.0])}}  # fmt: skip
    assert_matches([result], *direct(pipeline, [item], 1))


def test_aggregate_combines_numeric_covariates_alike_and_keeps_the_last_category(client, pipeline):
    days = ["2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"]
    body = {
        "series": [{**series([1.0, 2.0, 4.0, 5.0, 6.0, 7.0], days),
                    "covariates": {"Temp": [1, 2, 6, 4, 5, 6], "Kind": ["a", "x", "y", "c", "d", "e"]}}],
        "horizon": 2,
        "aggregate": "sum",
    }  # fmt: skip
    [result] = forecast(client, body)
    item = {"target": np.array([1.0, 6.0, 5.0, 6.0, 7.0]),
            "past_covariates": {"Temp": np.array([1.0, 8.0, 4.0, 5.0, 6.0]),
                                "Kind": np.array(["a", "y", "c", "d", "e"], dtype=object)}}  # fmt: skip
    assert_matches([result], *direct(pipeline, [item], 2))


@pytest.mark.parametrize(
    ("body", "loc", "match"),
    [
        # a covariate neither as long as the values nor values + horizon
        ({"series": [{**series(SALES), "covariates": {"Price": price(N + 1)}}], "horizon": 3},
         ["series", 0, "covariates", "Price"], f"needs {N} (one per value: observed in the past only) or {N + 3}"),
        # an empty name
        ({"series": [{**series(SALES), "covariates": {"": price(N)}}], "horizon": 3},
         ["series", 0, "covariates", "", "[key]"], "at least 1 character"),
        # a name longer than 255 characters
        ({"series": [{**series(SALES), "covariates": {"x" * 256: price(N)}}], "horizon": 3},
         ["series", 0, "covariates", "x" * 256, "[key]"], "at most 255 characters"),
        # more than 50 covariates
        ({"series": [{**series(SALES), "covariates": {f"c{k}": price(N) for k in range(51)}}], "horizon": 3},
         ["series", 0, "covariates"], "at most 50 covariates per series, got 51"),
        # an object is not a covariate value
        ({"series": [{**series(SALES), "covariates": {"Price": [{"a": 1}] * N}}], "horizon": 3},
         ["series", 0, "covariates", "Price", 0, "str"], None),
        # joint series on different timelines: lengths
        ({"series": [series(SALES), series(OTHER[:30])], "horizon": 3, "joint": True},
         ["series", 1, "values"], "series forecast jointly must share one timeline"),
        # joint series on different timelines: timestamps
        ({"series": [series(SALES, MONTHS), series(OTHER, [f"2019-{m:02d}-01" for m in range(1, 13)] + MONTHS[:28])],
          "horizon": 3, "joint": True},
         ["series", 1, "timestamps"], "share one timeline"),
        # joint series with different covariate values
        ({"series": [{**series(SALES), "covariates": {"Price": price(N)}},
                     {**series(OTHER), "covariates": {"Price": [*price(N - 1), 1.0]}}], "horizon": 3, "joint": True},
         ["series", 1, "covariates", "Price"], "must carry the same covariates"),
        # joint series where one lacks a covariate
        ({"series": [{**series(SALES), "covariates": {"Price": price(N)}}, series(OTHER)], "horizon": 3,
          "joint": True},
         ["series", 1, "covariates", "Price"], "must carry the same covariates"),
    ],
)  # fmt: skip
def test_forecast_covariate_errors_are_located(client, body, loc, match):
    assert_problem(client.post("/api/v1/forecast", json=body), 422, loc, match)


def test_more_covariates_when_configured(tiny_model_dir):
    app = create_app({"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "MAX_COVARIATES": 60})
    body = {"series": [{**series(SALES), "covariates": {f"c{k}": price(N) for k in range(55)}}], "horizon": 2}
    assert app.test_client().post("/api/v1/forecast", json=body).status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "loc", "match"),
    [
        # backtests take covariates as long as the history
        ("/api/v1/backtest", {"series": [{**series(SALES), "covariates": {"Price": price(N + 4)}}], "horizon": 4},
         ["series", 0, "covariates", "Price"], f"needs one per value ({N})"),
        # an unknown future covariate
        ("/api/v1/backtest", {"series": [{**series(SALES), "covariates": {"Price": price(N)}}], "horizon": 4,
                              "future_covariates": ["Price", "Promo"]},
         ["future_covariates", 1], "'Promo' is not a covariate of any series (covariates: 'Price')"),
        ("/api/v1/anomalies", {"series": [series(SALES)], "future_covariates": ["Promo"]},
         ["future_covariates", 0], "'Promo' is not a covariate of any series"),
        # joint backtest on different timelines
        ("/api/v1/backtest", {"series": [series(SALES), series(OTHER[:30])], "horizon": 4, "joint": True},
         ["series", 1, "values"], "share one timeline"),
    ],
)  # fmt: skip
def test_backtest_and_anomaly_covariate_errors_are_located(client, path, body, loc, match):
    assert_problem(client.post(path, json=body), 422, loc, match)
    assert client.post("/api/v1/forecast", json={"series": [series(SALES)], "horizon": 2}).status_code == 200


def backtest(client, body: dict) -> dict:
    return post_ok(client, "/api/v1/backtest", body, BacktestResponse)


def test_backtest_with_covariates_reports_the_same_windows_without_them(client, pipeline):
    h, windows = 4, 2
    body = {
        "series": [{**series(SALES, name="Sales"), "covariates": {"Price": price(N), "Promo": promo(N)}},
                   series(OTHER, name="Other")],
        "horizon": h, "windows": windows, "future_covariates": ["Price"],
    }  # fmt: skip
    data = backtest(client, body)
    sales, other = data["backtests"]
    assert "without_covariates" not in other and "covariate_skill" not in other
    # the with-covariates windows equal the library's forecast with Price known over each window
    p, q = np.array(price(N)), np.array(promo(N), dtype=object)
    for k, cut in enumerate([N - h - h, N - h]):
        item = {"target": np.array(SALES[:cut]), "past_covariates": {"Price": p[:cut], "Promo": q[:cut]},
                "future_covariates": {"Price": p[cut : cut + h]}}  # fmt: skip
        median, _ = direct(pipeline, [item], h)
        np.testing.assert_allclose(sales["windows"][k]["median"], median[0], rtol=1e-5, atol=1e-6)
    # "without" equals a plain backtest of the same series
    plain = backtest(client, {**body, "series": [series(SALES)], "future_covariates": []})["backtests"][0]
    assert sales["without_covariates"]["metrics"] == pytest.approx(plain["metrics"])
    assert sales["covariate_skill"] == pytest.approx(1 - sales["metrics"]["MASE"] / plain["metrics"]["MASE"])
    summary = data["summary"]
    assert summary["covariate_skill"] == pytest.approx(sales["covariate_skill"])
    expected_mae = (plain["metrics"]["MAE"] + other["metrics"]["MAE"]) / 2
    assert summary["without_covariates"]["metrics"]["MAE"] == pytest.approx(expected_mae)


def test_backtest_without_any_covariates_has_no_covariate_fields(client):
    data = backtest(client, {"series": [series(SALES)], "horizon": 4})
    assert "without_covariates" not in data["backtests"][0] and "without_covariates" not in data["summary"]


def test_joint_backtest_forecasts_each_window_jointly(client, pipeline):
    h = 4
    data = backtest(client, {"series": [series(SALES), series(OTHER)], "horizon": h, "windows": 1, "joint": True})
    median, _ = direct(pipeline, [np.array([SALES[: N - h], OTHER[: N - h]])], h)
    for i in range(2):
        np.testing.assert_allclose(data["backtests"][i]["windows"][0]["median"], median[i], rtol=1e-5, atol=1e-6)


def test_cross_learning_backtest_never_shares_a_later_window_of_the_same_series(client, pipeline):
    h = 4
    body = {"series": [series(SALES), series(OTHER[:30])], "horizon": h, "windows": 2, "cross_learning": True}
    data = backtest(client, body)
    # window 0 of both series forecast together, apart from window 1
    median, _ = direct(pipeline, [torch.tensor(SALES[: N - 2 * h]), torch.tensor(OTHER[: 30 - 2 * h])], h,
                       cross_learning=True)  # fmt: skip
    np.testing.assert_allclose(data["backtests"][0]["windows"][0]["median"], median[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(data["backtests"][1]["windows"][0]["median"], median[1], rtol=1e-5, atol=1e-6)


def test_anomaly_scan_with_future_covariates_changes_the_bands_at_driver_steps(client, pipeline):
    n = 64
    flags = [1.0 if t % 8 == 5 else 0.0 for t in range(n)]
    values = [100.0 + 40 * f + (t % 3) for t, f in enumerate(flags)]
    body = {"series": [{**series(values), "covariates": {"Promo": flags}}], "min_context": 32, "level": 0.9}
    past_only = post_ok(client, "/api/v1/anomalies", body, AnomaliesResponse)["anomalies"][0]
    known = post_ok(client, "/api/v1/anomalies", {**body, "future_covariates": ["Promo"]}, AnomaliesResponse)
    known = known["anomalies"][0]
    assert known["upper"][:32] == [None] * 32
    # the first window forecasts points 32.. from the (NaN-padded) ANOMALY_CONTEXT points before it, knowing
    # Promo over its block; its first point is always judged by that forecast
    block, context = 6, 64
    padded = [float("nan")] * context + values
    padded_flags = [float("nan")] * context + flags
    item = {"target": np.array(padded[32 : 32 + context]),
            "past_covariates": {"Promo": np.array(padded_flags[32 : 32 + context])},
            "future_covariates": {"Promo": np.array(flags[32 : 32 + block])}}  # fmt: skip
    median, _ = direct(pipeline, [item], block)
    np.testing.assert_allclose(known["expected"][32], median[0][0], rtol=1e-5, atol=1e-6)
    promo_steps = [t for t in range(32, n) if flags[t]]
    assert all(known["expected"][t] != past_only["expected"][t] for t in promo_steps)
    # and the known values after the series' end are missing, not invented: the last block is padded
    last = post_ok(client, "/api/v1/anomalies", {**body, "future_covariates": ["Promo"], "last": 3}, AnomaliesResponse)
    assert last["anomalies"][0]["expected"][-3:] != [None] * 3


def test_openapi_documents_covariates(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert "covariates" in schemas["Series"]["properties"]
    assert {"joint", "cross_learning"} <= schemas["ForecastRequest"]["properties"].keys()
    assert {"future_covariates", "joint"} <= schemas["BacktestRequest"]["properties"].keys()
    assert "future_covariates" in schemas["AnomaliesRequest"]["properties"]
    assert {"without_covariates", "covariate_skill"} <= schemas["SeriesBacktest"]["properties"].keys()
    assert "CovariateInfo" in schemas
