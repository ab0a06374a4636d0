"""Backtest from the pane: the metrics table against seasonal naive, the per-window table and its chart."""

from __future__ import annotations

from datetime import date

from tests.pane_helpers import columns, months, serial

pytest_plugins = ["tests.pane_fixtures"]

METRICS = ["MAE", "RMSE", "MAPE", "sMAPE", "MASE", "WQL", "coverage"]


def blank(value):
    return "" if value is None else value


def test_backtest_writes_metrics_windows_and_a_chart(pane, client):
    stamps = [serial(d) for d in months(date(2020, 1, 1), 48)]
    sales = [300.0 + 4 * i + 25 * ((i % 12) in (10, 11)) for i in range(48)]
    costs = [100.0 + (i % 12) * 3 for i in range(48)]
    rows = [["Month", "Sales", "Costs"], *columns(stamps, sales, costs)]
    pane.set_cells("Sheet1!A1", rows, [["General"] * 3] + [["mmm-yy", "#,##0", "#,##0"]] * 48)
    pane.use_selection("Sheet1!A1:C49")
    pane.set_option("Horizon", "6")
    pane.set_option("Backtest windows", "3")
    pane.set_option("Interval", "90")

    message = pane.run("Backtest")

    body = {
        "series": [
            {"name": "Sales", "values": sales, "timestamps": stamps},
            {"name": "Costs", "values": costs, "timestamps": stamps},
        ],
        "horizon": 6,
        "windows": 3,
        "level": 0.9,
        "quantile_levels": [0.05, 0.5, 0.95],
    }
    response = client.post("/api/v1/backtest", json=body)
    assert response.status_code == 200
    expected = response.get_json()["backtests"]
    assert message == "Backtest: 3 windows of 6 steps for 2 series. Written to Backtest!A1:Q31."
    table = pane.values("Backtest!A1:Q29")
    formats = pane.formats("Backtest!A1:Q29")
    for block, (b, name) in enumerate(zip(expected, ("Sales", "Costs"), strict=True)):
        col = 9 * block
        assert table[0][col : col + 3] == [name, "Chronos-2", "Seasonal naive"]
        for i, metric in enumerate(METRICS, start=1):
            assert table[i][col : col + 3] == [
                metric,
                blank(b["metrics"][metric]),
                blank(b["baseline"]["metrics"].get(metric)),  # blank where the baseline has no such metric
            ]
        assert table[6][col + 2] == "" and table[7][col + 2] == ""  # WQL, coverage
        assert table[8][col : col + 2] == ["Skill score", blank(b["skill"])]
        assert formats[3][col + 1] == "0.0%" and formats[2][col + 1] == "#,##0"  # MAPE, RMSE
        assert table[10][col : col + 8] == [
            "Window",
            "Cutoff",
            "Month",
            "Actual",
            "Chronos-2",
            "Seasonal naive",
            "Lower 90%",
            "Upper 90%",
        ]
        expected_rows = [
            [
                k + 1,
                w["cutoff"],
                w["timestamps"][t],
                w["actual"][t],
                w["median"][t],
                w["baseline"][t],
                w["quantiles"]["0.05"][t],
                w["quantiles"]["0.95"][t],
            ]
            for k, w in enumerate(b["windows"])
            for t in range(6)
        ]
        assert [row[col : col + 8] for row in table[11:29]] == expected_rows
        assert {row[col + 2] for row in formats[11:29]} == {"mmm-yy"}
    assert expected[0]["windows"][-1]["timestamps"][-1] == stamps[-1]  # the last window ends at the last point
    charts = pane.charts("Backtest")
    assert [(c["source"], c["categories"]) for c in charts] == [
        ("Backtest!D11:F29", "Backtest!C12:C29"),
        ("Backtest!M11:O29", "Backtest!L12:L29"),
    ]
    assert charts[0]["series"] == ["Actual", "Chronos-2", "Seasonal naive"]


def test_a_series_too_short_for_the_windows_gets_the_servers_reason(pane, client):
    stamps = [serial(d) for d in months(date(2023, 1, 1), 14)]
    values = [float(10 + i) for i in range(14)]
    pane.set_cells(
        "Sheet1!A1", [["Month", "Sales"], *columns(stamps, values)], [["General"] * 2] + [["mmm-yy", "0"]] * 14
    )
    pane.use_selection("Sheet1!A1:B15")

    message = pane.run("Backtest")  # 12 months ahead, 3 windows: far more than 14 points hold

    body = {
        "series": [{"name": "Sales", "values": values, "timestamps": stamps}],
        "horizon": 12,
        "windows": 3,
        "level": 0.8,
        "quantile_levels": [0.1, 0.5, 0.9],
    }
    problem = client.post("/api/v1/backtest", json=body).get_json()
    assert problem["status"] == 422
    assert message.splitlines()[0] == problem["detail"]
    assert pane.sheet_names() == ["Sheet1"]


def test_without_dates_the_windows_are_placed_by_step_number(pane, client):
    values = [float(50 + (i % 5) * 3 + i) for i in range(40)]
    pane.set_cells("Sheet1!B2", [[v] for v in values])
    pane.use_selection("Sheet1!B2:B41")
    pane.set_option("Horizon", "5")
    pane.set_option("Backtest windows", "2")

    pane.run("Backtest")

    body = {"series": [{"name": "Series 1", "values": values}], "horizon": 5, "windows": 2, "level": 0.8}
    [expected] = client.post("/api/v1/backtest", json=body).get_json()["backtests"]
    table = pane.values("Backtest!A11:H21")
    assert table[0][:4] == ["Window", "Cutoff", "Step", "Actual"]
    assert [row[1] for row in table[1:]] == [w["cutoff"] + 1 for w in expected["windows"] for _ in range(5)]
    steps = [row[2] for row in table[1:]]
    assert steps == list(range(31, 41))  # the last window ends at the last point, step 40
    assert [row[3] for row in table[1:]] == [values[s - 1] for s in steps]
    assert [row[4] for row in table[1:]] == [m for w in expected["windows"] for m in w["median"]]
