"""The pane's Adapt section, in Chromium against the real app: a training job from the selection with its
progress and Cancel, the verdict on the held-out window, the adapted model offered in the model select and
sent with the actions, and a job that survives closing and reopening the pane."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect

from tests.adapting import sawtooth
from tests.pane_helpers import Pane, columns, months, open_pane, serial

pytest_plugins = ["tests.pane_fixtures"]

VERDICT = re.compile(
    r"Adapted (?P<name>\S+): MASE (?P<adapted>\d+\.\d\d) vs (?P<zero>\d+\.\d\d) zero-shot on the last window "
    r"\(skill (?P<skill>-?\d+)%\)\."
)


def put_sales(pane: Pane, n: int = 72) -> None:
    stamps = [serial(d) for d in months(date(2019, 1, 1), n)]
    formats = [["General", "General"]] + [["mmm yyyy", "0.00"]] * n
    pane.set_cells("Sheet1!A1", [["Month", "Sales"], *columns(stamps, sawtooth(n, seed=4, period=12))], formats)
    pane.use_selection(f"Sheet1!A1:B{n + 1}")


def adapt(pane: Pane, name: str) -> None:
    pane.page.get_by_label("Name of the adapted model").fill(name)
    pane.button("Adapt the model to this data").click()


def verdict(pane: Pane) -> re.Match:
    summary = pane.page.locator("#adapt-summary")
    expect(summary).to_be_visible(timeout=120_000)
    match = VERDICT.match(summary.inner_text())
    assert match, summary.inner_text()
    return match


def test_adapting_shows_progress_then_the_verdict_and_offers_the_adapted_model(pane, client):
    put_sales(pane)
    adapt(pane, "Sales-adapted")
    progress = pane.page.locator("#adapt-text")
    expect(progress).to_contain_text(re.compile(r"Adapting Sales-adapted: (Step \d+ of 200|Waiting)"), timeout=30_000)
    expect(pane.button("Adapt the model to this data")).to_be_disabled()  # one training job at a time

    match = verdict(pane)
    adapter = client.get("/api/v1/adapters/Sales-adapted").get_json()
    validation = adapter["validation"]
    assert match["name"] == "Sales-adapted"
    assert float(match["adapted"]) == pytest.approx(validation["adapted"]["MASE"], abs=0.006)
    assert float(match["zero"]) == pytest.approx(validation["zero_shot"]["MASE"], abs=0.006)
    assert int(match["skill"]) == round(validation["skill"] * 100)
    use = pane.page.get_by_label("Use adapted model")
    expect(use).to_be_checked(checked=validation["recommended"])
    expect(pane.page.locator("#adapt-progress")).to_be_hidden()
    expect(pane.button("Adapt the model to this data")).to_be_enabled()
    choices = pane.page.locator("#model option").all_inner_texts()
    assert f"Sales-adapted · skill {round(validation['skill'] * 100)}% · {adapter['created'][:10]}" in choices

    # ticked, the adapted model goes with every action, and the output sheet names it
    use.check()
    expect(pane.page.get_by_label("Forecast with")).to_have_value("Sales-adapted")
    posts = pane.record_posts()
    pane.set_option("Horizon", "6")
    message = pane.run("Forecast")
    assert message.startswith("Forecast: 6 steps ahead for Sales")
    assert posts[-1]["path"] == "/api/v1/forecast" and posts[-1]["body"]["adapter"] == "Sales-adapted"
    [caption] = [row[0] for row in pane.values("Forecast!A1:A82") if str(row[0]).startswith("Model: ")]
    assert caption.endswith("with adapter Sales-adapted (cpu, float32)")
    pane.run("Backtest")
    pane.run("Detect anomalies")
    assert [p["body"].get("adapter") for p in posts[-2:]] == ["Sales-adapted", "Sales-adapted"]
    # unticked, the model as it is
    use.uncheck()
    expect(pane.page.get_by_label("Forecast with")).to_have_value("")
    pane.run("Forecast")
    assert "adapter" not in posts[-1]["body"]


def test_a_job_goes_on_when_the_pane_is_closed_and_the_pane_picks_it_up_again(pane, live_server):
    put_sales(pane)
    adapt(pane, "Reopened")
    expect(pane.page.locator("#adapt-text")).to_contain_text("Adapting Reopened", timeout=30_000)

    reopened = open_pane(pane.page, live_server)  # the pane closed and opened again: a fresh page
    expect(reopened.page.locator("#adapt-text")).to_contain_text("Adapting Reopened", timeout=30_000)
    assert verdict(reopened)["name"] == "Reopened"


def test_cancel_stops_the_job_and_keeps_nothing(pane, client):
    put_sales(pane)
    adapt(pane, "Cancelled")
    expect(pane.page.locator("#adapt-text")).to_contain_text(re.compile(r"Step [1-9]\d* of 200"), timeout=60_000)
    pane.page.locator("#adapt-cancel").click()
    expect(pane.page.locator("#message")).to_contain_text("Adapting Cancelled was cancelled; nothing was kept.")
    expect(pane.page.locator("#adapt-progress")).to_be_hidden()
    assert client.get("/api/v1/adapters/Cancelled").status_code == 404
    assert "Cancelled" not in " ".join(pane.page.locator("#model option").all_inner_texts())


def test_a_series_too_short_to_adapt_says_the_minimum(pane):
    put_sales(pane, 30)  # monthly: horizon 12, so 12 held out + 12 + 16 to train on = 40 points at least
    adapt(pane, "Short")
    pane.wait_idle()
    message = pane.message()
    assert "adapting needs at least 40" in message and "B2:B31" in message, message
