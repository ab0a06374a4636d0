"""Every error the API returns is an RFC 9457 problem (``application/problem+json``) built here."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from flask import Flask, Response, g, json, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class InputError(ValueError):
    """Input the user must fix, located like a pydantic error: ``("series", 0, "timestamps", 17)``."""

    def __init__(self, loc: Sequence[str | int], msg: str) -> None:
        super().__init__(msg)
        self.loc = list(loc)
        self.msg = msg


class ModelUnavailable(RuntimeError):
    """The model is still loading or failed to load."""


class StoreUnavailable(RuntimeError):
    """The database of jobs and adapters cannot be reached."""


class ModelBusy(RuntimeError):
    """The model's queue is full (or a request waited past its deadline): try again after ``retry_after`` s."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ClientGone(RuntimeError):
    """The client closed the connection while its request waited for the model: nobody reads the answer."""


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    """Build a ``application/problem+json`` response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def validation_problem(errors: list[dict[str, Any]]) -> Response:
    """A 422 listing each problem with its location (0-based indices) and message."""
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    detail = f"{where}: {first['msg']}" if where else first["msg"]
    if len(errors) > 1:
        detail += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return problem(422, "Invalid request", detail, errors=errors)


def pydantic_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as ``{"loc", "msg"}`` pairs. A single offending value is quoted ("…, got 5000");
    lists and objects (possibly huge) are not echoed."""
    return [{"loc": list(err["loc"]), "msg": _with_found(err)} for err in exc.errors(include_url=False)]


# pydantic writes a float bound that is a whole number as an integer (1e300 as 301 digits): write it as given
_BOUNDS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}
_BOUND_WORDS = {
    "gt": "greater than",
    "ge": "greater than or equal to",
    "lt": "less than",
    "le": "less than or equal to",
}


def _number(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _with_found(err: dict[str, Any]) -> str:
    msg, found = err["msg"], err.get("input")
    bound = _BOUNDS.get(err["type"])
    if bound and bound in err.get("ctx", {}):
        msg = f"Input should be {_BOUND_WORDS[bound]} {_number(err['ctx'][bound])}"
    if err["type"] == "missing" or "got " in msg or not isinstance(found, str | int | float | bool | None):
        return msg
    shown = _number(found) if isinstance(found, float) else json.dumps(found)
    return f"{msg}, got {shown if len(shown) <= 80 else shown[:77] + '...'}"


def register_error_handlers(app: Flask) -> None:
    """Make every error, expected or not, a problem+json response."""

    @app.errorhandler(InputError)
    def _input_error(exc: InputError) -> Response:
        return validation_problem([{"loc": exc.loc, "msg": exc.msg}])

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError) -> Response:
        return validation_problem(pydantic_errors(exc))

    @app.errorhandler(ModelBusy)
    def _model_busy(exc: ModelBusy) -> Response:
        response = problem(503, "Model busy", str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(ClientGone)
    def _client_gone(exc: ClientGone) -> Response:
        # nginx's "client closed request": nobody reads it, but the access log shows what happened
        return problem(499, "Client closed request", str(exc))

    @app.errorhandler(ModelUnavailable)
    def _model_unavailable(exc: ModelUnavailable) -> Response:
        return problem(503, "Model unavailable", str(exc))

    @app.errorhandler(StoreUnavailable)
    def _store_unavailable(exc: StoreUnavailable) -> Response:
        response = problem(503, "Database unavailable", str(exc))
        response.headers["Retry-After"] = "10"
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = problem(status, exc.name, exc.description or exc.name)
        if status == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        request_id = g.get("request_id") or uuid.uuid4().hex
        log.exception("request %s failed: %s %s", request_id, request.method, request.path)
        return problem(
            500,
            "Internal Server Error",
            f"The server failed to answer this request. Quote request id {request_id} when reporting it.",
            request_id=request_id,
        )
