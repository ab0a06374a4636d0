"""Browser fixtures for the task pane tests: Debian's Chromium driven by Playwright, the real pane served by
the real app (``live_server``), with Excel and office.js faked (``tests/fake_excel.js``).

Test modules load them with ``pytest_plugins = ["tests.pane_fixtures"]``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from tests.pane_helpers import Pane, open_pane

HERE = Path(__file__).resolve().parent
FAKE_EXCEL = HERE / "fake_excel.js"
OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"the pane tests need Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def js(browser: Browser, live_server: str) -> Iterator[Callable[..., Any]]:
    """Call an exported function of an addin/ module: js("dates.js", "detectFrequency", serials)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/addin/help.html")  # same origin as the modules; loads none of the pane

    def call(module: str, function: str, *args: Any) -> Any:
        return page.evaluate(
            "async ([m, f, args]) => (await import(`/addin/${m}`))[f](...args)", [module, function, list(args)]
        )

    yield call
    context.close()


@pytest.fixture
def pane_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A fresh page (not yet opened) with office.js routed to an empty script and the fake Excel injected."""
    context = browser.new_context(viewport={"width": 360, "height": 820})

    def network(route: Route) -> None:
        if route.request.url == OFFICE_JS:
            route.fulfill(status=200, content_type="text/javascript", body="")
        elif urlsplit(route.request.url).hostname == "127.0.0.1":  # the live server, or a test's own
            route.continue_()
        else:
            route.abort()

    context.route("**/*", network)
    context.add_init_script(path=str(FAKE_EXCEL))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the pane: {errors}"


@pytest.fixture
def pane(pane_page: Page, live_server: str) -> Pane:
    """The pane, open and connected to the live server."""
    return open_pane(pane_page, live_server)
