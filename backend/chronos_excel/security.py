"""Safe to share: optional API keys, cross-origin access only for listed origins, protective headers.

The pane is served from the API's own origin, so it needs no CORS. Without ``CORS_ORIGINS`` no other web
page can read the API's answers (a page the user visits cannot drive their local server).
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Flask, Response, g, request
from flask_cors import CORS

from .problems import problem
from .settings import api_keys

OPEN_PATHS = ("/api/v1/health", "/api/v1/openapi.json", "/api/v1/docs")
OFFICE_SCRIPTS = "https://appsforoffice.microsoft.com https://ajax.aspnetcdn.com"
# Excel on the web and the desktop webviews frame the pane from these hosts.
OFFICE_FRAMES = (
    "https://*.officeapps.live.com https://*.office.com https://*.office365.com https://*.officeppe.com "
    "https://*.microsoft.com https://*.sharepoint.com https://*.cloud.microsoft"
)
PANE_POLICY = (
    f"default-src 'self'; script-src 'self' {OFFICE_SCRIPTS}; style-src 'self' 'unsafe-inline'; "
    f"img-src 'self' data: {OFFICE_SCRIPTS}; connect-src 'self' {OFFICE_SCRIPTS} {OFFICE_FRAMES}; "
    f"frame-src 'self' {OFFICE_FRAMES}; frame-ancestors 'self' {OFFICE_FRAMES}; "
    "base-uri 'self'; form-action 'self'; object-src 'none'"
)


def owner_of(key: bytes) -> str:
    """Whose jobs and adapters a key sees: a hash of the key (the key itself is never stored)."""
    return hashlib.sha256(key).hexdigest()


def current_owner() -> str:
    """The owner of this request's jobs and adapters: its API key's hash, or "" (one shared namespace) on a
    server without keys."""
    return g.get("owner", "")


def init_app(app: Flask) -> None:
    """Register key checks, CORS for the listed origins only, and the headers of every response."""
    keys = [key.encode() for key in api_keys(app.config)]
    app.extensions["chronos_api_keys"] = len(keys)
    allowed = [origin.strip() for origin in app.config["CORS_ORIGINS"].split(",") if origin.strip()]
    if allowed:
        CORS(
            app,
            resources={r"/api/*": {"origins": allowed}},
            expose_headers=["X-Request-ID"],
            allow_headers=["Content-Type", "Authorization", "X-Request-ID"],
        )

    @app.before_request
    def _require_key() -> Response | None:
        if not keys or request.method == "OPTIONS" or not request.path.startswith("/api/"):
            return None
        if request.path.startswith(OPEN_PATHS):
            return None
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if not scheme and request.args.get("key"):  # Excel's formulas runtime cannot send Authorization
            scheme, given = "bearer", request.args["key"]
        if scheme.lower() != "bearer" or not given.strip():
            response = problem(
                401, "API key required", "This server needs an API key: send Authorization: Bearer <key>."
            )
            response.headers["WWW-Authenticate"] = 'Bearer realm="chronos"'
            return response
        candidate = given.strip().encode()
        matches = [hmac.compare_digest(candidate, key) for key in keys]  # all compared: constant time
        if any(matches):
            g.owner = owner_of(candidate)
        else:
            response = problem(401, "Invalid API key", "The API key sent is not one this server accepts.")
            response.headers["WWW-Authenticate"] = 'Bearer realm="chronos", error="invalid_token"'
            return response
        return None

    @app.after_request
    def _protective_headers(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if response.mimetype == "text/html" and request.path.startswith("/addin/"):
            response.headers["Content-Security-Policy"] = PANE_POLICY
        elif response.mimetype == "text/html":
            response.headers["Content-Security-Policy"] = "frame-ancestors 'self'"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        return response
