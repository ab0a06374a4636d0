"""Bad input gets a clear problem+json answer naming what was wrong, and changes nothing."""

from __future__ import annotations

import time

import pytest
from openapi_spec_validator import validate

from chronos_excel import create_app

from .helpers import assert_problem, series

GOOD = {"series": [series([1.0, 2.0, 3.0, 4.0, 5.0])], "horizon": 3}


def post(client, body, **kwargs):
    return client.post("/api/v1/forecast", json=body, **kwargs)


@pytest.mark.parametrize(
    ("body", "loc", "match"),
    [
        ({"series": [], "horizon": 3}, ["series"], "at least 1"),  # no series
        ({"series": [series([])], "horizon": 3}, ["series", 0, "values"], "at least 1"),  # empty values
        ({"series": [series([1.0, "x", 3.0])], "horizon": 3}, ["series", 0, "values", 1], "number"),
        ({"series": [series([1.0, True])], "horizon": 3}, ["series", 0, "values", 1], "number"),
        ({"series": [series([None, None])], "horizon": 3}, ["series", 0, "values"], "every value is null"),
        ({**GOOD, "horizon": 0}, ["horizon"], "greater than or equal to 1"),
        ({**GOOD, "horizon": 1025}, ["horizon"], "at most 1024"),
        ({**GOOD, "horizon": 2.5}, ["horizon"], "integer"),
        ({"series": GOOD["series"]}, ["horizon"], "Field required"),
        ({**GOOD, "quantile_levels": [0.5, 1.0]}, ["quantile_levels", 1], "less than 1"),
        ({**GOOD, "quantile_levels": [0.0]}, ["quantile_levels", 0], "greater than 0"),
        ({**GOOD, "horizn": 3}, ["horizn"], "Extra inputs"),  # a typo is named, not ignored
        ({**GOOD, "frequency": "M"}, ["frequency"], "'M' is not a pandas frequency"),
        ({**GOOD, "aggregate": "avg"}, ["aggregate"], "'mean'"),
        (
            {"series": [series([1.0, 2.0], ["2024-01-01"])], "horizon": 1},
            ["series", 0, "timestamps"],
            "1 timestamps for 2 values",
        ),
        (
            {"series": [series([1.0, 2.0, 3.0], ["2024-01-01", "next day", "2024-01-03"])], "horizon": 1},
            ["series", 0, "timestamps", 1],
            "'next day' is not an ISO-8601",
        ),
        (
            {"series": [series([1.0, 2.0], ["2024-01-01", 45293.0])], "horizon": 1},
            ["series", 0, "timestamps", 1],
            "mixes kinds",
        ),
        (
            {"series": [series([1.0, 2.0], [45292.0, -3.0])], "horizon": 1},
            ["series", 0, "timestamps", 1],
            "not an Excel date number",
        ),
        (  # the second series shares the first one's dates but not their number
            {
                "series": [
                    series([1.0, 2.0], ["2024-01-01", "2024-01-02"]),
                    series([1.0], ["2024-01-01", "2024-01-02"]),
                ],
                "horizon": 1,
            },
            ["series", 1, "timestamps"],
            "2 timestamps for 1 values",
        ),
        ({"series": [series([1.0])] * 1001, "horizon": 1}, ["series"], "at most 1000 series"),
        ({**GOOD, "start": "2024-01-01"}, ["frequency"], "needs a `frequency`"),
    ],
)
def test_invalid_requests_are_422_with_the_location(client, body, loc, match):
    assert_problem(post(client, body), 422, loc, match)
    assert post(client, GOOD).status_code == 200  # the server still answers correctly


def test_nan_and_infinity_tokens_are_rejected_where_they_are(client):
    raw = '{"series": [{"values": [1, NaN, 3, Infinity]}], "horizon": 2}'
    body = assert_problem(client.post("/api/v1/forecast", data=raw, content_type="application/json"), 422)
    assert [err["loc"][:4] for err in body["errors"]] == [["series", 0, "values", 1], ["series", 0, "values", 3]]


def test_malformed_json_is_400(client):
    assert_problem(client.post("/api/v1/forecast", data="{nope", content_type="application/json"), 400, match="JSON")


def test_a_body_that_is_not_json_is_415(client):
    assert_problem(client.post("/api/v1/forecast", data="horizon=3", content_type="text/plain"), 415)


def test_a_body_over_the_limit_is_413(tiny_model_dir):
    small = create_app({"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "MAX_CONTENT_LENGTH": 1000})
    big = {"series": [series([1.0] * 500)], "horizon": 1}
    assert_problem(small.test_client().post("/api/v1/forecast", json=big), 413)


def test_limits_are_configurable(tiny_model_dir):
    strict = create_app(
        {"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "MAX_HORIZON": 12, "MAX_SERIES": 2}
    ).test_client()
    assert_problem(strict.post("/api/v1/forecast", json={**GOOD, "horizon": 13}), 422, ["horizon"], "at most 12")
    assert_problem(
        strict.post("/api/v1/forecast", json={"series": GOOD["series"] * 3, "horizon": 1}), 422, ["series"], "at most 2"
    )


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("get", "/api/v1/nowhere", 404), ("get", "/api/v1/forecast", 405), ("delete", "/api/v1/health", 405)],
)
def test_unknown_routes_and_methods_are_problems_too(client, method, path, status):
    assert_problem(getattr(client, method)(path), status)


def test_a_crash_is_a_500_with_a_request_id_and_no_stack_trace(app, monkeypatch, caplog):
    predictor = app.extensions["chronos_predictor"]

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(predictor, "quantile_grid", explode)
    response = app.test_client().post("/api/v1/forecast", json=GOOD)
    body = assert_problem(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert body["request_id"] in caplog.text and "secret internals" in caplog.text


def test_health_is_503_while_the_model_loads_or_after_it_failed(tmp_path):
    missing = tmp_path / "no-model-here"
    missing.mkdir()
    app = create_app({"MODEL": str(missing), "DEVICE": "cpu", "LOAD_IN_BACKGROUND": True})
    client = app.test_client()
    predictor = app.extensions["chronos_predictor"]
    for _ in range(200):
        if predictor.state == "failed":
            break
        time.sleep(0.05)
    body = assert_problem(client.get("/api/v1/health"), 503)
    assert str(missing) in body["detail"]
    assert_problem(client.post("/api/v1/forecast", json=GOOD), 503)
    assert_problem(client.post("/api/v1/forecast", json={"series": []}), 422)  # bad input is still 422


def test_openapi_document_is_valid_and_lists_every_route(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    routes = {
        (rule.rule.replace("<", "{").replace(">", "}"), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1") and "docs" not in rule.rule and "openapi" not in rule.rule
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert routes == documented
    assert document["components"]["schemas"]["ForecastRequest"]["properties"]["quantile_levels"]


def test_docs_page_works_offline_from_the_apps_own_assets(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html  # no CDN
    for asset in ("docs/assets/swagger-ui.css", "docs/assets/swagger-ui-bundle.js"):
        assert asset in html
        with client.get(f"/api/v1/{asset}") as response:
            assert response.status_code == 200 and len(response.data) > 1000
