"""The OpenAPI 3.1 document, generated from the pydantic models that validate requests."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import schemas

# (method, path, summary, request model, response model, success status)
ENDPOINTS: list[tuple[str, str, str, type[BaseModel] | None, type[BaseModel] | None, str]] = [
    ("get", "/health", "Whether the model is loaded, and which", None, schemas.Health, "200"),
    (
        "post",
        "/forecast",
        "Forecast series with quantile bands",
        schemas.ForecastRequest,
        schemas.ForecastResponse,
        "200",
    ),
    (
        "post",
        "/anomalies",
        "Flag unusual points of the whole history",
        schemas.AnomaliesRequest,
        schemas.AnomaliesResponse,
        "200",
    ),
    (
        "post",
        "/backtest",
        "Rolling-origin backtest against seasonal naive",
        schemas.BacktestRequest,
        schemas.BacktestResponse,
        "200",
    ),
    (
        "post",
        "/adapters",
        "Adapt the model to your data: start a fine-tuning job (202, its Location)",
        schemas.AdapterRequest,
        schemas.Job,
        "202",
    ),
    ("get", "/adapters", "Your adapters, newest first", None, schemas.AdapterList, "200"),
    ("get", "/adapters/{name}", "One of your adapters", None, schemas.Adapter, "200"),
    ("delete", "/adapters/{name}", "Delete one of your adapters and its weights", None, None, "204"),
    ("get", "/jobs/{job_id}", "A training job: state, progress, result", None, schemas.Job, "200"),
    ("delete", "/jobs/{job_id}", "Cancel a job: queued at once, running within 2 s", None, schemas.Job, "200"),
]

_ERRORS = {
    "400": "The body is not valid JSON",
    "413": "The body is larger than the configured limit",
    "415": "The body is not JSON",
    "422": "The request is invalid; `errors` lists each problem with its location",
    "503": "The model is loading or failed to load (or, for a training job, too many jobs wait: see Retry-After)",
}
_FOUND = {"404": "There is no such job or adapter (or it belongs to another API key)"}
_CONFLICT = {
    "409": "The adapter's name is taken, the adapter was trained on another model, or the job has ended already"
}
_CONFLICTS = {
    ("post", "/adapters"),  # the name is taken
    ("delete", "/jobs/{job_id}"),  # the job has ended
    ("post", "/forecast"),  # the adapter was trained on another model
    ("post", "/anomalies"),
    ("post", "/backtest"),
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
    "/adapters": (
        "\n- Each series holds `validation_windows` windows of `horizon` points, then at least `horizon` + "
        "max(`horizon`, 16) points to train on.\n- The series hold at most train_max_points (200,000) points together."
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
        if "steps" in properties and name == "AdapterRequest":
            properties["steps"]["maximum"] = limits["train_max_steps"]
        if "quantile_levels" in properties:
            properties["quantile_levels"].update(maxItems=limits["max_quantiles"], uniqueItems=True)
    for branch in definitions["Series"]["properties"]["covariates"]["anyOf"]:
        if branch.get("type") == "object":
            branch["maxProperties"] = limits["max_covariates"]


def openapi_document(version: str, limits: dict[str, int] | None = None) -> dict:
    """The document for this version and these limits (the app's configured ones)."""
    return _document(version, tuple(sorted((limits or schemas.LIMITS).items())))


def _operation(
    method: str,
    path: str,
    summary: str,
    request_model: type[BaseModel] | None,
    response_model: type[BaseModel] | None,
    status: str,
) -> dict:
    """One operation: its answer, its problems, its body and its path parameters."""
    problem = {"content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    success: dict = {"description": {"200": "OK", "202": "Accepted", "204": "No Content"}[status]}
    if response_model is not None:
        success["content"] = {
            "application/json": {"schema": {"$ref": f"#/components/schemas/{response_model.__name__}"}}
        }
    if status == "202":
        success["headers"] = {"Location": {"description": "The job's URL", "schema": {"type": "string"}}}
    errors = {code: text for code, text in _ERRORS.items() if request_model is not None or code == "503"}
    if "{" in path:
        errors.update(_FOUND)
    if (method, path) in _CONFLICTS:
        errors.update(_CONFLICT)
    operation: dict = {
        "summary": summary,
        "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "responses": {status: success, **{code: {"description": text, **problem} for code, text in errors.items()}},
    }
    if request_model is not None:
        operation["description"] = CROSS_FIELD_RULES + OPERATION_RULES.get(path, "")
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{request_model.__name__}"}}},
        }
    parameters = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    if parameters:
        operation["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in parameters
        ]
    return operation


@cache
def _document(version: str, limits: tuple[tuple[str, int], ...]) -> dict:
    """Build the document once per process and set of limits."""
    models = [(m, "validation") for _, _, _, m, _, _ in ENDPOINTS if m is not None]
    models += [(r, "serialization") for *_, r, _ in ENDPOINTS if r is not None] + [(schemas.Problem, "serialization")]
    _, definitions = models_json_schema(models, ref_template="#/components/schemas/{model}")
    _json_schema_keywords(definitions)
    _state_limits(definitions["$defs"], dict(limits))
    paths: dict[str, dict] = {}
    for method, path, summary, request_model, response_model, status in ENDPOINTS:
        paths.setdefault(f"/api/v1{path}", {})[method] = _operation(
            method, path, summary, request_model, response_model, status
        )
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
