"""The task pane as a test sees it (``Pane``), the browser context it runs in, and small builders for
worksheet data."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE / "artifacts"
FAKE_EXCEL = HERE / "fake_excel.js"
OFFICE_JS = "https://appsforoffice.microsoft.com/lib/1/hosted/office.js"
EXCEL_EPOCH = date(1899, 12, 30)
# Chromium logs every violation ("… violates the following Content Security Policy directive …"); the
# event adds the directive and where it happened.
CSP_WATCH = """document.addEventListener("securitypolicyviolation", (e) => console.error(
  `Content Security Policy violation: ${e.effectiveDirective} blocked ${e.blockedURI}` +
  ` in ${e.sourceFile || e.documentURI}:${e.lineNumber}`));"""


def office_context(browser: Browser, **options: Any) -> BrowserContext:
    """A browser context whose pages get the fake Excel, with office.js routed to an empty script (from its
    real, allowed address) and nothing reachable but 127.0.0.1. The responses of the app pass unchanged, so
    its Content-Security-Policy holds; the fake is an init script, run by the browser before the page's own
    scripts and not subject to the policy, rather than an inline ``<script>``, which would be."""
    context = browser.new_context(**options)

    def network(route: Route) -> None:
        if route.request.url == OFFICE_JS:
            route.fulfill(status=200, content_type="text/javascript", body="")
        elif urlsplit(route.request.url).hostname == "127.0.0.1":  # the live server, or a test's own
            route.continue_()
        else:
            route.abort()

    context.route("**/*", network)
    context.add_init_script(path=str(FAKE_EXCEL))
    return context


def watch_csp(context: BrowserContext, page: Page) -> list[str]:
    """A list that fills with every Content-Security-Policy violation in ``page`` (watch before opening it)."""
    context.add_init_script(CSP_WATCH)
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    return violations


def serial(day: date | datetime) -> float:
    """Excel's 1900-system serial number of a date or date-time."""
    if isinstance(day, datetime):
        return (day - datetime(1899, 12, 30)).total_seconds() / 86400
    return float((day - EXCEL_EPOCH).days)


def months(start: date, n: int) -> list[date]:
    """``n`` month starts from ``start``."""
    return [date(start.year + (start.month - 1 + k) // 12, (start.month - 1 + k) % 12 + 1, 1) for k in range(n)]


def columns(*cols: list[Any]) -> list[list[Any]]:
    """Rows from columns: columns([1, 2], [3, 4]) == [[1, 3], [2, 4]]."""
    return [list(row) for row in zip(*cols, strict=True)]


class Pane:
    """The task pane in a page, with the fake workbook behind it."""

    def __init__(self, page: Page, base_url: str) -> None:
        self.page = page
        self.base_url = base_url

    # the workbook -----------------------------------------------------------------------------
    def set_cells(self, address: str, values: list[list[Any]], formats: Any = None, fill: str | None = None) -> None:
        self.page.evaluate(
            "([a, v, f, c]) => __fake.set(a, v, f ?? undefined, c ?? undefined)", [address, values, formats, fill]
        )

    def select(self, address: str) -> None:
        self.page.evaluate("(a) => __fake.select(a)", address)

    def values(self, address: str) -> list[list[Any]]:
        return self.page.evaluate("(a) => __fake.values(a)", address)

    def formats(self, address: str) -> list[list[str]]:
        return self.page.evaluate("(a) => __fake.formats(a)", address)

    def fills(self, address: str) -> list[list[str | None]]:
        return self.page.evaluate("(a) => __fake.fills(a)", address)

    def bold(self, address: str) -> list[list[bool]]:
        return self.page.evaluate("(a) => __fake.bold(a)", address)

    def sheet_names(self) -> list[str]:
        return self.page.evaluate("() => __fake.sheetNames()")

    def active_sheet(self) -> str:
        return self.page.evaluate("() => __fake.activeSheet()")

    def used_range(self, sheet: str) -> str | None:
        return self.page.evaluate("(s) => __fake.usedRange(s)", sheet)

    def charts(self, sheet: str) -> list[dict[str, Any]]:
        return self.page.evaluate("(s) => __fake.charts(s)", sheet)

    def excel_log(self) -> list[dict[str, Any]]:
        return self.page.evaluate("() => __fake.log")

    def fail_next(self, op: str, code: str = "GeneralException") -> None:
        self.page.evaluate("([op, code]) => { __fake.failOn = {op, code}; }", [op, code])

    # the pane ---------------------------------------------------------------------------------
    def button(self, name: str):
        return self.page.get_by_role("button", name=name, exact=True)

    def use_selection(self, address: str) -> None:
        self.select(address)
        self.button("Use selection").click()
        expect(self.page.locator("#summary")).to_be_visible()
        self.wait_idle()

    def set_option(self, label: str, value: str) -> None:
        field = self.page.get_by_label(label, exact=True)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)

    def raw_bands(self) -> None:
        """Untick "Calibrate bands on this history" (ticked when the pane opens): the model's own bands."""
        self.page.get_by_label("Calibrate bands on this history").uncheck()

    def place_beside(self) -> None:
        self.page.get_by_label("Beside the data").check()

    def run(self, action: str) -> str:
        """Click an action button, wait for it to finish, return the message bar's text."""
        self.button(action).click()
        self.wait_idle()
        return self.message()

    def wait_idle(self) -> None:
        expect(self.page.locator("#progress")).to_be_hidden(timeout=60_000)

    def message(self) -> str:
        bar = self.page.locator("#message")
        expect(bar).to_be_visible()
        return bar.inner_text()

    def summary(self) -> dict[str, str]:
        """The Data summary's lines; "drivers" and "future" only when the range has some."""
        keys = ("timeline", "series", "drivers", "points", "future", "frequency")
        lines = {k: self.page.locator(f"#summary-{k}") for k in keys}
        return {k: line.inner_text() for k, line in lines.items() if line.is_visible()}

    def roles(self) -> dict[str, str]:
        """Each column's role select: {"Sales (B)": "Forecast", …}."""
        return self.page.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('#roles-list select')]
                .map((s) => [s.labels[0].textContent, s.value]))"""
        )

    def set_role(self, column: str, role: str) -> None:
        """Choose a column's role by its label, e.g. set_role("Price (C)", "Ignore")."""
        self.page.get_by_label(column, exact=True).select_option(role)

    def record_posts(self) -> list[dict[str, Any]]:
        """A list that fills with {"path": "/api/v1/forecast", "body": {…}} for every POST the pane makes."""
        posts: list[dict[str, Any]] = []
        self.page.on(
            "request",
            lambda r: (
                posts.append({"path": urlsplit(r.url).path, "body": r.post_data_json}) if r.method == "POST" else None
            ),
        )
        return posts


def open_pane(page: Page, base_url: str, connected: bool = True) -> Pane:
    """Open the pane served by the app; wait until it reports the server connected."""
    page.goto(f"{base_url}/addin/taskpane.html")
    if connected:
        expect(page.locator("#status")).to_have_attribute("data-state", "ok")
    return Pane(page, base_url)
