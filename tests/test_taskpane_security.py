"""The pane against a server that needs an API key, and the pane's pages under the Content-Security-Policy
the app sends: the settings panel (gear), the key on every call but health, the messages for a missing or
wrong key, the key kept across reloads, and no policy violation on any page."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from werkzeug.serving import make_server

from chronos_excel import create_app
from chronos_excel.security import PANE_POLICY
from tests.pane_helpers import ARTIFACTS, Pane, columns, months, office_context, open_pane, serial, watch_csp

pytest_plugins = ["tests.pane_fixtures"]

KEY = "pane-key-7f3a"
MISSING = "This server needs an API key: open Settings (gear) and enter it."
WRONG = (
    "The server did not accept the API key: check it in Settings (gear). "
    "It must be one of the keys the server was started with."
)


@pytest.fixture(scope="module")
def keyed_server(tiny_model_dir: Path) -> Iterator[str]:
    """The real app with API keys set, behind a real threaded HTTP server (as conftest's live_server)."""
    app = create_app(
        {"MODEL": str(tiny_model_dir), "DEVICE": "cpu", "DTYPE": "float32", "TESTING": True, "API_KEYS": f"{KEY},k2"}
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def keyed(pane_page: Page, keyed_server: str) -> Pane:
    """The pane opened from the keyed server, with twelve months of sales selected."""
    pane = open_pane(pane_page, keyed_server)
    pane.raw_bands()
    stamps = [serial(d) for d in months(date(2023, 1, 1), 12)]
    formats = [["General", "General"]] + [["mmm yyyy", "0"]] * 12
    pane.set_cells("Sheet1!A1", [["Month", "Sales"], *columns(stamps, [100.0 + i for i in range(12)])], formats)
    pane.select("Sheet1!A1:B13")
    return pane


def record_auth(pane: Pane) -> list[tuple[str, str | None]]:
    """A list that fills with (path, Authorization header or None) for every API request the pane makes."""
    seen: list[tuple[str, str | None]] = []
    pane.page.on(
        "request",
        lambda r: seen.append((urlsplit(r.url).path, r.headers.get("authorization"))) if "/api/" in r.url else None,
    )
    return seen


def save_key(pane: Pane, key: str) -> None:
    pane.button("Settings").click()
    pane.page.get_by_label("Server API key").fill(key)
    pane.button("Save").click()
    expect(pane.page.locator("#settings")).to_be_hidden()


def test_without_a_key_the_pane_says_one_is_needed_and_opens_the_settings(keyed):
    message = keyed.run("Forecast")

    assert message.splitlines() == [MISSING, "Open settings"]
    expect(keyed.page.locator("#message")).to_have_attribute("data-kind", "error")
    assert keyed.sheet_names() == ["Sheet1"]
    keyed.button("Open settings").click()
    field = keyed.page.get_by_label("Server API key")
    expect(field).to_be_visible()
    expect(field).to_be_focused()
    expect(field).to_have_attribute("type", "password")
    expect(field).to_have_value("")
    expect(keyed.button("Settings")).to_have_attribute("aria-expanded", "true")
    expect(keyed.page.locator("#api-key-store")).to_have_text("this computer's storage for the add-in")
    ARTIFACTS.mkdir(exist_ok=True)
    keyed.page.screenshot(path=str(ARTIFACTS / "taskpane-settings.png"))


def test_with_the_right_key_forecast_succeeds_and_every_call_but_health_carries_it(keyed):
    seen = record_auth(keyed)
    save_key(keyed, f"  {KEY} ")  # pasted with spaces around it: trimmed
    assert keyed.message() == "API key saved: the pane sends it with every request."

    message = keyed.run("Forecast")

    assert message == "Forecast: 12 steps ahead for Sales, 80% interval. Written to Forecast!A1:E27."
    assert ("/api/v1/forecast", f"Bearer {KEY}") in seen
    assert all(auth == f"Bearer {KEY}" for path, auth in seen if not path.endswith("/health"))
    keyed.page.reload()
    expect(keyed.page.locator("#status")).to_have_attribute("data-state", "ok")
    assert ("/api/v1/health", None) in seen  # health is open: the key never goes there


def test_a_wrong_key_is_said_with_the_way_to_fix_it(keyed):
    save_key(keyed, "not-the-key")

    message = keyed.run("Detect anomalies")

    assert message.splitlines() == [WRONG, "Open settings"]
    keyed.button("Open settings").click()
    expect(keyed.page.get_by_label("Server API key")).to_have_value("not-the-key")


def test_the_key_is_kept_across_a_reload_of_the_pane(keyed, keyed_server):
    save_key(keyed, KEY)
    stored = keyed.page.evaluate("() => ({...localStorage})")
    assert stored == {"chronos-excel.apiKey": KEY}  # the test browser has no roaming settings

    pane = open_pane(keyed.page, keyed_server)  # a fresh document: the fake workbook starts empty
    pane.set_cells("Sheet1!A1", [["Sales"], *[[100.0 + i] for i in range(12)]])
    pane.select("Sheet1!A1:A13")
    assert pane.run("Forecast").startswith("Forecast: 10 steps ahead for Sales")
    pane.button("Settings").click()
    expect(pane.page.get_by_label("Server API key")).to_have_value(KEY)


def test_show_hide_close_and_an_empty_key_removes_it(keyed):
    save_key(keyed, KEY)
    keyed.button("Settings").click()
    field = keyed.page.get_by_label("Server API key")
    keyed.button("Show").click()
    expect(field).to_have_attribute("type", "text")
    keyed.button("Hide").click()
    expect(field).to_have_attribute("type", "password")
    field.fill("edited but not saved")
    keyed.button("Close").click()
    expect(keyed.page.locator("#settings")).to_be_hidden()
    expect(keyed.button("Settings")).to_be_focused()
    keyed.button("Settings").click()
    expect(field).to_have_value(KEY)  # closing keeps the saved key
    field.press("Escape")
    expect(keyed.page.locator("#settings")).to_be_hidden()

    save_key(keyed, "")

    assert keyed.message() == "API key removed: the pane sends none."
    assert keyed.page.evaluate("() => ({...localStorage})") == {}
    assert keyed.run("Forecast").splitlines()[0] == MISSING


def test_a_key_no_header_can_carry_is_refused_in_the_panel(keyed):
    keyed.button("Settings").click()
    keyed.page.get_by_label("Server API key").fill("clé secrète")
    keyed.button("Save").click()

    error = keyed.page.locator("#settings-error")
    expect(error).to_have_text("An API key is letters, digits and symbols without spaces; found 'é' at character 3.")
    expect(keyed.page.locator("#settings")).to_be_visible()
    assert keyed.page.evaluate("() => ({...localStorage})") == {}


def test_without_a_key_on_an_open_server_no_authorization_is_sent(pane, live_server):
    seen = record_auth(pane)
    pane.set_cells("Sheet1!A1", [["Sales"], *[[float(i % 5)] for i in range(12)]])
    pane.select("Sheet1!A1:A13")
    assert pane.run("Forecast").startswith("Forecast:")
    assert seen and all(auth is None for _, auth in seen)


# ---- the Content-Security-Policy --------------------------------------------------------------------------


@pytest.mark.parametrize("page_name", ["taskpane.html", "commands.html", "help.html"])
def test_the_pages_run_under_the_apps_policy_with_no_violation(browser: Browser, keyed_server, page_name):
    context = office_context(browser)
    page = context.new_page()
    violations = watch_csp(context, page)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    loaded: list[tuple[str, int]] = []
    page.on("response", lambda r: loaded.append((urlsplit(r.url).path, r.status)) if "/addin/" in r.url else None)

    response = page.goto(f"{keyed_server}/addin/{page_name}")
    page.wait_for_load_state("networkidle")

    assert response.headers["content-security-policy"] == PANE_POLICY
    assert all(status == 200 for _, status in loaded), loaded  # every script and style it names was served
    if page_name == "commands.html":
        assert ("/addin/commands.js", 200) in loaded
    if page_name == "taskpane.html":
        expect(page.locator("#status")).to_have_attribute("data-state", "ok")  # its modules ran
        page.get_by_role("button", name="Settings").click()
        expect(page.get_by_label("Server API key")).to_be_visible()
    context.close()
    assert violations == []
    assert errors == []


def test_the_watch_sees_a_violation(browser: Browser, live_server):
    """The zero-violation checks are not vacuous: an inline script, as the pane once had, is caught."""
    context = browser.new_context()
    page = context.new_page()
    violations = watch_csp(context, page)
    page.goto(f"{live_server}/addin/help.html")
    page.evaluate(
        """() => { const s = document.createElement("script"); s.textContent = "window.ran = 1";
                   document.head.append(s); }"""
    )
    page.wait_for_timeout(200)
    ran = page.evaluate("() => window.ran")
    context.close()
    assert ran is None
    assert any("script-src" in v for v in violations), violations


# ---- where the key is kept ---------------------------------------------------------------------------------


@pytest.fixture
def bare_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A page of the pane's origin that loads none of it, for calling settings.js with a fake Office."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/addin/help.html")
    yield page
    context.close()


ROAMING = """(fail) => {
  const store = {};
  window.saved = [];
  window.Office = {
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    context: { roamingSettings: {
      get: (name) => store[name],
      set: (name, value) => { store[name] = value; },
      remove: (name) => { delete store[name]; },
      saveAsync: (callback) => setTimeout(() => {
        if (!fail) window.saved.push({ ...store });
        callback(fail ? { status: "failed", error: { message: "quota" } } : { status: "succeeded" });
      }),
    } },
  };
}"""


def test_roaming_settings_are_used_where_office_has_them(bare_page):
    bare_page.evaluate(ROAMING, False)
    result = bare_page.evaluate(
        """async () => {
            const s = await import("/addin/settings.js");
            const saved = await s.saveApiKey(" k1 ");
            return { saved, read: s.apiKey(), where: s.storageName(), local: { ...localStorage } };
        }"""
    )
    assert result == {"saved": "k1", "read": "k1", "where": "your Office roaming settings", "local": {}}
    assert bare_page.evaluate("() => window.saved") == [{"chronos-excel.apiKey": "k1"}]  # saveAsync persisted it


def test_a_failed_roaming_save_rejects_with_offices_reason(bare_page):
    bare_page.evaluate(ROAMING, True)
    message = bare_page.evaluate(
        """async () => {
            const s = await import("/addin/settings.js");
            try { await s.saveApiKey("k1"); return "saved"; } catch (e) { return e.message; }
        }"""
    )
    assert message == "Office could not save the settings: quota"


def test_local_storage_is_partitioned_where_office_partitions_it(bare_page):
    bare_page.evaluate("() => { window.Office = { context: { partitionKey: 'p1:' } }; }")
    result = bare_page.evaluate(
        """async () => {
            const s = await import("/addin/settings.js");
            await s.saveApiKey("k2");
            return { read: s.apiKey(), local: { ...localStorage } };
        }"""
    )
    assert result == {"read": "k2", "local": {"p1:chronos-excel.apiKey": "k2"}}
