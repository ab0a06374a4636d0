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


@cache
def openapi_document(version: str) -> dict:
    """Build the document once per process."""
    models = [(m, "validation") for _, _, _, m, _ in ENDPOINTS if m is not None]
    models += [(r, "serialization") for *_, r in ENDPOINTS] + [(schemas.Problem, "serialization")]
    _, definitions = models_json_schema(models, ref_template="#/components/schemas/{model}")
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    paths: dict[str, dict] = {}
    for method, path, summary, request_model, response_model in ENDPOINTS:
        operation: dict = {
            "summary": summary,
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
