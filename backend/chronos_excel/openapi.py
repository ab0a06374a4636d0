"""The OpenAPI 3.1 document, generated from the pydantic models that validate requests."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import schemas

# (method, path, summary, request model, response model)
ENDPOINTS: list[tuple[str, str, str, type[BaseModel] | None, type[BaseModel]]] = [
    ("get", "/health", "Whether the model is loaded, and which", None, schemas.Health),
    ("post", "/forecast", "Forecast series with quantile bands", schemas.ForecastRequest, schemas.ForecastResponse),
    (
        "post",
        "/anomalies",
        "Flag unusual points of the whole history",
        schemas.AnomaliesRequest,
        schemas.AnomaliesResponse,
    ),
    (
        "post",
        "/backtest",
        "Rolling-origin backtest against seasonal naive",
        schemas.BacktestRequest,
        schemas.BacktestResponse,
    ),
]

_ERRORS = {
    "400": "The body is not valid JSON",
    "413": "The body is larger than the configured limit",
    "415": "The body is not JSON",
    "422": "The request is invalid; `errors` lists each problem with its location",
    "503": "The model is loading or failed to load",
}


CROSS_FIELD_RULES = """Rules across fields, beyond what the schemas state (each broken one is a 422 at the field):

- `timestamps`, when given, has one entry per value, all text or all numbers, on one regular timeline
  (unless `fill_missing`/`aggregate` repair it; `fill_missing` makes at most max_filled_points, 100,000, points),
  and the forecast's last timestamp is no later than 2262-04-11.
- `start` needs `frequency`, and lies on its timeline.
- Each covariate has one value per value (forecasts: or len(values) + horizon, known in the future).
- Each name in `future_covariates` is a covariate of some series.
- With `joint`, every series shares one timeline and carries the same covariates.
- The answer holds at most max_response_numbers (5,000,000) numbers.
"""
OPERATION_RULES = {
    "/backtest": (
        "\n- Each series has room for `windows` windows of `horizon`, each with max(5, seasonality + 1) context points."
    ),
}


def _json_schema_keywords(node: object) -> None:
    """pydantic writes a few constraints of validated unions under their Python names (``ge``); say them in
    JSON Schema's words so that readers and generators see them."""
    names = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}
    if isinstance(node, dict):
        for python_name, json_name in names.items():
            if python_name in node and "type" in node:
                node[json_name] = node.pop(python_name)
        for value in node.values():
            _json_schema_keywords(value)
    elif isinstance(node, list):
        for value in node:
            _json_schema_keywords(value)


def _state_limits(definitions: dict, limits: dict[str, int]) -> None:
    """Write the configured limits into the request schemas."""
    for name, schema in definitions.items():
        properties = schema.get("properties", {})
        if "series" in properties and name.endswith("Request"):
            properties["series"]["maxItems"] = limits["max_series"]
        if "horizon" in properties and name.endswith("Request"):
            properties["horizon"]["maximum"] = limits["max_horizon"]
        if "quantile_levels" in properties:
            properties["quantile_levels"].update(maxItems=limits["max_quantiles"], uniqueItems=True)
    for branch in definitions["Series"]["properties"]["covariates"]["anyOf"]:
        if branch.get("type") == "object":
            branch["maxProperties"] = limits["max_covariates"]


def openapi_document(version: str, limits: dict[str, int] | None = None) -> dict:
    """The document for this version and these limits (the app's configured ones)."""
    return _document(version, tuple(sorted((limits or schemas.LIMITS).items())))


@cache
def _document(version: str, limits: tuple[tuple[str, int], ...]) -> dict:
    """Build the document once per process and set of limits."""
    models = [(m, "validation") for _, _, _, m, _ in ENDPOINTS if m is not None]
    models += [(r, "serialization") for *_, r in ENDPOINTS] + [(schemas.Problem, "serialization")]
    _, definitions = models_json_schema(models, ref_template="#/components/schemas/{model}")
    _json_schema_keywords(definitions)
    _state_limits(definitions["$defs"], dict(limits))
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    paths: dict[str, dict] = {}
    for method, path, summary, request_model, response_model in ENDPOINTS:
        operation: dict = {
            "summary": summary,
            **({"description": CROSS_FIELD_RULES + OPERATION_RULES.get(path, "")} if request_model else {}),
            "operationId": path.strip("/").replace("/", "_") or "root",
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{response_model.__name__}"}}
                    },
                },
                **{
                    status: {"description": text, "content": {"application/problem+json": {"schema": problem_ref}}}
                    for status, text in _ERRORS.items()
                    if request_model is not None or status == "503"
                },
            },
        }
        if request_model is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{request_model.__name__}"}}},
            }
        paths[f"/api/v1{path}"] = {method: operation}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Chronos for Excel API",
            "version": version,
            "description": "Amazon Chronos-2 forecasts, anomaly detection and backtests for spreadsheet data.",
        },
        "paths": paths,
        "components": {"schemas": definitions["$defs"]},
    }
