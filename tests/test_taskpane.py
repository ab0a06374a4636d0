"""The task pane end to end: real pane, real app with the tiny Chronos-2, fake Excel. Forecast, reading the
data, the no-overwrite rule, Cancel and every kind of failure a user can meet."""

from __future__ import annotations

import contextlib
import re
import threading
from datetime import date, timedelta

import huggingface_hub
import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect
from werkzeug.serving import make_server

from chronos_excel import create_app, predictor
from tests.pane_helpers import ARTIFACTS, Pane, columns, months, open_pane, serial

pytest_plugins = ["tests.pane_fixtures"]

WRITES = {"worksheets.add", "Range.values", "Range.numberFormat", "charts.add", "RangeFill.color"}


def monthly_sales(n: int = 36) -> tuple[list[float], list[float]]:
    """Month starts from January 2021 and sales with a trend and a December peak."""
    stamps = [serial(d) for d in months(date(2021, 1, 1), n)]
    sales = [200.0 + 3 * i + (40 if i % 12 == 11 else 0) for i in range(n)]
    return stamps, sales


def put_monthly(pane: Pane, n: int = 36) -> tuple[list[float], list[float]]:
    stamps, sales = monthly_sales(n)
    formats = [["General", "General"]] + [["mmm yyyy", "#,##0"]] * n
    pane.set_cells("Sheet1!A1", [["Month", "Sales"], *columns(stamps, sales)], formats)
    return stamps, sales


def api_forecast(client, series: list[dict], horizon: int, levels: list[float]) -> list[dict]:
    """What the server says for the same request: the oracle for the cells the pane writes."""
    response = client.post("/api/v1/forecast", json={"series": series, "horizon": horizon, "quantile_levels": levels})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["forecasts"]


def write_batches(pane: Pane) -> set[tuple[int, int]]:
    """The (Excel.run, sync) pairs in which cells, sheets, charts or fills were written."""
    return {(e["run"], e["sync"]) for e in pane.excel_log() if e["op"] in WRITES}


def test_forecast_writes_history_forecast_band_and_chart_on_a_new_sheet(pane, client):
    stamps, sales = put_monthly(pane)
    pane.use_selection("Sheet1!A1:B37")
    assert pane.summary() == {
        "timeline": "Month (column A)",
        "series": "Sales (B)",
        "points": "36",
        "frequency": "monthly",
    }
    expect(pane.page.get_by_label("Horizon")).to_have_value("12")  # the monthly default

    message = pane.run("Forecast")

    [expected] = api_forecast(client, [{"name": "Sales", "values": sales, "timestamps": stamps}], 12, [0.1, 0.5, 0.9])
    assert message == "Forecast: 12 steps ahead for Sales, 80% interval. Written to Forecast!A1:E51."
    assert pane.sheet_names() == ["Sheet1", "Forecast"]
    assert pane.active_sheet() == "Forecast"
    assert pane.used_range("Forecast") == "A1:E51"
    table = pane.values("Forecast!A1:E51")
    assert table[0] == ["Month", "Sales", "Sales forecast", "Sales lower 80%", "Sales upper 80%"]
    history, future, caption = table[1:37], table[37:49], table[49:]
    assert [row[:2] for row in history] == columns(stamps, sales)
    assert all(row[2:] == ["", "", ""] for row in history[:-1])  # only the last history row joins the lines
    assert history[-1][2:] == [sales[-1]] * 3
    assert [row[0] for row in future] == [serial(d) for d in months(date(2024, 1, 1), 12)]
    assert [row[1] for row in future] == [""] * 12
    assert [row[2] for row in future] == expected["median"]
    assert [row[3] for row in future] == expected["quantiles"]["0.1"]
    assert [row[4] for row in future] == expected["quantiles"]["0.9"]
    model = client.get("/api/v1/health").get_json()["model"]
    assert caption == [[""] * 5, [f"Model: {model['id']} (cpu, float32)", "", "", "", ""]]  # which model made them
    formats = pane.formats("Forecast!A2:E49")
    assert {row[0] for row in formats} == {"mmm yyyy"}  # future dates keep the input's date format
    assert {f for row in formats for f in row[1:]} == {"#,##0"}  # and the values the series' format
    assert pane.bold("Forecast!A1:E1") == [[True] * 5]
    [chart] = pane.charts("Forecast")
    assert chart["type"] == "Line"
    assert chart["series"] == ["Sales", "Sales forecast", "Sales lower 80%", "Sales upper 80%"]
    assert chart["categories"] == "Forecast!A2:A49"
    assert pane.values("Sheet1!A1:B37") == [["Month", "Sales"], *columns(stamps, sales)]  # the data untouched
    assert len(write_batches(pane)) == 1  # every write of the action in one Excel.run, one sync

    ARTIFACTS.mkdir(exist_ok=True)
    pane.page.screenshot(path=str(ARTIFACTS / "taskpane-forecast.png"))


