"""Browser fixtures for the task pane tests: Debian's Chromium driven by Playwright, the real pane served by
the real app (``live_server``), with Excel and office.js faked (``tests/fake_excel.js``).

Every page runs under the Content-Security-Policy the app sends, and a test fails on any violation of it
(``watch_csp`` in ``tests/pane_helpers.py`` says how the harness stays inside the policy).

Test modules load them with ``pytest_plugins = ["tests.pane_fixtures"]``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.pane_helpers import Pane, office_context, open_pane, watch_csp

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
    violations = watch_csp(context, page)
    page.goto(f"{live_server}/addin/help.html")  # same origin as the modules; loads none of the pane

    def call(module: str, function: str, *args: Any) -> Any:
        return page.evaluate(
            "async ([m, f, args]) => (await import(`/addin/${m}`))[f](...args)", [module, function, list(args)]
        )

    yield call
    context.close()
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def pane_page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A fresh page (not yet opened) with office.js routed to an empty script and the fake Excel injected;
    the test fails on an uncaught error or a Content-Security-Policy violation."""
    context = office_context(browser, viewport={"width": 360, "height": 820})
    page = context.new_page()
    violations = watch_csp(context, page)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"uncaught errors in the pane: {errors}"
    assert not violations, f"Content-Security-Policy violations: {violations}"


@pytest.fixture
def pane(pane_page: Page, live_server: str) -> Pane:
    """The pane, open and connected to the live server, drawing the model's own bands (the tests of calibrated
    bands open a pane of their own, with the option ticked as the pane starts)."""
    opened = open_pane(pane_page, live_server)
    opened.raw_bands()
    return opened
