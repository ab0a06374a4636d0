"""The REST API under ``/api/v1``: thin routes over the predictor and the pure helpers."""

from __future__ import annotations

import shutil
from typing import TypeVar

import numpy as np
from flask import Blueprint, Response, current_app, json, request, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.exceptions import BadRequest, Conflict, NotFound, UnsupportedMediaType

from . import __version__, adapters, calibration
from .anomalies import detect
from .backtest import run_backtests, summarize
from .jobs import Jobs, describe_adapter, describe_job
from .openapi import openapi_document
from .predictor import AdapterRef, Predictor, get_predictor
from .problems import InputError, problem
from .schemas import LIMITS, AdapterRequest, AnomaliesRequest, BacktestRequest, ForecastRequest, SeriesRequest
from .security import current_owner
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
    adapter = find_adapter(predictor, req.adapter)
    inputs = forecast_inputs(prepared, req.horizon, joint=req.joint)
    grid = predictor.quantile_grid(inputs, req.horizon, cross_learning=req.cross_learning, adapter=adapter)
    medians = predictor.median(grid)
    quantiles = predictor.levels(grid, req.quantile_levels)
    notes = calibrate_bands(predictor, req, prepared, medians, quantiles, adapter) if req.calibrate else None
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
            **({"calibration": notes[i]} if notes else {}),
        }
        for i, s in enumerate(prepared)
    ]
    return {"model": predictor.describe(adapter), "forecasts": forecasts}


def calibrate_bands(
    predictor: Predictor,
    req: ForecastRequest,
    prepared: list[PreparedSeries],
    medians: np.ndarray,
    quantiles: np.ndarray,
    adapter: AdapterRef | None,
) -> list[dict]:
    """Calibrate the forecasts' bands (``quantiles``, in place) on past windows of each series: all windows of
    all series in one batched call, apart from the forecasts' own (whose answer stays exactly the plain one)."""
    windows = calibration.plan(
        prepared,
        [[len(s.values)] for s in prepared],
        req.horizon,
        count=current_app.config["CALIBRATION_WINDOWS"],
        context=current_app.config["CALIBRATION_CONTEXT"],
        joint=req.joint,
    )
    grid = predictor.quantile_grid(
        windows.inputs, req.horizon, cross_learning=req.cross_learning, groups=windows.groups, adapter=adapter
    ) if windows.inputs else None  # fmt: skip
    return calibration.calibrate_forecasts(predictor, windows, grid, prepared, medians, quantiles, req.quantile_levels)


@bp.post("/anomalies")
def anomalies() -> dict:
    """Score every point of every series against a forecast made only from the points before it."""
    req = read_request(AnomaliesRequest)
    prepared = prepare(req, future_covariates=req.future_covariates)
    predictor = get_predictor()
    adapter = find_adapter(predictor, req.adapter)
    results = detect(
        predictor,
        prepared,
        level=req.level,
        min_context=req.min_context,
        last=req.last,
        block=current_app.config["ANOMALY_BLOCK"],
        context=current_app.config["ANOMALY_CONTEXT"],
        adapter=adapter,
    )
    return {"model": predictor.describe(adapter), "anomalies": results}


@bp.post("/backtest")
def backtest() -> dict:
    """Backtest the model on rolling windows of each series, against seasonal naive."""
    req = read_request(BacktestRequest)
    prepared = prepare(req, future_covariates=req.future_covariates)
    if req.joint:
        check_joint(prepared)
    predictor = get_predictor()
    adapter = find_adapter(predictor, req.adapter)
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
        adapter=adapter,
        calibrate=req.calibrate,
        calibration_windows=current_app.config["CALIBRATION_WINDOWS"],
        calibration_context=current_app.config["CALIBRATION_CONTEXT"],
    )
    return {"model": predictor.describe(adapter), "backtests": results, "summary": summarize(results)}


def get_jobs() -> Jobs:
    """The app's jobs and adapters."""
    return current_app.extensions["chronos_jobs"]


