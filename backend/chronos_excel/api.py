"""The REST API under ``/api/v1``: thin routes over the predictor and the pure helpers."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from flask import Blueprint, Response, current_app, json, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from . import __version__
from .openapi import openapi_document
from .predictor import get_predictor
from .problems import problem
from .schemas import ForecastRequest, SeriesRequest
from .series import prepare_series

bp = Blueprint("api", __name__, url_prefix="/api/v1")

RequestModel = TypeVar("RequestModel", bound=SeriesRequest)


def read_request(model: type[RequestModel]) -> RequestModel:
    """Parse the JSON body and validate it against ``model`` with the configured limits."""
    if not request.is_json:
        raise UnsupportedMediaType(
            f"Send the body as JSON with Content-Type: application/json (got {request.mimetype or 'none'})."
        )
    try:
        body = json.loads(request.get_data())
    except ValueError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}") from None
    limits = {
        "max_series": current_app.config["MAX_SERIES"],
        "max_horizon": current_app.config["MAX_HORIZON"],
    }
    return model.model_validate(body, context=limits)


def finite(values: np.ndarray) -> list:
    """A JSON-safe list: NaN and infinities become null."""
    if np.isfinite(values).all():
        return values.tolist()
    return [float(v) if np.isfinite(v) else None for v in values]


def level_key(level: float) -> str:
    """Quantile keys are written like Python's ``str(float)``: 0.1 -> "0.1"."""
    return str(float(level))


@bp.get("/health")
def health() -> Response | dict:
    """Say whether the model is loaded, and which."""
    predictor = get_predictor()
    if predictor.state != "ready":
        return problem(503, "Model unavailable", predictor.reason, state=predictor.state)
    return {
        "status": "ok",
        "version": __version__,
        "model": predictor.info,
        "fallback": predictor.fallback_reason is not None,
        "fallback_reason": predictor.fallback_reason,
    }


@bp.post("/forecast")
def forecast() -> dict:
    """Forecast every series ``horizon`` steps ahead, with the requested quantiles."""
    req = read_request(ForecastRequest)
    prepared = prepare_series(req)
    predictor = get_predictor()
    grid = predictor.quantile_grid([s.values for s in prepared], req.horizon)
    medians = predictor.median(grid)
    quantiles = predictor.levels(grid, req.quantile_levels)
    keys = [level_key(q) for q in req.quantile_levels]
    forecasts = [
        {
            "name": s.name,
            "frequency": s.timeline.frequency_alias,
            "timestamps": s.timeline.future(req.horizon),
            "median": finite(medians[i]),
            "quantiles": {key: finite(quantiles[i, :, j]) for j, key in enumerate(keys)},
        }
        for i, s in enumerate(prepared)
    ]
    return {"model": predictor.describe(), "forecasts": forecasts}


@bp.get("/openapi.json")
def openapi() -> dict:
    """The OpenAPI 3.1 document, generated from the request and response models."""
    return openapi_document(__version__)


@bp.get("/docs")
def docs() -> Response:
    """An interactive API explorer (Swagger UI served from this app: works offline)."""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chronos for Excel API {__version__}</title>
<link rel="stylesheet" href="docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({{url: "openapi.json", dom_id: "#swagger-ui"}});</script>
</body></html>"""
    return Response(page, mimetype="text/html")


@bp.get("/docs/assets/<path:filename>")
def docs_assets(filename: str) -> Response:
    """Swagger UI's own files, shipped in the ``swagger-ui-bundle-v2`` package."""
    return send_from_directory(swagger_ui_path, filename)
