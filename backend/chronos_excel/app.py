"""The Flask app factory."""

from __future__ import annotations

import logging
import uuid
from importlib.resources import files
from pathlib import PurePosixPath
from typing import Any

import orjson
from flask import Flask, Response, g, redirect, request, send_from_directory
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import NotFound

from . import jobs, predictor, security
from .api import bp as api_bp
from .batching import client_gone, watch_client
from .problems import register_error_handlers
from .settings import DEFAULTS, SettingsError, settings_from_env

__all__ = ["DEFAULTS", "SettingsError", "create_app", "settings_from_env"]

log = logging.getLogger(__name__)

PANE_FILE_TYPES = {".html", ".js", ".css", ".png", ".svg", ".json", ".xml"}
ORJSON_OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


class JSONProvider(DefaultJSONProvider):
    """Answers are written by orjson, as bytes straight from the objects: a 5-million-number answer costs
    about its own size (~100 MB) instead of the standard library's list of chunks (~600 MB), and NaN or
    Infinity can only come out as null. Requests are still read by the standard library."""

    sort_keys = False  # keep series and quantile keys in the order they were asked for

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        try:
            return orjson.dumps(obj, option=ORJSON_OPTIONS).decode()
        except TypeError:  # what orjson cannot write (an integer past 64 bits): the standard library can
            return super().dumps(obj, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        try:
            body = orjson.dumps(obj, option=ORJSON_OPTIONS)
        except TypeError:
            body = super().dumps(obj).encode()
        return self._app.response_class(body + b"\n", mimetype=self.mimetype)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create the app: defaults, then ``CHRONOS_*`` environment variables, then ``test_config``.

    Raises ``SettingsError`` naming a ``CHRONOS_*`` variable whose value is not allowed.
    """
    app = Flask(__name__, static_folder=None)
    app.json = JSONProvider(app)
    app.config.from_mapping(DEFAULTS)
    app.config.update(settings_from_env())
    if test_config:
        app.config.update(test_config)
    register_error_handlers(app)
    app.register_blueprint(api_bp)
    addin_dir = str(files("chronos_excel.addin"))

    @app.before_request
    def _tag_request() -> None:
        g.request_id = request.headers.get("X-Request-ID") or uuid.uuid4().hex
        g.client_watch = client_gone.set(watch_client(request.environ))

    @app.teardown_request
    def _stop_watching(_exc: BaseException | None) -> None:
        if "client_watch" in g:
            client_gone.reset(g.client_watch)

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    security.init_app(app)  # after the request id is set: a 401 carries one too

    @app.get("/addin/<path:filename>")
    def addin(filename: str) -> Response:
        """The Excel task pane's files (its own file types only: no Python source)."""
        if PurePosixPath(filename).suffix.lower() not in PANE_FILE_TYPES:
            raise NotFound(f"/addin/{filename} is not a file of the task pane.")
        response = send_from_directory(addin_dir, filename)
        response.headers["Cache-Control"] = "no-cache"  # Office's webview otherwise keeps stale pane files
        return response

    @app.get("/")
    def index() -> Response:
        """The API explorer is the front page."""
        return redirect("/api/v1/docs")

    predictor.init_app(app)
    jobs.init_app(app)
    return app
