"""The CHRONOS.* worksheet functions (addin/functions.js) in Chromium, called as Excel calls them.

The functions page is served by the real app under its Content-Security-Policy; Office's custom-functions
runtime is replaced by a fake (``associate``, ``Error``, ``ErrorCode``) served from the runtime's real
address, and ``excelCall(name, ...args)`` calls a function with 2-D arrays as Excel does. Results are
compared with the API's answers for the same data; requests are counted as they leave the page."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect
from werkzeug.serving import make_server

from chronos_excel import create_app
from tests.pane_helpers import months, open_pane, serial, watch_csp

pytest_plugins = ["tests.pane_fixtures"]

RUNTIME_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/custom-functions-runtime.js"
FAKE_RUNTIME = """
(() => {
  const registry = {};
  class CustomError { constructor(code, message) { this.code = code; this.message = message; } }
  const ErrorCode = { invalidValue: "#VALUE!", notAvailable: "#N/A", invalidNumber: "#NUM!",
    divisionByZero: "#DIV/0!", nullReference: "#NULL!", invalidName: "#NAME?", invalidReference: "#REF!" };
  window.CustomFunctions = { associate: (id, f) => { registry[id] = f; }, Error: CustomError, ErrorCode };
  // Excel's side: omitted optional arguments arrive as null; an error comes back as {error, message}.
  window.excelCall = async (id, args) => {
    try {
      return { value: await registry[id](...args) };
    } catch (e) {
      if (e instanceof CustomError) return { error: e.code, message: e.message || "" };
      return { thrown: String(e) };
    }
  };
  window.excelRegistered = () => Object.keys(registry).sort();
})();
"""
N = 36
DAYS = months(date(2022, 1, 1), N)
TIMELINE = [[serial(d)] for d in DAYS]
VALUES = [[100 + 10 * (k % 12) + k] for k in range(N)]


def column(xs: list[Any]) -> list[list[Any]]:
    return [[x] for x in xs]


class Functions:
    """The functions page: ``call`` one function, ``gather`` many at once, ``requests`` sent to the API."""

    def __init__(self, page: Page, requests: list[dict]):
        self.page = page
        self.requests = requests

    def call(self, name: str, *args: Any) -> dict:
        return self.page.evaluate("([n, a]) => excelCall(n, a)", [name, list(args)])

    def gather(self, calls: list[tuple[str, list[Any]]]) -> list[dict]:
        """Start every call in the same tick, as Excel does during a recalculation; await them all."""
        return self.page.evaluate("(calls) => Promise.all(calls.map(([n, a]) => excelCall(n, a)))", calls)


def open_functions(browser: Browser, live_server: str, storage: dict | None = None, api=None) -> Iterator[Functions]:
    context = browser.new_context()
    requests: list[dict] = []

    def network(route: Route) -> None:
        url = route.request.url
        if url == RUNTIME_JS:
            route.fulfill(status=200, content_type="text/javascript", body=FAKE_RUNTIME)
        elif "/api/v1/" in url:
            requests.append({"url": url, "body": json.loads(route.request.post_data or "null"),
                             "headers": route.request.headers})  # fmt: skip
            (api or Route.continue_)(route)
        elif url.startswith("http://127.0.0.1"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", network)
    if storage is not None:
        context.add_init_script(
            f"window.OfficeRuntime = {{storage: {{getItem: async (k) => ({json.dumps(storage)})[k] ?? null}}}};"
        )
    page = context.new_page()
    violations = watch_csp(context, page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server}/addin/functions.html")
    yield Functions(page, requests)
    context.close()
    assert not errors, f"uncaught errors in the functions page: {errors}"
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def fx(browser: Browser, live_server: str) -> Iterator[Functions]:
    yield from open_functions(browser, live_server)


def api(client, path: str, body: dict) -> dict:
    response = client.post(f"/api/v1/{path}", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def series(values=VALUES, timeline=TIMELINE) -> dict:
    return {"values": [r[0] for r in values], "timestamps": [r[0] for r in timeline]}


def test_every_function_is_registered(fx):
    assert fx.page.evaluate("excelRegistered()") == ["ANOMALIES", "BACKTEST", "FORECAST", "FORECAST.AT", "INTERVAL"]


def test_forecast_spills_the_apis_median_and_quantile(fx, client):
    expected = api(client, "forecast", {"series": [series()], "horizon": 12, "quantile_levels": [0.5]})
    result = fx.call("FORECAST", VALUES, TIMELINE, None, None)["value"]  # monthly: 12 steps by default
    assert [r[0] for r in result] == pytest.approx(expected["forecasts"][0]["median"], rel=1e-6)
    assert all(len(r) == 1 for r in result)  # a column
    # a quantile's band is calibrated on the series' history by default (on 16-step windows: the formulas ask
    # for whole patches), and is the model's own with calibrate FALSE
    body = {"series": [series()], "horizon": 16, "quantile_levels": [0.9]}
    for flag, calibrate in ((None, True), (True, True), (False, False)):
        expected = api(client, "forecast", {**body, "calibrate": calibrate})["forecasts"][0]["quantiles"]["0.9"][:3]
        result = fx.call("FORECAST", VALUES, TIMELINE, 3, 0.9, None, flag)["value"]
        assert [r[0] for r in result] == pytest.approx(expected, rel=1e-6), flag


def test_forecast_without_timeline_numbers_the_steps(fx, client):
    expected = api(client, "forecast", {"series": [{"values": [r[0] for r in VALUES]}], "horizon": 10,
                                        "quantile_levels": [0.5]})  # fmt: skip
    result = fx.call("FORECAST", VALUES, None, None, None)["value"]
    assert [r[0] for r in result] == pytest.approx(expected["forecasts"][0]["median"], rel=1e-6)


def test_interval_is_forecast_lower_upper_calibrated_unless_told_not(fx, client):
    body = {"series": [series()], "horizon": 16, "quantile_levels": [0.1, 0.5, 0.9]}
    for flag, calibrate in ((None, True), (False, False)):
        q = api(client, "forecast", {**body, "calibrate": calibrate})["forecasts"][0]["quantiles"]
        rows = fx.call("INTERVAL", VALUES, TIMELINE, 4, None, None, flag)["value"]
        assert rows == [pytest.approx([q["0.5"][i], q["0.1"][i], q["0.9"][i]], rel=1e-6) for i in range(4)], flag
    assert (
        fx.call("INTERVAL", VALUES, TIMELINE, 4, None, None, "yes")["message"]
        == "calibrate must be TRUE or FALSE; got yes."
    )


def test_date_text_reads_as_in_the_pane(fx, client):
    text = column([f"{d:%Y/%m/%d}" for d in DAYS])  # slashes: the pane's reading, not the API's
    expected = api(client, "forecast", {"series": [series()], "horizon": 3, "quantile_levels": [0.5]})
    result = fx.call("FORECAST", VALUES, text, 3, None)["value"]
    assert [r[0] for r in result] == pytest.approx(expected["forecasts"][0]["median"], rel=1e-6)


def test_forecast_at_reads_target_dates_like_forecast_ets(fx, client):
    expected = api(client, "forecast", {"series": [series()], "horizon": 3, "quantile_levels": [0.5]})
    median = expected["forecasts"][0]["median"]
    ahead = months(date(2025, 1, 1), 3)
    targets = [[serial(ahead[0]), serial(ahead[2])]]  # a row of two target dates: a row back
    assert fx.call("FORECAST.AT", targets, VALUES, TIMELINE, None) == {
        "value": [pytest.approx([median[0], median[2]], rel=1e-6)]
    }
    texts = [["2025-01-01"], ["2025-03-01"]]  # a column of date text: a column back
    assert fx.call("FORECAST.AT", texts, VALUES, TIMELINE, None) == {
        "value": [[pytest.approx(median[0], rel=1e-6)], [pytest.approx(median[2], rel=1e-6)]]
    }


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (serial(date(2025, 1, 15)), "is not on the timeline's frequency"),  # mid-month on a monthly timeline
        (serial(date(2024, 6, 1)), "target_date 2024-06-01 is not after the timeline's end"),  # in the history
    ],
)
def test_forecast_at_a_date_off_the_timeline_is_num(fx, target, message):
    result = fx.call("FORECAST.AT", [[target]], VALUES, TIMELINE, None)
    assert result["error"] == "#NUM!" and message in result["message"]


def test_anomalies_give_one_flag_per_value_in_the_same_shape(fx, client):
    values = [10 + (k % 3) for k in range(48)]
    values[44] = 60  # a spike among the scored points (from the 33rd on)
    expected = api(client, "anomalies", {"series": [{"values": values}], "level": 0.95})
    flags = ["" if f is None else f for f in expected["anomalies"][0]["is_anomaly"]]
    assert flags[:32] == [""] * 32 and all(isinstance(f, bool) for f in flags[32:])
    assert fx.call("ANOMALIES", [values], None, None) == {"value": [flags]}  # a row in, a row out
    assert fx.call("ANOMALIES", column(values), None, None) == {"value": column(flags)}


def test_the_servers_limit_on_the_anomaly_level_is_value(fx):
    result = fx.call("ANOMALIES", VALUES, TIMELINE, 0.99)
    assert result["error"] == "#VALUE!" and "level" in result["message"] and "0.98" in result["message"]


@pytest.mark.parametrize(
    ("metric", "pick"),
    [
        (None, lambda b: b["metrics"]["MASE"]),  # MASE by default
        ("rmse", lambda b: b["metrics"]["RMSE"]),  # any case
        ("skill", lambda b: b["skill"]),  # against the seasonal-naive baseline
    ],
)
def test_backtest_returns_the_apis_metric(fx, client, metric, pick):
    expected = api(client, "backtest", {"series": [series()], "horizon": 3, "windows": 2})
    result = fx.call("BACKTEST", VALUES, TIMELINE, 3, 2, metric)
    assert result == {"value": pytest.approx(pick(expected["backtests"][0]), rel=1e-6)}


@pytest.mark.parametrize(
    ("name", "args", "message"),
    [
        ("FORECAST", [[[1, 2], [3, 4]], None, None, None], "values must be a single row or column; found 2 rows × 2"),
        ("FORECAST", [VALUES, TIMELINE[1:], None, None], f"timeline has {N - 1} dates for {N} values"),
        ("FORECAST", [VALUES, TIMELINE, 0, None], "horizon must be a whole number from 1 to 1024; got 0"),
        ("INTERVAL", [VALUES, TIMELINE, 3, 1.5], "level must be a number between 0 and 1; got 1.5"),
        ("FORECAST", [[["a"], [2]], None, None, None], "values must be numbers; found the text 'a' at position 1"),
        ("BACKTEST", [VALUES, None, None, None, None], "horizon is required"),
        ("FORECAST", [VALUES, column(["soon"] * N), 3, None], "timeline at position 1 must be a date (an Excel date"),
        ("FORECAST.AT", [[["x"]], VALUES, TIMELINE, None], "target_date must be a date (an Excel date, or text"),
        ("BACKTEST", [VALUES, None, 3, None, "R2"], "metric must be one of MASE, MAE"),
    ],
)
def test_a_bad_argument_is_value_naming_it(fx, name, args, message):
    result = fx.call(name, *args)
    assert result["error"] == "#VALUE!" and message in result["message"]
    assert not fx.requests  # refused before any request


LEAP_1900 = column(range(40, 40 + N))  # daily serials through 60, Excel's 29 February 1900, which the API refuses


def test_the_servers_422_is_value_with_its_message(fx, client):
    body = {"series": [{"values": [r[0] for r in VALUES], "timestamps": [r[0] for r in LEAP_1900]}], "horizon": 3}
    (error,) = client.post("/api/v1/forecast", json=body).get_json()["errors"]
    result = fx.call("FORECAST", VALUES, LEAP_1900, 3, None)
    assert result["error"] == "#VALUE!" and error["msg"] in result["message"]


def test_a_422_for_one_series_fails_only_its_cells(fx, client):
    good, broken = fx.gather([("FORECAST", [VALUES, TIMELINE, 3, None]), ("FORECAST", [VALUES, LEAP_1900, 3, None])])
    expected = api(client, "forecast", {"series": [series()], "horizon": 3, "quantile_levels": [0.5]})
    assert [r[0] for r in good["value"]] == pytest.approx(expected["forecasts"][0]["median"], rel=1e-6)
    assert broken["error"] == "#VALUE!" and broken["message"].startswith("timestamps")
    assert len(fx.requests) == 2  # the batch, then the good series again


def test_an_unreachable_server_is_na_naming_it(browser, live_server):
    for fx in open_functions(browser, live_server, api=lambda route: route.abort()):
        result = fx.call("FORECAST", VALUES, TIMELINE, 3, None)
        assert result == {"error": "#N/A", "message": f"Chronos server unreachable at {live_server}."}


def test_200_cells_over_20_ranges_make_at_most_3_requests(fx):
    ranges = [[[v[0] + k] for v in VALUES] for k in range(20)]
    ahead = [serial(d) for d in months(date(2025, 1, 1), 6)]
    calls = []
    for i in range(200):
        values = ranges[i % 20]
        kind = (i // 20) % 4  # every range by every kind of call
        if kind == 0:
            calls.append(("FORECAST", [values, TIMELINE, 6, None]))
        elif kind == 1:
            calls.append(("FORECAST.AT", [[[ahead[i % 6]]], values, TIMELINE, None]))
        elif kind == 2:
            calls.append(("INTERVAL", [values, TIMELINE, 6, None]))
        else:
            calls.append(("ANOMALIES", [values, TIMELINE, None]))
    results = fx.gather(calls)
    assert all("value" in r for r in results), [r for r in results if "value" not in r][:3]
    assert len(fx.requests) <= 3, [r["url"] for r in fx.requests]
    assert sorted(len(r["body"]["series"]) for r in fx.requests) == [20, 20]  # forecast, anomalies


def test_identical_inputs_share_one_series(fx):
    results = fx.gather([("FORECAST", [VALUES, TIMELINE, 3, None])] * 5 + [("INTERVAL", [VALUES, TIMELINE, 3, None])])
    assert len({json.dumps(r["value"][0][0]) for r in results}) == 1  # every median the same
    (request,) = fx.requests
    assert len(request["body"]["series"]) == 1


def test_server_and_key_come_from_office_runtime_storage(browser, live_server):
    storage = {"chronos-excel.serverUrl": f"{live_server}/", "chronos-excel.apiKey": "s3cret"}
    for fx in open_functions(browser, live_server, storage=storage):
        assert "value" in fx.call("FORECAST", VALUES, TIMELINE, 2, None)
        (request,) = fx.requests
        # only a "simple" request, as Excel's JavaScript-only runtime allows: JSON as text/plain, key in the URL
        assert request["url"] == f"{live_server}/api/v1/forecast?key=s3cret"
        assert "authorization" not in request["headers"]
        assert request["headers"]["content-type"].startswith("text/plain")


RECORDING_STORAGE = """window.OfficeRuntime = {storage: {
  items: {},
  async setItem(k, v) { this.items[k] = v; },
  async getItem(k) { return this.items[k] ?? null; },
}};"""


def test_the_pane_gives_the_formulas_its_server_and_key(pane_page, live_server):
    pane_page.context.add_init_script(RECORDING_STORAGE)
    pane = open_pane(pane_page, live_server)
    stored = "() => OfficeRuntime.storage.items"
    assert pane_page.evaluate(stored) == {"chronos-excel.serverUrl": f"{live_server}/", "chronos-excel.apiKey": ""}
    pane.button("Settings").click()
    pane_page.get_by_label("Server API key").fill(" s3cret ")
    pane.button("Save").click()
    expect(pane_page.locator("#settings")).to_be_hidden()
    assert pane_page.evaluate(stored)["chronos-excel.apiKey"] == "s3cret"


def test_a_cells_value_does_not_depend_on_the_cells_recalculated_with_it(fx, client):
    far = serial(months(date(2025, 1, 1), 40)[-1])  # 40 steps ahead: a longer forecast of the same data
    near, _ = fx.gather([("FORECAST", [VALUES, TIMELINE, 3, None]), ("FORECAST.AT", [[[far]], VALUES, TIMELINE, None])])
    expected = api(client, "forecast", {"series": [series()], "horizon": 3, "quantile_levels": [0.5]})
    assert [r[0] for r in near["value"]] == pytest.approx(expected["forecasts"][0]["median"], rel=1e-6)


@pytest.fixture(scope="module")
def keyed_server(tiny_model_dir) -> Iterator[str]:
    """The real app with an API key required, behind a real threaded HTTP server (as live_server)."""
    config = {"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "TESTING": True, "API_KEYS": "s3cret"}
    server = make_server("127.0.0.1", 0, create_app(config), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.mark.parametrize(
    ("key", "fix"),
    [
        ("", "In the Chronos pane's settings, set the server's API key."),  # none saved
        ("wrong", "In the Chronos pane's settings, check the API key."),  # a key the server does not know
    ],
)
def test_a_401_is_na_saying_how_to_fix_the_key(browser, keyed_server, key, fix):
    storage = {"chronos-excel.serverUrl": keyed_server, "chronos-excel.apiKey": key}
    for fx in open_functions(browser, keyed_server, storage=storage):
        result = fx.call("FORECAST", VALUES, TIMELINE, 2, None)
        assert result["error"] == "#N/A" and result["message"].endswith(fix)


def test_with_the_right_key_the_formulas_answer(browser, keyed_server):
    storage = {"chronos-excel.serverUrl": keyed_server, "chronos-excel.apiKey": "s3cret"}
    for fx in open_functions(browser, keyed_server, storage=storage):
        assert "value" in fx.call("BACKTEST", VALUES, TIMELINE, 3, 2, None)


def business_days(start: date, n: int) -> list[date]:
    days = [start + timedelta(days=k) for k in range(2 * n)]
    return [d for d in days if d.weekday() < 5][:n]


@pytest.mark.parametrize(
    "timeline",
    [
        [serial(datetime(2024, 1, 1) + timedelta(hours=h)) for h in range(30)],  # hourly
        [serial(date(2024, 1, 1) + timedelta(days=k)) for k in range(30)],  # daily
        [serial(d) for d in business_days(date(2024, 1, 1), 30)],  # business days
        [serial(date(2024, 1, 1) + timedelta(weeks=k)) for k in range(30)],  # weekly
        [serial(d) for d in months(date(2022, 1, 1), 30)],  # monthly
        [serial(d - timedelta(days=1)) for d in months(date(2022, 2, 1), 30)],  # month ends
        [serial(d) for d in months(date(2018, 1, 1), 90)[::3]],  # quarterly
        [serial(date(1990 + k, 1, 1)) for k in range(30)],  # yearly
        [serial(date(2024, 1, 1) + timedelta(days=2 * k)) for k in range(30)],  # every 2 days
        [serial(datetime(2024, 1, 1) + timedelta(hours=6 * h)) for h in range(30)],  # every 6 hours
    ],
)
def test_default_horizon_is_the_panes(fx, js, timeline):
    expected = js("dates.js", "defaultHorizon", js("dates.js", "detectFrequency", timeline))
    values = column([float(k % 7) for k in range(len(timeline))])
    result = fx.call("FORECAST", values, column(timeline), None, None)
    assert len(result.get("value", [])) == expected, result
