"""Safe to share: API keys, no cross-origin access unless listed, protective headers, only the pane's own
files under /addin/, and settings that are checked before the server starts."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from chronos_excel import create_app
from chronos_excel.settings import SettingsError, settings_from_env

from .helpers import assert_problem, series

FORECAST = {"series": [series([1.0, 2.0, 3.0])], "horizon": 2}


@pytest.fixture(scope="module")
def keyed(tiny_model_dir, tmp_path_factory):
    keys_file = tmp_path_factory.mktemp("keys") / "keys.txt"
    keys_file.write_text("# team keys\nfile-key-1\n\nfile-key-2\n")
    app = create_app(
        {"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "API_KEYS": "alpha, beta",
         "API_KEYS_FILE": str(keys_file)}
    )  # fmt: skip
    return app.test_client()


@pytest.mark.parametrize("path", ["/api/v1/forecast", "/api/v1/anomalies", "/api/v1/backtest"])
def test_without_a_key_the_api_answers_401_with_www_authenticate(keyed, path):
    response = keyed.post(path, json=FORECAST)
    body = assert_problem(response, 401, match="needs an API key")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert body["title"] == "API key required"


def test_a_wrong_key_is_a_401_that_says_so_and_never_echoes_it(keyed):
    response = keyed.post("/api/v1/forecast", json=FORECAST, headers={"Authorization": "Bearer gamma-secret"})
    assert_problem(response, 401, match="not one this server accepts")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "gamma-secret" not in response.get_data(as_text=True)


@pytest.mark.parametrize("key", ["alpha", "beta", "file-key-1", "file-key-2"])
def test_a_right_key_from_the_list_or_the_file_is_accepted(keyed, key):
    response = keyed.post("/api/v1/forecast", json=FORECAST, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/health", "/api/v1/openapi.json", "/api/v1/docs", "/addin/taskpane.html"])
def test_health_docs_and_the_pane_need_no_key(keyed, path):
    with keyed.get(path) as response:
        assert response.status_code == 200


def test_the_api_key_option_of_serve_sets_the_keys():
    from chronos_excel import cli

    args = cli.build_parser().parse_args(["serve", "--api-key", "k1", "--api-key", "k2"])
    assert cli._model_settings(args)["API_KEYS"] == "k1,k2"


def test_no_cross_origin_access_by_default(client):
    response = client.post("/api/v1/forecast", json=FORECAST, headers={"Origin": "https://evil.example"})
    assert response.status_code == 200  # a same-machine client such as curl still works
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options(
        "/api/v1/forecast", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_listed_origins_only(tiny_model_dir):
    app = create_app(
        {"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "CORS_ORIGINS": "https://good.example"}
    )
    client = app.test_client()
    good = client.post("/api/v1/forecast", json=FORECAST, headers={"Origin": "https://good.example"})
    assert good.headers["Access-Control-Allow-Origin"] == "https://good.example"
    evil = client.post("/api/v1/forecast", json=FORECAST, headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in evil.headers


@pytest.mark.parametrize("path", ["/api/v1/health", "/addin/taskpane.html", "/addin/taskpane.js", "/api/v1/nope"])
def test_every_response_carries_the_protective_headers(client, path):
    with client.get(path) as response:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_the_pane_pages_have_a_content_security_policy_that_lets_office_frame_them(client):
    with client.get("/addin/taskpane.html") as response:
        policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"].split() == ["'self'", "https://appsforoffice.microsoft.com",
                                                "https://ajax.aspnetcdn.com"]  # fmt: skip
    ancestors = directives["frame-ancestors"].split()
    assert "'self'" in ancestors and "https://*.officeapps.live.com" in ancestors and "*" not in ancestors


def test_hsts_when_serving_https(client):
    response = client.get("/api/v1/health", base_url="https://localhost:8000")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("path", ["/addin/__init__.py", "/addin/../backend/chronos_excel/app.py", "/addin/x.pyc"])
def test_addin_serves_only_the_panes_own_file_types(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("environ", "match"),
    [
        ({"CHRONOS_MAX_SERIES": "lots"}, "CHRONOS_MAX_SERIES='lots' is not valid: expected a whole number of at"),
        ({"CHRONOS_MAX_HORIZON": "0"}, "CHRONOS_MAX_HORIZON='0' is not valid"),
        ({"CHRONOS_DEVICE": "tpu"}, "CHRONOS_DEVICE='tpu' is not valid: expected one of auto, cpu, cuda"),
        ({"CHRONOS_LOAD_IN_BACKGROUND": "perhaps"}, "expected true or false"),
        ({"CHRONOS_CORS_ORIGINS": "*"}, "'*' is not an origin"),
        ({"CHRONOS_API_KEYS_FILE": "/no/such/keys.txt"}, "expected the path of an existing file"),
    ],
)  # fmt: skip
def test_a_bad_setting_names_the_variable_the_value_and_what_is_allowed(environ, match):
    with pytest.raises(SettingsError, match=match.replace("*", r"\*")):
        settings_from_env(environ)


def test_an_unknown_chronos_variable_is_warned_about(caplog):
    with caplog.at_level(logging.WARNING):
        settings = settings_from_env({"CHRONOS_MAX_SERIE": "5", "CHRONOS_MAX_SERIES": "5"})
    assert settings == {"MAX_SERIES": 5}
    assert "CHRONOS_MAX_SERIE:" in caplog.text or "ignoring CHRONOS_MAX_SERIE" in caplog.text


def test_serve_stops_on_a_bad_setting_before_starting():
    result = subprocess.run(
        [sys.executable, "-m", "chronos_excel.cli", "serve", "--port", "1"],
        env={"CHRONOS_MAX_SERIES": "-3", "PATH": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "CHRONOS_MAX_SERIES='-3' is not valid" in result.stderr


def test_health_says_whether_a_key_is_needed(client, keyed):
    assert client.get("/api/v1/health").get_json()["auth"] == "none"
    assert keyed.get("/api/v1/health").get_json()["auth"] == "api_key"


def test_formulas_can_send_the_key_as_a_query_parameter_and_json_as_text(keyed):
    # Excel's JavaScript-only formulas runtime allows only "simple" requests: no Authorization header,
    # no application/json
    data = '{"series": [{"values": [1, 2, 3]}], "horizon": 2}'
    response = keyed.post("/api/v1/forecast?key=alpha", data=data, content_type="text/plain;charset=utf-8")
    assert response.status_code == 200
    wrong = keyed.post("/api/v1/forecast?key=nope", data=data, content_type="text/plain;charset=utf-8")
    assert_problem(wrong, 401)
