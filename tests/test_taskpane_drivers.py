"""Drivers from the pane, end to end: column roles, the future rows of known drivers, what-if scenarios, joint
forecasts, and backtests and anomaly scans that use the drivers. Real pane, real app with the tiny Chronos-2,
fake Excel; the server's answer to the same request is the oracle for every cell written."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from playwright.sync_api import expect

from tests.pane_helpers import ARTIFACTS, Pane, columns, months, serial

pytest_plugins = ["tests.pane_fixtures"]

N, AHEAD = 48, 12  # months of history, then months of planned drivers
LEVELS = [0.1, 0.5, 0.9]
MINUS = "\u2212"


def driver_sheet(n: int = N, ahead: int = AHEAD) -> dict[str, list]:
    """Month | Sales | Price | Promo: `n` months of sales, and Price and Promo for `ahead` months more."""
    stamps = [serial(d) for d in months(date(2020, 1, 1), n + ahead)]
    price = [9.9 if i % 4 else 8.5 for i in range(n + ahead)]
    promo = ["yes" if i % 6 == 0 else "no" for i in range(n + ahead)]
    sales = [200.0 + 3 * i + 40 * (promo[i] == "yes") - 20 * (price[i] - 9.9) for i in range(n)]
    return {"Month": stamps, "Sales": sales, "Price": price, "Promo": promo}


def put_sheet(pane: Pane, sheet: dict[str, list], formats: dict[str, str] | None = None) -> str:
    """Write the columns from A1 (a header row, blanks below short columns); return the range's address."""
    rows = max(len(v) for v in sheet.values())
    formats = {"Month": "mmm yyyy", "Sales": "#,##0", "Costs": "#,##0", "Price": "0.00", **(formats or {})}
    padded = [v + [""] * (rows - len(v)) for v in sheet.values()]
    pane.set_cells(
        "Sheet1!A1",
        [list(sheet), *columns(*padded)],
        [["General"] * len(sheet)] + [[formats.get(name, "General") for name in sheet]] * rows,
    )
    return f"Sheet1!A1:{chr(64 + len(sheet))}{rows + 1}"


