"""The REST API under ``/api/v1``: thin routes over the predictor and the pure helpers."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from flask import Blueprint, Response, current_app, json, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from . import __version__
from .anomalies import detect
from .backtest import run_backtests, summarize
from .openapi import openapi_document
from .predictor import get_predictor
from .problems import problem
from .schemas import LIMITS, AnomaliesRequest, BacktestRequest, ForecastRequest, SeriesRequest
from .series import PreparedSeries, check_joint, forecast_inputs, level_key, prepare_series

bp = Blueprint("api", __name__, url_prefix="/api/v1")

RequestModel = TypeVar("RequestModel", bound=SeriesRequest)


def read_request(model: type[RequestModel]) -> RequestModel:
    """Parse the JSON body and validate it against ``model`` with the configured limits."""
    # Excel's JavaScript-only formulas runtime may send only "simple" requests: JSON as text/plain.
    plain_text = request.mimetype == "text/plain"
    if not (request.is_json or plain_text):
        raise UnsupportedMediaType(
            f"Send the body as JSON with Content-Type: application/json (got {request.mimetype or 'none'})."
        )
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(f"Send the JSON body in UTF-8 (the Content-Type says charset={charset}).")
    try:
        body = json.loads(request.get_data())
    except RecursionError:
        raise BadRequest("The body nests arrays or objects too deeply to be a request.") from None
    except ValueError as exc:
        if plain_text:
            raise UnsupportedMediaType("Send the body as JSON (application/json, or JSON as text/plain).") from None
        raise BadRequest(f"The body is not valid JSON: {exc}") from None
    limits = {name: current_app.config[name.upper()] for name in LIMITS}
    return model.model_validate(body, context=limits)


def prepare(req: SeriesRequest, **kwargs) -> list[PreparedSeries]:
    """``prepare_series`` with the configured limit on filled timelines."""
    return prepare_series(req, max_filled_points=current_app.config["MAX_FILLED_POINTS"], **kwargs)


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
        "auth": "api_key" if current_app.extensions.get("chronos_api_keys") else "none",
        **(predictor.queue.status() if predictor.queue else {"queued": 0, "in_flight": 0}),
    }


@bp.post("/forecast")
def forecast() -> dict:
    """Forecast every series ``horizon`` steps ahead, with the requested quantiles."""
    req = read_request(ForecastRequest)
    prepared = prepare(req, horizon=req.horizon)
    if req.joint:
        check_joint(prepared)
    predictor = get_predictor()
    inputs = forecast_inputs(prepared, req.horizon, joint=req.joint)
    grid = predictor.quantile_grid(inputs, req.horizon, cross_learning=req.cross_learning)
    medians = predictor.median(grid)
    quantiles = predictor.levels(grid, req.quantile_levels)
    keys = [level_key(q) for q in req.quantile_levels]
    forecasts = [
        {
            "name": s.name,
            "frequency": s.timeline.frequency_alias,
            "timestamps": s.timeline.future(req.horizon),
            # numpy arrays straight to orjson (NaN as null): no list of Python floats per number
            "median": medians[i],
            "quantiles": {key: np.ascontiguousarray(quantiles[i, :, j]) for j, key in enumerate(keys)},
            "covariates": [c.describe() for c in s.covariates],
        }
        for i, s in enumerate(prepared)
    ]
    return {"model": predictor.describe(), "forecasts": forecasts}


@bp.post("/anomalies")
def anomalies() -> dict:
    """Score every point of every series against a forecast made only from the points before it."""
    req = read_request(AnomaliesRequest)
    prepared = prepare(req, future_covariates=req.future_covariates)
    predictor = get_predictor()
    results = detect(
        predictor,
        prepared,
        level=req.level,
        min_context=req.min_context,
        last=req.last,
        block=current_app.config["ANOMALY_BLOCK"],
        context=current_app.config["ANOMALY_CONTEXT"],
    )
    return {"model": predictor.describe(), "anomalies": results}


@bp.post("/backtest")
def backtest() -> dict:
    """Backtest the model on rolling windows of each series, against seasonal naive."""
    req = read_request(BacktestRequest)
    prepared = prepare(req, future_covariates=req.future_covariates)
    if req.joint:
        check_joint(prepared)
    predictor = get_predictor()
    results = run_backtests(
        predictor,
        prepared,
        horizon=req.horizon,
        windows=req.windows,
        step=req.step or req.horizon,
        quantile_levels=req.quantile_levels,
        level=req.level,
        seasonality=req.seasonality,
        joint=req.joint,
        cross_learning=req.cross_learning,
    )
    return {"model": predictor.describe(), "backtests": results, "summary": summarize(results)}


@bp.get("/openapi.json")
def openapi() -> dict:
    """The OpenAPI 3.1 document, generated from the request and response models."""
    return openapi_document(__version__, {name: current_app.config[name.upper()] for name in LIMITS})


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
