"""The Flask app factory."""

from __future__ import annotations

import logging
import os
import uuid
from importlib.resources import files
from typing import Any

from flask import Flask, Response, g, redirect, request, send_from_directory
from flask_cors import CORS

from . import predictor
from .api import bp as api_bp
from .problems import register_error_handlers

log = logging.getLogger(__name__)

# Every setting, its default, and the environment variable (CHRONOS_<NAME>) that overrides it.
DEFAULTS: dict[str, Any] = {
    "MODEL": predictor.DEFAULT_MODEL,
    "DEVICE": "auto",
    "DTYPE": "auto",
    "BATCH_SIZE": 256,
    "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
    "MAX_SERIES": 1000,
    "MAX_HORIZON": 1024,
    "MAX_COVARIATES": 50,
    "ANOMALY_BLOCK": 16,
    "ANOMALY_CONTEXT": 256,
    "LOAD_IN_BACKGROUND": False,
    "CORS_ORIGINS": "*",
}


def settings_from_env(environ: os._Environ | dict = os.environ) -> dict[str, Any]:
    """Read ``CHRONOS_<SETTING>`` variables, typed like their defaults."""
    found: dict[str, Any] = {}
    for name, default in DEFAULTS.items():
        raw = environ.get(f"CHRONOS_{name}")
        if raw is None:
            continue
        if isinstance(default, bool):
            found[name] = raw.strip().lower() in ("1", "true", "yes", "on")
        elif isinstance(default, int):
            found[name] = int(raw)
        else:
            found[name] = raw
    return found


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app: defaults, then ``CHRONOS_*`` environment variables, then ``test_config``."""
    app = Flask(__name__, static_folder=None)
    app.config.from_mapping(DEFAULTS)
    app.config.update(settings_from_env())
    if test_config:
        app.config.update(test_config)
    app.json.sort_keys = False  # keep series and quantile keys in the order they were asked for
    register_error_handlers(app)
    app.register_blueprint(api_bp)
    CORS(app, resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}}, expose_headers=["X-Request-ID"])
    addin_dir = str(files("chronos_excel.addin"))

    @app.before_request
    def _tag_request() -> None:
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    @app.get("/addin/<path:filename>")
    def addin(filename: str) -> Response:
        """The Excel task pane's files."""
        response = send_from_directory(addin_dir, filename)
        response.headers["Cache-Control"] = "no-cache"  # Office's webview otherwise keeps stale pane files
        return response

    @app.get("/")
    def index() -> Response:
        """The API explorer is the front page."""
        return redirect("/api/v1/docs")

    predictor.init_app(app)
    return app