def test_each_action_reads_the_cells_afresh_and_a_second_result_gets_its_own_sheet(pane, client):
    stamps, sales = put_monthly(pane)
    pane.use_selection("Sheet1!A1:B37")
    pane.run("Forecast")
    pane.set_cells("Sheet1!B37", [[999.0]])  # the data changes after "Use selection"
    pane.set_option("Interval", "95")
    pane.set_option("Horizon", "3")

    message = pane.run("Forecast")

    sales[-1] = 999.0
    [expected] = api_forecast(
        client, [{"name": "Sales", "values": sales, "timestamps": stamps}], 3, [0.025, 0.5, 0.975]
    )
    assert "Written to 'Forecast (2)'!A1:E42" in message
    assert pane.sheet_names() == ["Sheet1", "Forecast", "Forecast (2)"]
    table = pane.values("'Forecast (2)'!A1:E40")
    assert table[0][3:] == ["Sales lower 95%", "Sales upper 95%"]
    assert table[36][1:] == [999.0] * 4
    assert [row[2] for row in table[37:]] == expected["median"]
    assert [row[3] for row in table[37:]] == expected["quantiles"]["0.025"]
    assert [row[4] for row in table[37:]] == expected["quantiles"]["0.975"]


def test_ten_thousand_rows_are_read_in_one_sync_and_written_in_one_sync(pane):
    days = 10_000
    stamps = [serial(date(1990, 1, 1)) + k for k in range(days)]
    values = [float(1000 + (k % 7) * 10 + k % 365) for k in range(days)]
    pane.set_cells(
        "Sheet1!A1", [["Day", "Load"], *columns(stamps, values)], [["General"] * 2] + [["yyyy-mm-dd", "0"]] * days
    )
    pane.select("Sheet1!A1:B10001")

    message = pane.run("Forecast")

    assert message.endswith("Written to Forecast!A1:E10017.")
    reads = [e for e in pane.excel_log() if e["op"] == "Range.load" and "values" in e["props"]]
    assert [(e["target"], sorted(e["props"])) for e in reads] == [
        ("Sheet1!A1:B10001", ["address", "numberFormat", "values"])  # the whole range in one load, one sync
    ]
    assert len(write_batches(pane)) == 1
    assert pane.values("Forecast!A10000:B10001") == [[stamps[-2], values[-2]], [stamps[-1], values[-1]]]


def test_without_dates_or_header_every_column_is_a_series_and_steps_are_numbered(pane, client):
    first = [10.0 + (i % 7) for i in range(30)]
    second = [500.0 - 2 * i for i in range(30)]
    pane.set_cells("Sheet1!C3", columns(first, second))
    pane.use_selection("Sheet1!C3:D32")
    assert pane.summary() == {
        "timeline": "none: steps are numbered 1, 2, 3…",
        "series": "Series 1 (C), Series 2 (D)",
        "points": "30",
        "frequency": "steps",
    }
    expect(pane.page.get_by_label("Horizon")).to_have_value("10")

    pane.run("Forecast")

    expected = api_forecast(
        client, [{"name": "Series 1", "values": first}, {"name": "Series 2", "values": second}], 10, [0.1, 0.5, 0.9]
    )
    table = pane.values("Forecast!A1:I41")
    assert table[0] == [
        "Step",
        *[f"Series {k}{suffix}" for k in (1, 2) for suffix in ("", " forecast", " lower 80%", " upper 80%")],
    ]
    assert [row[0] for row in table[1:]] == list(range(1, 41))
    assert [row[1] for row in table[1:31]] == first and [row[5] for row in table[1:31]] == second
    for k, column in enumerate((2, 6)):  # the series side by side
        assert [row[column] for row in table[31:]] == expected[k]["median"]
        assert [row[column + 2] for row in table[31:]] == expected[k]["quantiles"]["0.9"]
    assert {row[0] for row in pane.formats("Forecast!A2:A41")} == {"0"}
    charts = pane.charts("Forecast")
    assert [c["source"] for c in charts] == ["Forecast!B1:E41", "Forecast!F1:I41"]