def find_adapter(predictor: Predictor, name: str | None) -> AdapterRef | None:
    """The caller's adapter of that name, ready for the loaded model (None for the base model)."""
    if name is None:
        return None
    predictor.quantiles  # noqa: B018 (503 while the model loads)
    jobs, owner = get_jobs(), current_owner()
    record = jobs.store.adapter(owner, name) if jobs.exists() else None
    if record is None:
        names = [a["name"] for a in jobs.store.adapters(owner)] if jobs.exists() else []
        listed = ", ".join(repr(n) for n in names[:20]) or "none yet: POST /api/v1/adapters makes one"
        raise InputError(("adapter",), f"there is no adapter named {name!r} (your adapters: {listed})")
    base = predictor.info["id"]
    if record["base_model"] != base:
        raise Conflict(
            f"adapter {name!r} was trained on {record['base_model']!r}, but this server runs {base!r}; "
            "an adapter runs only on the model it was trained from"
        )
    if predictor.info["dtype"] == "int8":
        raise Conflict(
            "this server runs the model in int8, which adapters cannot run on: serve it in float32 or bfloat16"
        )
    return AdapterRef(record["id"], name, str(jobs.adapters_dir / record["id"]))


@bp.post("/adapters")
def create_adapter() -> tuple[dict, int, dict]:
    """Start a job that fine-tunes the model (LoRA) on the series; 202 with the job, at its Location."""
    req = read_request(AdapterRequest)
    prepared = prepare(req, future_covariates=req.future_covariates)
    if req.joint:
        check_joint(prepared)
    adapters.check_trainable(prepared, req.horizon, req.validation_windows)
    predictor = get_predictor()
    predictor.quantiles  # noqa: B018 (503 while the model loads: the job trains from it)
    if predictor.info["dtype"] == "int8":
        raise Conflict(
            "this server runs the model in int8, which adapters cannot run on: serve it in float32 or bfloat16"
        )
    jobs, owner = get_jobs(), current_owner()
    taken = jobs.store.name_in_use(owner, req.name)
    if taken:
        raise Conflict(f"{taken}: choose another name, or DELETE /api/v1/adapters/{req.name} first")
    job = jobs.runner.start_adapter(owner, req, prepared, predictor)
    return describe_job(job, None), 202, {"Location": f"/api/v1/jobs/{job['id']}"}


def _owned_job(jobs: Jobs, job_id: str) -> dict:
    """The caller's job, or a 404 (another key's job is as if it did not exist)."""
    job = jobs.store.job(current_owner(), job_id) if jobs.exists() else None
    if job is None:
        raise NotFound(f"There is no job {job_id}.")
    return job


def _job_answer(jobs: Jobs, job: dict) -> dict:
    adapter = jobs.store.adapter_by_id(job["adapter_id"]) if job["state"] == "succeeded" else None
    return describe_job(job, adapter)


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> dict:
    """A training job: its state, progress and, once it has succeeded, the adapter."""
    jobs = get_jobs()
    return _job_answer(jobs, _owned_job(jobs, job_id))


@bp.delete("/jobs/<job_id>")
def cancel_job(job_id: str) -> dict:
    """Cancel a job: a queued one at once, a running one within 2 s; nothing of it is kept."""
    jobs = get_jobs()
    job = _owned_job(jobs, job_id)
    if job["state"] in ("succeeded", "failed"):
        raise Conflict(f"job {job_id} has {job['state']} already: there is nothing to cancel")
    return _job_answer(jobs, jobs.runner.cancel(current_owner(), job_id) or job)


@bp.get("/adapters")
def list_adapters() -> dict:
    """Your adapters, newest first."""
    jobs = get_jobs()
    records = jobs.store.adapters(current_owner()) if jobs.exists() else []
    return {"adapters": [describe_adapter(record) for record in records]}


@bp.get("/adapters/<name>")
def get_adapter(name: str) -> dict:
    """One of your adapters."""
    jobs = get_jobs()
    record = jobs.store.adapter(current_owner(), name) if jobs.exists() else None
    if record is None:
        raise NotFound(f"There is no adapter named {name!r}.")
    return describe_adapter(record)


@bp.delete("/adapters/<name>")
def delete_adapter(name: str) -> Response:
    """Delete one of your adapters and its weights."""
    jobs = get_jobs()
    record = jobs.store.delete_adapter(current_owner(), name) if jobs.exists() else None
    if record is None:
        raise NotFound(f"There is no adapter named {name!r}.")
    shutil.rmtree(jobs.adapters_dir / record["id"], ignore_errors=True)
    return Response(status=204)


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
