"""Detect anomalies from the pane: the table per series, the highlighted source cells, Clear highlights."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import expect

from tests.pane_helpers import columns, serial

pytest_plugins = ["tests.pane_fixtures"]

HIGHLIGHT = "#FFC7CE"
YELLOW = "#FFFF00"


def daily_data(n: int = 80) -> tuple[list[float], list[float], list[float]]:
    """Two daily series with a weekly pattern and one wild value each (Sales at 50, Costs at 65)."""
    stamps = [serial(date(2024, 1, 1) + timedelta(days=i)) for i in range(n)]
    sales = [100.0 + 10 * (i % 7) for i in range(n)]
    costs = [40.0 + 2 * (i % 7) for i in range(n)]
    sales[50] = 5000.0
    costs[65] = -900.0
    return stamps, sales, costs


def test_anomalies_are_written_highlighted_counted_and_the_fills_restored(pane, client):
    stamps, sales, costs = daily_data()
    costs[70] = None  # a missing value is not scored
    rows = [["Day", "Sales", "Costs"], *columns(stamps, sales, ["" if v is None else v for v in costs])]
    pane.set_cells("Sheet1!A1", rows, [["General"] * 3] + [["d-mmm", "0", "0.0"]] * 80)
    pane.set_cells("Sheet1!B52", [[sales[50]]], fill=YELLOW)  # the user's own fill on the Sales outlier
    pane.set_cells("Sheet1!B10", [[sales[8]]], fill=YELLOW)  # and on a normal cell
    fills_before = pane.fills("Sheet1!A1:C81")
    pane.use_selection("Sheet1!A1:C81")

    message = pane.run("Detect anomalies")

    series = [
        {"name": "Sales", "values": sales, "timestamps": stamps},
        {"name": "Costs", "values": costs, "timestamps": stamps},
    ]
    response = client.post("/api/v1/anomalies", json={"series": series, "level": 0.8})
    assert response.status_code == 200
    expected = response.get_json()["anomalies"]
    counts = [sum(a["is_anomaly"][i] is True for i in range(80)) for a in expected]
    assert expected[0]["is_anomaly"][50] is True and expected[1]["is_anomaly"][65] is True

    total = sum(counts)
    assert message == (f"{total} anomalies found: Sales {counts[0]}, Costs {counts[1]}. Written to Anomalies!A1:O83.")
    table = pane.values("Anomalies!A1:O81")
    for block, (a, name) in enumerate(zip(expected, ("Sales", "Costs"), strict=True)):
        col = 8 * block
        assert table[0][col : col + 7] == [
            "Day",
            name,
            f"{name} expected",
            f"{name} lower 80%",
            f"{name} upper 80%",
            f"{name} anomaly",
            f"{name} score",
        ]
        body = [row[col : col + 7] for row in table[1:]]
        blank = lambda values: ["" if v is None else v for v in values]  # noqa: E731
        assert [r[0] for r in body] == stamps
        assert [r[1] for r in body] == blank(a["values"])
        assert [r[2] for r in body] == blank(a["expected"])
        assert [r[3] for r in body] == blank(a["lower"])
        assert [r[4] for r in body] == blank(a["upper"])
        assert [r[5] for r in body] == blank(a["is_anomaly"])  # TRUE/FALSE, blank where not scored
        assert [r[6] for r in body] == blank(a["score"])
    assert [row[7] for row in table] == [""] * 81  # an empty column between the series
    assert table[71][13] == "" and table[71][9] == ""  # Costs' missing value: no flag

    flagged = {(1 + i, 1 + k) for k, a in enumerate(expected) for i in range(80) if a["is_anomaly"][i] is True}
    fills = pane.fills("Sheet1!A1:C81")
    for r in range(81):
        for c in range(3):
            assert fills[r][c] == (HIGHLIGHT if (r, c) in flagged else fills_before[r][c]), (r, c)

    clear = pane.button("Clear highlights")
    expect(clear).to_be_visible()
    clear.click()
    pane.wait_idle()

    assert pane.message() == f"Restored the fill of {total} cells."
    assert pane.fills("Sheet1!A1:C81") == fills_before  # yellow stays yellow, no fill stays none
    expect(clear).to_be_hidden()


def test_a_second_scan_keeps_the_original_fills_for_clear_highlights(pane):
    stamps, sales, _ = daily_data()
    pane.set_cells("Sheet1!A1", [["Day", "Sales"], *columns(stamps, sales)], [["General"] * 2] + [["d-mmm", "0"]] * 80)
    pane.use_selection("Sheet1!A1:B81")
    assert re.fullmatch(
        r"(1 anomaly|\d+ anomalies) found\. Written to Anomalies!A1:G83\.", pane.run("Detect anomalies")
    )
    assert pane.fills("Sheet1!B52") == [[HIGHLIGHT]]

    pane.run("Detect anomalies")  # the highlighted cells are scanned again

    assert pane.sheet_names() == ["Sheet1", "Anomalies", "Anomalies (2)"]
    pane.button("Clear highlights").click()
    pane.wait_idle()
    assert pane.fills("Sheet1!A1:B81") == [[None, None]] * 81