def forecasts(client, body: dict) -> list[dict]:
    response = client.post("/api/v1/forecast", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["forecasts"]


def column(table: list[list], k: int) -> list:
    return [row[k] for row in table]


def test_known_drivers_go_with_the_forecast_and_are_written_beside_it(pane, client):
    sheet = driver_sheet()
    posts = pane.record_posts()
    pane.use_selection(put_sheet(pane, sheet))
    assert pane.summary() == {
        "timeline": "Month (column A)",
        "series": "Sales (B)",
        "drivers": "Price (C), Promo (D)",
        "points": "48",
        "future": "12 rows (50–61)",
        "frequency": "monthly",
    }
    assert pane.roles() == {"Sales (B)": "Forecast", "Price (C)": "Driver", "Promo (D)": "Driver"}
    expect(pane.page.locator("#roles-list")).to_contain_text("text, known to row 61")
    expect(pane.page.get_by_label("Horizon")).to_have_value("12")  # the future rows' count
    expect(pane.page.get_by_label("Forecast jointly", exact=False)).to_be_hidden()  # one series

    message = pane.run("Forecast")

    body = {
        "series": [
            {
                "name": "Sales",
                "values": sheet["Sales"],
                "timestamps": sheet["Month"][:N],
                "covariates": {"Price": sheet["Price"], "Promo": sheet["Promo"]},  # n + 12 values each
            }
        ],
        "horizon": 12,
        "quantile_levels": LEVELS,
    }
    assert [p["body"] for p in posts] == [body]
    [expected] = forecasts(client, body)
    assert expected["covariates"] == [
        {"name": "Price", "type": "numeric", "future": True},
        {"name": "Promo", "type": "categorical", "future": True},
    ]
    assert message == (
        "Forecast: 12 steps ahead for Sales with drivers Price (numeric, known ahead) and Promo "
        "(categorical, known ahead), 80% interval. Written to Forecast!A1:G63."
    )
    table = pane.values("Forecast!A1:G61")
    assert table[0] == ["Month", "Price", "Promo", "Sales", "Sales forecast", "Sales lower 80%", "Sales upper 80%"]
    body_rows = table[1:]
    assert column(body_rows, 0) == sheet["Month"]  # the future dates are the sheet's own
    assert column(body_rows, 1) == sheet["Price"]  # the drivers' history and the future the forecast assumed
    assert column(body_rows, 2) == sheet["Promo"]
    assert column(body_rows, 3) == sheet["Sales"] + [""] * 12
    assert column(body_rows[N:], 4) == expected["median"]
    assert column(body_rows[N:], 5) == expected["quantiles"]["0.1"]
    assert column(body_rows[N:], 6) == expected["quantiles"]["0.9"]
    assert {row[1] for row in pane.formats("Forecast!A2:G61")} == {"0.00"}  # the driver keeps its format
    [chart] = pane.charts("Forecast")
    assert chart["source"] == "Forecast!D1:G61"  # the chart shows the series, not the drivers


def test_a_what_if_writes_the_scenario_beside_the_forecast_on_the_same_chart(pane, client):
    sheet = driver_sheet()
    posts = pane.record_posts()
    pane.use_selection(put_sheet(pane, sheet))
    expect(pane.page.get_by_label("Promo (% change)")).to_have_count(0)  # text drivers have no what-if
    pane.page.get_by_label("Price (% change)").fill("-10")

    message = pane.run("Forecast")

    cheaper = sheet["Price"][:N] + [float(f"{p * 0.9:.12g}") for p in sheet["Price"][N:]]  # only the future
    base = {
        "name": "Sales",
        "values": sheet["Sales"],
        "timestamps": sheet["Month"][:N],
        "covariates": {"Price": sheet["Price"], "Promo": sheet["Promo"]},
    }
    scenario = {**base, "name": f"Sales (Price {MINUS}10%)", "covariates": {"Price": cheaper, "Promo": sheet["Promo"]}}
    body = {"series": [base, scenario], "horizon": 12, "quantile_levels": LEVELS}
    assert [p["body"] for p in posts] == [body]  # one request carries both
    expected = forecasts(client, body)
    assert expected[0]["median"] != expected[1]["median"]
    assert message.endswith(f"and what if Price {MINUS}10%, 80% interval. Written to Forecast!A1:K63.")
    table = pane.values("Forecast!A1:K61")
    assert table[0] == [
        "Month",
        "Price",
        "Promo",
        f"Price ({MINUS}10%)",
        "Sales",
        "Sales forecast",
        "Sales lower 80%",
        "Sales upper 80%",
        f"Sales forecast (Price {MINUS}10%)",
        f"Sales lower 80% (Price {MINUS}10%)",
        f"Sales upper 80% (Price {MINUS}10%)",
    ]
    assert column(table[1:], 3) == [""] * N + cheaper[N:]  # the changed assumption, in the future rows
    assert table[N][4:] == [sheet["Sales"][-1]] * 7  # every line starts at the last actual value
    future = table[N + 1 :]
    for k, forecast in enumerate(expected):
        assert column(future, 5 + 3 * k) == forecast["median"]
        assert column(future, 6 + 3 * k) == forecast["quantiles"]["0.1"]
        assert column(future, 7 + 3 * k) == forecast["quantiles"]["0.9"]
    [chart] = pane.charts("Forecast")
    assert chart["source"] == "Forecast!E1:K61"
    assert chart["series"] == table[0][4:]  # base and what-if on one chart

    ARTIFACTS.mkdir(exist_ok=True)
    pane.page.screenshot(path=str(ARTIFACTS / "taskpane-drivers.png"), full_page=True)


def test_roles_can_be_changed_and_stay_while_the_address_does(pane):
    sheet = driver_sheet()
    sheet["Visits"] = [1000.0 + 7 * i for i in range(N)]  # observed, not known ahead
    posts = pane.record_posts()
    address = put_sheet(pane, sheet)
    pane.use_selection(address)
    assert pane.roles()["Visits (E)"] == "Forecast"  # a numeric column ending with Sales: a series by default

    pane.set_role("Visits (E)", "Driver")
    pane.set_role("Price (C)", "Ignore")

    assert pane.summary()["drivers"] == "Promo (D), Visits (E)"
    expect(pane.page.locator("#roles-list")).to_contain_text("numbers, past only")
    expect(pane.page.get_by_label("Price (% change)")).to_have_count(0)
    pane.run("Forecast")  # reads the cells again, with the same roles
    [post] = posts
    assert post["body"]["series"][0]["covariates"] == {
        "Promo": sheet["Promo"],  # known ahead: n + horizon values
        "Visits": sheet["Visits"],  # past only: as long as the history
    }
    assert pane.values("Forecast!A1:G1") == [
        ["Month", "Promo", "Visits", "Sales", "Sales forecast", "Sales lower 80%", "Sales upper 80%"]
    ]
    assert pane.roles()["Price (C)"] == "Ignore"

    pane.page.get_by_label("Data range").fill("Sheet1!A1:D61")  # another address: the defaults again
    pane.page.get_by_label("Data range").press("Enter")
    expect(pane.page.get_by_label("Price (C)")).to_have_value("Driver")


def test_text_is_fine_in_a_driver_but_not_in_a_forecast_column(pane):
    pane.use_selection(put_sheet(pane, driver_sheet()))
    posts = pane.record_posts()

    pane.set_role("Promo (D)", "Forecast")

    message = pane.message().splitlines()
    assert message[:3] == [
        f"{N + AHEAD} cells and 1 other problem need fixing:",
        "Promo (column D) has no numbers",
        "D2: 'yes' is not a number",
    ]
    assert pane.run("Forecast").splitlines() == message  # and nothing is sent
    assert posts == []


def test_a_future_date_that_breaks_the_timeline_is_reported_by_cell(pane):
    sheet = driver_sheet()
    sheet["Month"][N + 3] = serial(date(2024, 5, 1))  # row 53 should be April 2024
    pane.use_selection(put_sheet(pane, sheet))
    posts = pane.record_posts()

    message = pane.run("Forecast")

    assert message.splitlines() == [
        "One cell needs fixing:",
        "A53: 2024-05-01 does not continue the monthly timeline: expected 2024-04-01",
    ]
    assert posts == []
    assert pane.sheet_names() == ["Sheet1"]


def test_a_horizon_past_the_drivers_is_refused_and_a_shorter_one_takes_their_first_values(pane, client):
    sheet = driver_sheet()
    sheet["Promo"] = sheet["Promo"][: N + 8]  # Promo is planned for 8 months only
    posts = pane.record_posts()
    pane.use_selection(put_sheet(pane, sheet))
    pane.set_option("Horizon", "13")

    message = pane.run("Forecast")

    assert message == (
        "The horizon of 13 steps goes past the drivers' future values (Price to row 61, Promo to row 57: "
        "12 future rows). Set the horizon to 12 or less, or fill in the drivers for the later dates."
    )
    assert posts == []

    pane.set_option("Horizon", "10")
    pane.page.get_by_label("Price (% change)").fill("-150")
    assert pane.run("Forecast") == (
        "What if Price: the % change must be a number from -100 up, such as -10; found '-150'."
    )
    assert posts == []

    pane.page.get_by_label("Price (% change)").fill("")  # an empty field is no change
    pane.run("Forecast")

    covariates = posts[0]["body"]["series"][0]["covariates"]
    assert covariates["Price"] == sheet["Price"][: N + 10]
    assert covariates["Promo"] == sheet["Promo"] + [None, None]  # unknown at the last two steps
    assert column(pane.values("Forecast!C2:C59"), 0) == sheet["Promo"] + ["", ""]


def test_joint_forecasts_send_the_what_if_as_a_second_joint_request(pane, client):
    sheet = driver_sheet()
    sheet = {
        "Month": sheet["Month"],
        "Sales": sheet["Sales"],
        "Costs": [80.0 + i for i in range(N)],
        "Price": sheet["Price"],
    }
    posts = pane.record_posts()
    pane.use_selection(put_sheet(pane, sheet))
    assert pane.summary()["series"] == "Sales (B), Costs (C)"
    pane.page.get_by_label("Forecast jointly", exact=False).check()
    pane.page.get_by_label("Price (% change)").fill("5")

    message = pane.run("Forecast")

    series = [
        {"name": name, "values": sheet[name], "timestamps": sheet["Month"][:N], "covariates": {"Price": sheet["Price"]}}
        for name in ("Sales", "Costs")
    ]
    dearer = sheet["Price"][:N] + [float(f"{p * 1.05:.12g}") for p in sheet["Price"][N:]]
    scenario = [{**s, "name": f"{s['name']} (Price +5%)", "covariates": {"Price": dearer}} for s in series]
    bodies = [
        {"series": series, "horizon": 12, "quantile_levels": LEVELS, "joint": True},
        {"series": scenario, "horizon": 12, "quantile_levels": LEVELS, "joint": True},
    ]
    assert [p["body"] for p in posts] == bodies
    expected = forecasts(client, bodies[0]) + forecasts(client, bodies[1])
    assert ", jointly, and what if Price +5%" in message
    table = pane.values("Forecast!A1:Q61")
    assert table[0][3:10] == ["Sales", "Sales forecast", "Sales lower 80%", "Sales upper 80%"] + [
        f"Sales {what} (Price +5%)" for what in ("forecast", "lower 80%", "upper 80%")
    ]
    for j, name in enumerate(("Sales", "Costs")):
        col = 3 + 7 * j
        assert table[0][col] == name
        assert column(table[N + 1 :], col + 1) == expected[j]["median"]
        assert column(table[N + 1 :], col + 4) == expected[2 + j]["median"]


def test_backtest_with_drivers_adds_the_model_without_them_and_their_skill(pane, client):
    sheet = driver_sheet()
    posts = pane.record_posts()
    pane.use_selection(put_sheet(pane, sheet))
    pane.set_option("Horizon", "6")
    pane.set_option("Backtest windows", "2")

    message = pane.run("Backtest")

    body = {
        "series": [
            {
                "name": "Sales",
                "values": sheet["Sales"],
                "timestamps": sheet["Month"][:N],
                "covariates": {"Price": sheet["Price"][:N], "Promo": sheet["Promo"][:N]},  # the history only
            }
        ],
        "horizon": 6,
        "windows": 2,
        "level": 0.8,
        "quantile_levels": LEVELS,
        "future_covariates": ["Price", "Promo"],
    }
    assert [p["body"] for p in posts] == [body]
    answer = client.post("/api/v1/backtest", json=body).get_json()
    [b] = answer["backtests"]
    skill = answer["summary"]["covariate_skill"]
    assert message == (
        f"Backtest: 2 windows of 6 steps for Sales with drivers Price and Promo (drivers' skill {skill:.3f}). "
        "Written to Backtest!A1:H26."
    )
    table = pane.values("Backtest!A1:D11")
    assert table[0] == ["Sales", "Chronos-2", "Chronos-2 without drivers", "Seasonal naive"]
    assert table[5][:3] == ["MASE", b["metrics"]["MASE"], b["without_covariates"]["metrics"]["MASE"]]
    assert table[9][:2] == ["Drivers' skill", b["covariate_skill"]]
    assert pane.values("Backtest!A12:D12") == [["Window", "Cutoff", "Month", "Actual"]]


def test_anomaly_scan_sends_the_known_drivers_as_future_covariates(pane, client):
    sheet = driver_sheet()
    posts = pane.record_posts()
    pane.use_selection(put_sheet(pane, sheet))

    message = pane.run("Detect anomalies")

    body = {
        "series": [
            {
                "name": "Sales",
                "values": sheet["Sales"],
                "timestamps": sheet["Month"][:N],
                "covariates": {"Price": sheet["Price"][:N], "Promo": sheet["Promo"][:N]},
            }
        ],
        "level": 0.8,
        "future_covariates": ["Price", "Promo"],
    }
    assert [p["body"] for p in posts] == [body]
    [expected] = client.post("/api/v1/anomalies", json=body).get_json()["anomalies"]
    assert message.endswith("with drivers Price and Promo. Written to Anomalies!A1:G51.")
    table = pane.values("Anomalies!A2:G49")
    assert column(table, 2) == ["" if v is None else v for v in expected["expected"]]


# ---- the pure helpers, in the browser (the js fixture) ------------------------------------------------------


def day(text: str) -> float:
    return serial(date.fromisoformat(text))


@pytest.mark.parametrize(
    ("stamps", "after"),
    [
        (["2024-01-01", "2024-02-01"], "2024-03-01"),  # month starts
        (["2024-01-15", "2024-02-15"], "2024-03-15"),  # the same day each month
        (["2024-01-31", "2024-02-29"], "2024-03-31"),  # month ends
        (["2023-12-31", "2024-03-31", "2024-06-30"], "2024-09-30"),  # quarter ends
        (["2023-01-01", "2024-01-01"], "2025-01-01"),  # years
        (["2024-01-07", "2024-01-14"], "2024-01-21"),  # weeks
        (["2024-01-04", "2024-01-05", "2024-01-08"], "2024-01-09"),  # business days: Thursday, Friday, Monday…
        (["2024-01-08", "2024-01-11", "2024-01-12"], None),  # not regular: no next date
    ],
)
def test_the_date_after_a_timeline(js, stamps, after):
    serials = [day(s) for s in stamps]
    frequency = js("dates.js", "detectFrequency", serials)
    assert js("dates.js", "nextStamp", serials, frequency) == (None if after is None else day(after))


def test_the_hour_after_an_hourly_timeline(js):
    serials = [serial(datetime(2024, 3, 1, h)) for h in (22, 23)]
    frequency = js("dates.js", "detectFrequency", serials)
    assert js("dates.js", "nextStamp", serials, frequency) == pytest.approx(serial(datetime(2024, 3, 2)), abs=1e-9)
    assert js("dates.js", "dateText", serial(datetime(2024, 3, 2, 6, 30))) == "2024-03-02 06:30"


def read(js, rows: list[list], roles: dict | None = None, address: str | None = None) -> dict:
    """parseData on a range of General cells starting at A1 (dates as text)."""
    address = address or f"Sheet1!A1:{chr(64 + len(rows[0]))}{len(rows)}"
    formats = [["General"] * len(rows[0]) for _ in rows]
    roles = {str(column): role for column, role in (roles or {}).items()}  # JSON object keys are text
    return js("parse.js", "parseData", {"address": address, "values": rows, "numberFormat": formats}, roles)


MONTHS = [f"2024-{m:02d}-01" for m in range(1, 13)]


@pytest.mark.parametrize(
    ("header", "cells", "roles"),
    [
        # Sales ends first; Price goes on below it: a known driver. Promo is text: a driver.
        (["Sales", "Price", "Promo"], [[1, 9, "no"]] * 3 + [["", 9, "yes"]] * 2, ["Forecast", "Driver", "Driver"]),
        # Two numeric columns ending together: both forecast.
        (["Sales", "Costs"], [[1, 2]] * 5, ["Forecast", "Forecast"]),
        # TRUE/FALSE counts as a text column; a second date column is left out.
        (["Sales", "Open", "Shipped"], [[1, True, "2024-02-01"]] * 5, ["Forecast", "Driver", "Ignore"]),
        # A lone typo in a numeric column does not make it text: it stays a series (and a bad cell).
        (["Sales"], [[1]] * 4 + [["n/a"]], ["Forecast"]),
    ],
)
def test_default_roles(js, header, cells, roles):
    rows = [["Month", *header]] + [[MONTHS[i], *row] for i, row in enumerate(cells)]
    assert [f["role"] for f in read(js, rows)["fields"]] == roles


def test_the_future_rows_end_at_the_last_driver_value_and_may_have_gaps(js):
    rows = [["Month", "Sales", "Price", "Promo", "Visits"]]
    rows += [[MONTHS[i], 10 + i, 5, "no", 100] for i in range(6)]
    rows += [[MONTHS[6], "", 4, "", ""], [MONTHS[7], "", "", "", ""], [MONTHS[8], "", 4, "yes", ""]]
    rows += [[MONTHS[9], "", "", "", ""]]  # a date with nothing else: after the future

    data = read(js, rows, {4: "Driver"})  # Visits (column index 4) is observed only: a driver if the user says so

    assert (data["points"], data["future"], data["rows"]) == (6, 3, 10)
    assert data["timeline"]["future"] == [day(m) for m in MONTHS[6:9]]
    price, promo, visits = data["drivers"]
    assert price == {
        "name": "Price",
        "column": 2,
        "type": "numeric",
        "values": [5] * 6,
        "future": [4, None, 4],  # unknown in the middle: null
        "lastRow": 10,
        "scalable": True,
        "format": "General",
    }
    assert (promo["type"], promo["future"], promo["scalable"]) == ("categorical", [None, None, "yes"], False)
    assert (visits["future"], visits["lastRow"]) == (None, 7)  # past-only
    assert data["errors"] == []


def test_flags_are_numeric_drivers_but_no_what_if(js):
    rows = [["Month", "Sales", "Promo"]] + [[MONTHS[i], 1, i % 2 == 0] for i in range(4)] + [[MONTHS[4], "", True]]
    [promo] = read(js, rows)["drivers"]
    assert (promo["type"], promo["values"], promo["future"], promo["scalable"]) == (
        "numeric",
        [True, False, True, False],
        [True],
        False,
    )


@pytest.mark.parametrize(
    ("header", "roles", "error"),
    [
        (
            ["Sales", "Price", "Price"],
            {2: "Driver", 3: "Driver"},  # two columns named alike, both drivers
            "D1: two drivers are named 'Price' (columns C and D); give each its own name",
        ),
        (
            ["Sales", "Price"],
            {1: "Ignore", 2: "Driver"},  # nothing left to forecast
            "No column is to be forecast: set the role of at least one column to Forecast",
        ),
    ],
)
def test_problems_with_roles(js, header, roles, error):
    rows = [["Month", *header]] + [[MONTHS[i], *([1] * len(header))] for i in range(4)]
    assert read(js, rows, roles)["errors"] == [error]


@pytest.mark.parametrize(
    ("value", "pct"), [(9.9, -10), (8.5, 5), (1234.5678, 2.5), (0.3, -33.3), (100.0, -100), (7.0, 0.1)]
)
def test_what_if_values_are_scaled_and_rounded_to_12_digits(js, value, pct):
    assert js("requests.js", "scaled", value, pct) == float(f"{value * (1 + pct / 100):.12g}")


def test_scenario_labels(js):
    assert js("requests.js", "scenarioLabel", {"Price": -10, "Fuel": 2.5}) == f"Price {MINUS}10%, Fuel +2.5%"


def drivers_data(js, series: int = 1) -> dict:
    """Sales (and Costs) over 6 months with Price and Promo known for 3 months more; Temp observed only."""
    rows = [["Month", *(["Sales", "Costs"][:series]), "Price", "Promo", "Temp"]]
    rows += [[MONTHS[i], *([10 + i] * series), 5, "no", 20 + i] for i in range(6)]
    rows += [[MONTHS[6 + k], *([""] * series), 4, "yes", ""] for k in range(3)]
    return read(js, rows, {2 + series + 1: "Driver"})  # Temp: observed only, a driver by choice


def test_forecast_requests_carry_known_drivers_for_the_horizon_and_the_others_for_the_history(js):
    data = drivers_data(js)
    o = {"horizon": 2, "level": 90, "joint": True, "whatIf": {"Price": 0}}

    plan = js("requests.js", "forecastRequests", data, o)

    assert plan == {
        "bodies": [
            {
                "series": [
                    {
                        "name": "Sales",
                        "values": [10, 11, 12, 13, 14, 15],
                        "timestamps": [day(m) for m in MONTHS[:6]],
                        "covariates": {
                            "Price": [5] * 6 + [4, 4],  # n + horizon
                            "Promo": ["no"] * 6 + ["yes", "yes"],
                            "Temp": [20, 21, 22, 23, 24, 25],  # past only: n
                        },
                    }
                ],
                "horizon": 2,
                "quantile_levels": [0.05, 0.5, 0.95],  # no joint with one series; no scenario at 0%
            }
        ],
        "scenario": None,
    }


@pytest.mark.parametrize("joint", [False, True])
def test_a_what_if_rides_with_the_forecast_or_as_a_second_joint_request(js, joint):
    data = drivers_data(js, series=2)
    o = {"horizon": 3, "level": 80, "joint": joint, "whatIf": {"Price": -50}}

    plan = js("requests.js", "forecastRequests", data, o)

    assert plan["scenario"] == {"label": f"Price {MINUS}50%", "changes": {"Price": -50}}
    series = [s for body in plan["bodies"] for s in body["series"]]
    assert [s["name"] for s in series] == ["Sales", "Costs", f"Sales (Price {MINUS}50%)", f"Costs (Price {MINUS}50%)"]
    assert [s["covariates"]["Price"][6:] for s in series] == [[4, 4, 4]] * 2 + [[2, 2, 2]] * 2
    assert all(s["covariates"]["Price"][:6] == [5] * 6 for s in series)  # the history is what happened
    assert len(plan["bodies"]) == (2 if joint else 1)
    assert all(body.get("joint", False) is joint for body in plan["bodies"])


def test_backtest_and_anomaly_requests_send_drivers_for_the_history_and_name_the_known_ones(js):
    data = drivers_data(js)
    o = {"horizon": 2, "windows": 2, "level": 80, "joint": False}

    backtest = js("requests.js", "backtestRequest", data, o)
    anomalies = js("requests.js", "anomaliesRequest", data, o)

    assert backtest["future_covariates"] == anomalies["future_covariates"] == ["Price", "Promo"]
    for body in (backtest, anomalies):
        assert {k: len(v) for k, v in body["series"][0]["covariates"].items()} == {"Price": 6, "Promo": 6, "Temp": 6}
    plain = read(js, [["Month", "Sales"]] + [[m, 1] for m in MONTHS])
    assert "future_covariates" not in js("requests.js", "backtestRequest", plain, o)


@pytest.mark.parametrize(("horizon", "refused"), [(3, False), (1, False), (4, True)])
def test_the_horizon_may_not_pass_the_drivers_future(js, horizon, refused):
    problem = js("requests.js", "horizonProblem", drivers_data(js), horizon)
    assert (problem is not None) is refused
    if refused:
        assert problem.startswith("The horizon of 4 steps goes past the drivers' future values (Price to row 10, ")


@pytest.mark.parametrize(
    ("loc", "cell"),
    [
        (["series", 0, "covariates", "Price", 7], "C9"),  # a future value: row 2 + 7
        (["series", 1, "covariates", "Promo", 0], "D2"),  # the what-if copy of series 0 points at the same cells
        (["series", 0, "covariates", "Temp"], "E2:E10"),  # the whole driver (a length error)
        (["series", 0, "covariates", "Wind", 0], None),
        (["series", 0, "values", 3], "B5"),
    ],
)
def test_server_locations_point_at_driver_cells(js, loc, cell):
    assert js("parse.js", "cellForLocation", drivers_data(js), loc) == cell
