"""The pane's "Calibrate bands on this history", ticked when the pane opens: forecasts and backtests ask for
calibrated bands, the summary line says what was done (or why not), the band written is the calibrated one,
and the backtest table shows the raw and the calibrated coverage side by side."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect

from tests.adapting import sawtooth
from tests.pane_helpers import ARTIFACTS, Pane, columns, months, open_pane, serial

pytest_plugins = ["tests.pane_fixtures"]


def put_sales(pane: Pane, n: int) -> dict:
    stamps = [serial(d) for d in months(date(2018, 1, 1), n)]
    values = sawtooth(n, seed=8, period=12)
    formats = [["General", "General"]] + [["mmm yyyy", "0.00"]] * n
    pane.set_cells("Sheet1!A1", [["Month", "Sales"], *columns(stamps, values)], formats)
    pane.use_selection(f"Sheet1!A1:B{n + 1}")
    return {"name": "Sales", "values": values, "timestamps": stamps}


def test_the_option_is_ticked_and_the_forecast_band_is_the_calibrated_one(pane_page, live_server, client):
    pane = open_pane(pane_page, live_server)
    expect(pane.page.get_by_label("Calibrate bands on this history")).to_be_checked()
    series = put_sales(pane, 60)
    posts = pane.record_posts()

    message = pane.run("Forecast")

    assert posts[-1]["body"]["calibrate"] is True
    body = {"series": [series], "horizon": 12, "quantile_levels": [0.1, 0.5, 0.9], "calibrate": True}
    [expected] = client.post("/api/v1/forecast", json=body).get_json()["forecasts"]
    windows = expected["calibration"]["windows"]
    assert message.startswith(f"Forecast: 12 steps ahead for Sales, 80% band calibrated on {windows} past windows.")
    future = pane.values("Forecast!A62:E73")
    assert [row[2] for row in future] == expected["median"]
    assert [row[3] for row in future] == expected["quantiles"]["0.1"]
    assert [row[4] for row in future] == expected["quantiles"]["0.9"]
    ARTIFACTS.mkdir(exist_ok=True)
    pane.page.screenshot(path=str(ARTIFACTS / "taskpane-calibrated.png"), full_page=True)


def test_a_history_too_short_to_calibrate_says_why(pane_page, live_server):
    pane = open_pane(pane_page, live_server)
    put_sales(pane, 14)
    message = pane.run("Forecast")
    assert re.search(
        r"80% band not calibrated: 14 points of history are too few: calibrating needs at least \d+", message
    )


def test_the_backtest_shows_raw_and_calibrated_coverage_side_by_side(pane_page, live_server):
    pane = open_pane(pane_page, live_server)
    put_sales(pane, 72)
    pane.set_option("Horizon", "6")
    message = pane.run("Backtest")
    assert re.search(r"the 80% band covered \d+% raw, \d+% calibrated\.", message), message
    labels = [row[0] for row in pane.values("Backtest!A1:A12")]
    assert labels[6:10] == ["WQL", "coverage", "WQL (calibrated)", "coverage (calibrated)"]