def test_date_text_and_missing_cells_become_dates_and_nulls(pane, client):
    days = [date(2024, 3, 1) + timedelta(days=i) for i in range(40)]
    visits = [float(50 + (i % 7) * 4) for i in range(40)]
    cells = [[d.isoformat(), v] for d, v in zip(days, visits, strict=True)]
    cells[4][1] = ""  # a blank cell
    cells[8][1] = "#N/A"  # Excel's own "no value"
    pane.set_cells("Sheet1!A1", [["Date", "Visits"], *cells])
    pane.use_selection("Sheet1!A1:B41")
    assert pane.summary()["frequency"] == "daily"
    expect(pane.page.get_by_label("Horizon")).to_have_value("14")

    pane.run("Forecast")

    values = [None if i in (4, 8) else v for i, v in enumerate(visits)]
    stamps = [serial(d) for d in days]
    [expected] = api_forecast(client, [{"name": "Visits", "values": values, "timestamps": stamps}], 14, [0.1, 0.5, 0.9])
    table = pane.values("Forecast!A1:E55")
    assert [row[0] for row in table[1:]] == stamps + [serial(date(2024, 4, 10) + timedelta(days=k)) for k in range(14)]
    assert table[5][1] == "" and table[9][1] == ""
    assert [row[2] for row in table[41:]] == expected["median"]
    assert {row[0] for row in pane.formats("Forecast!A2:A55")} == {"yyyy-mm-dd"}


def test_text_in_a_value_column_is_listed_by_cell_and_nothing_is_sent(pane):
    stamps, sales = monthly_sales(12)
    rows = [["Month", "Sales", "Costs"], *columns(stamps, sales, [1.0] * 12)]
    rows[6][2] = "n/a"  # C7
    rows[8][1] = True  # B9
    pane.set_cells("Sheet1!A1", rows, [["General"] * 3] + [["yyyy-mm-dd", "0", "0"]] * 12)
    posted = []
    pane.page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    pane.select("Sheet1!A1:C13")

    message = pane.run("Forecast")

    assert message.splitlines()[0] == "2 cells need fixing:"
    assert "B9: TRUE is not a number" in message
    assert "C7: 'n/a' is not a number" in message
    expect(pane.page.locator("#message")).to_have_attribute("role", "alert")  # read out at once
    assert posted == []
    assert pane.sheet_names() == ["Sheet1"]


def test_beside_the_data_writes_two_columns_right_and_never_over_a_filled_cell(pane):
    stamps, sales = put_monthly(pane, 24)
    pane.use_selection("Sheet1!A1:B25")
    pane.set_option("Horizon", "4")
    pane.place_beside()

    message = pane.run("Forecast")

    assert message.endswith("Written to Sheet1!D1:H31.")
    assert pane.sheet_names() == ["Sheet1"]
    beside = pane.values("Sheet1!D1:H29")
    assert beside[0] == ["Month", "Sales", "Sales forecast", "Sales lower 80%", "Sales upper 80%"]
    assert pane.values("Sheet1!C1:C29") == [[""]] * 29  # one empty column between data and results
    assert pane.values("Sheet1!A1:B25") == [["Month", "Sales"], *columns(stamps, sales)]

    # Run again, a step further: the first results fill the target now, so nothing may be written there.
    pane.set_option("Horizon", "5")
    message = pane.run("Forecast")

    assert "The cells Sheet1!D1:H32 beside the data are not empty, so nothing was written." in message
    assert pane.values("Sheet1!D1:H29") == beside
    assert pane.used_range("Sheet1") == "A1:H31"
    pane.button("Write to a new sheet").click()
    pane.wait_idle()
    assert pane.message().endswith("Written to Forecast!A1:E32.")
    assert pane.values("Forecast!A1:E29") == beside


@pytest.mark.parametrize("placement", ["New sheet", "Beside the data"])
def test_an_excel_failure_leaves_no_half_written_result(pane, placement):
    stamps, sales = put_monthly(pane, 24)
    pane.use_selection("Sheet1!A1:B25")
    pane.page.get_by_label(placement).check()
    pane.fail_next("charts.add")  # Excel rejects the batch after the cells were written

    message = pane.run("Forecast")

    assert message.startswith("Excel could not do this (GeneralException):")
    assert pane.sheet_names() == ["Sheet1"]
    assert pane.used_range("Sheet1") == "A1:B25"
    assert pane.charts("Sheet1") == []


