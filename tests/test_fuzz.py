"""Schemathesis fuzzes the API from its own OpenAPI document: no generated request, schema-valid or not,
gets a 5xx, and every answer (200 or problem) conforms to the documented schema and status codes.

(Schemathesis' pytest plugin does not run under pytest 9, so the test drives its Hypothesis strategies.)
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
OPERATIONS = ["POST /api/v1/forecast", "POST /api/v1/anomalies", "POST /api/v1/backtest"]
EXAMPLES = {"positive": 100, "negative": 70}  # 3 operations × 170 = 510 cases


@pytest.fixture(scope="module")
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
@pytest.mark.parametrize("operation", OPERATIONS)
def test_the_api_holds_to_its_openapi_document(api_schema, operation, mode):
    method, path = operation.split()
    api_operation = api_schema[path][method]
    calls = []

    @given(case=api_operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode.value],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case):
        response = case.call_and_validate(checks=CHECKS)
        calls.append(response.status_code)

    fuzz()
    assert calls, "no case was generated"


def test_the_document_states_the_configured_limits(tiny_model_dir):
    from chronos_excel import create_app

    app = create_app({"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "MAX_HORIZON": 48,
                      "MAX_SERIES": 20, "MAX_QUANTILES": 9, "MAX_COVARIATES": 4})  # fmt: skip
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    forecast = schemas["ForecastRequest"]["properties"]
    assert forecast["horizon"]["maximum"] == 48 and forecast["horizon"]["type"] == "integer"
    assert forecast["series"]["maxItems"] == 20
    assert forecast["quantile_levels"]["maxItems"] == 9 and forecast["quantile_levels"]["uniqueItems"] is True
    [covariates] = [b for b in schemas["Series"]["properties"]["covariates"]["anyOf"] if b.get("type") == "object"]
    assert covariates["maxProperties"] == 4
    assert schemas["Series"]["properties"]["values"]["contains"] == {"type": "number"}  # not all null
    last = schemas["AnomaliesRequest"]["properties"]["last"]["anyOf"][0]
    assert last == {"type": "integer", "minimum": 1}
    assert "one regular timeline" in document["paths"]["/api/v1/forecast"]["post"]["description"]