def test_cancel_aborts_the_request_and_writes_nothing(pane):
    put_monthly(pane, 24)
    pane.select("Sheet1!A1:B25")
    held = []
    pane.page.route("**/api/v1/forecast", lambda route: held.append(route))  # the server never answers
    failed = []
    pane.page.on("requestfailed", lambda r: failed.append(r.url))

    pane.button("Forecast").click()

    progress = pane.page.locator("#progress-text")
    expect(progress).to_have_text(re.compile(r"^Forecasting… (0\.[3-9]|[1-9]\d*\.\d) s$"))  # the clock runs
    for name in ("Forecast", "Detect anomalies", "Backtest"):
        expect(pane.button(name)).to_be_disabled()
    pane.button("Cancel").click()
    pane.wait_idle()
    assert pane.message() == "Cancelled. Nothing was written."
    expect(pane.button("Forecast")).to_be_enabled()
    assert pane.sheet_names() == ["Sheet1"]
    assert len(held) == 1
    pane.page.wait_for_timeout(100)
    assert failed == [held[0].request.url]
    with contextlib.suppress(PlaywrightError):
        held[0].abort()


def test_an_unreachable_server_is_said_in_the_header_and_the_message_bar(pane_page, live_server):
    pane_page.route("**/api/v1/**", lambda route: route.abort("connectionrefused"))
    pane = open_pane(pane_page, live_server, connected=False)
    expect(pane_page.locator("#status")).to_have_attribute("data-state", "offline")
    expect(pane_page.locator("#status-text")).to_have_text("Server unreachable")
    expect(pane_page.locator("#notice")).to_contain_text("The Chronos server is unreachable")
    put_monthly(pane, 12)
    pane.select("Sheet1!A1:B13")

    message = pane.run("Forecast")

    assert message == f"Cannot reach the Chronos server at {live_server}. Is `chronos-excel serve` running?"
    assert pane.sheet_names() == ["Sheet1"]


def test_the_servers_problem_detail_is_shown_with_the_cell_it_concerns(pane, client):
    stamps, sales = monthly_sales(24)
    del stamps[10], sales[10]  # a month is missing: the timeline breaks at the 11th point, cell A12
    pane.set_cells(
        "Sheet1!A1", [["Month", "Sales"], *columns(stamps, sales)], [["General"] * 2] + [["mmm yyyy", "0"]] * 23
    )
    pane.use_selection("Sheet1!A1:B24")
    assert pane.summary()["frequency"] == "irregular"

    message = pane.run("Forecast")

    problem = client.post(
        "/api/v1/forecast", json={"series": [{"name": "Sales", "values": sales, "timestamps": stamps}], "horizon": 10}
    ).get_json()
    [error] = problem["errors"]
    assert error["loc"] == ["series", 0, "timestamps", 10]
    assert message.splitlines() == [problem["detail"], f"A12: {error['msg']}"]
    assert pane.sheet_names() == ["Sheet1"]


def test_a_range_excel_cannot_find_is_reported_with_its_code(pane):
    pane.page.get_by_label("Data range").fill("Budget!A1:B10")
    message = pane.run("Forecast")
    assert message.startswith("Excel could not do this (ItemNotFound):")

    pane.page.get_by_label("Data range").fill("Sheet1!A1:B")
    assert pane.run("Forecast") == "'Sheet1!A1:B' is not a range address such as Sheet1!A1:C145."


def test_the_header_names_the_model_in_use(pane, tiny_model_dir):
    expect(pane.page.locator("#status-text")).to_have_text(f"Connected · {tiny_model_dir.name} · cpu, float32")
    expect(pane.page.locator("#notice")).to_be_hidden()


def test_the_offline_demo_model_is_announced(pane_page, monkeypatch, tiny_model_dir):
    # As in test_serving: the default model's hub is unreachable, so the server falls back to the bundled
    # model (here the tiny one: this test is about what the pane says, not about the bundled weights).
    monkeypatch.setattr(predictor, "DEFAULT_MODEL", "chronos-excel-tests/not-reachable")
    monkeypatch.setattr(predictor, "bundled_model_dir", lambda: tiny_model_dir)
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")  # nothing listens there
    app = create_app({"MODEL": "chronos-excel-tests/not-reachable", "DEVICE": "cpu", "DTYPE": "float32"})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        pane = open_pane(pane_page, f"http://127.0.0.1:{server.server_port}")
        notice = pane.page.locator("#notice")
        expect(notice).to_be_visible()
        expect(notice).to_contain_text("Offline demo model in use: ")
        expect(notice).to_contain_text("chronos-excel-tests/not-reachable")
        expect(pane.page.locator("#status-text")).to_have_text("Connected · bundled · cpu, float32")
    finally:
        server.shutdown()
        thread.join(timeout=5)
