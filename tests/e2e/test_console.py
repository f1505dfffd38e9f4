"""The web console at /console, driven in Debian's Chromium by Playwright, on a real server.

Every page is screenshotted at desktop and 360 px widths into ``test-output/screenshots/``.
Each test records every request its page makes and checks that all of them went to the
server under test (127.0.0.1 and its port): the console loads nothing from anywhere else.

Chromium comes from Debian (``apt-get install chromium``; ``make test`` installs it), never
from ``playwright install`` (``CONSOLE_TEST_CHROMIUM`` names another binary). Without it the
browser tests skip, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from reportd.domain.formats import Format
from reportd.generation.formats.registry import available_formats
from tests.conftest import IN_CI
from tests.server_fixtures import RunningServer, start_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize

pytestmark = pytest.mark.slow

CHROMIUM = Path(os.environ.get("CONSOLE_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 860}
PHONE: ViewportSize = {"width": 360, "height": 760}
WAIT_MS = 20_000
DASH = "\u2013"  # the en dash of "1\u201320 of 42 reports"
# Chromium's built-in PDF viewer (a component extension) loads its own pages and shared
# chrome:// resources from the browser binary when the preview shows a PDF: no network.
BROWSER_INTERNAL = ("chrome-extension://mhjfbmdgcfjbbpaeojofohoefgiehjai/", "chrome://resources/")
EXPECTED_4XX = re.compile(r"Failed to load resource: the server responded with a status of 4\d\d")

# A template with every kind of option the form generates a control for, and a PDF.
SALES_TEMPLATE = """\
id: sales
name: Sales by customer
description: Every order with its customer and amount, narrowed by date, payment status and a
  minimum amount. The PDF has a chart of the amounts by customer.
source: shop
query: |
  SELECT order_id, customer, amount, created_at, paid
  FROM orders
  WHERE tenant = :tenant_id
    AND created_at >= CAST(:since AS TIMESTAMP)
    AND amount >= :min_amount
    AND (:status = 'any' OR paid = (:status = 'paid'))
    AND (:include_small OR amount >= 50)
fields:
  - {name: order_id, type: integer, label: Order, filterable: true, sortable: true}
  - {name: customer, type: string, label: Customer, filterable: true, sortable: true}
  - {name: amount, type: number, label: Amount, filterable: true, sortable: true}
  - {name: created_at, type: datetime, label: Ordered at, sortable: true}
  - {name: paid, type: boolean, label: Paid, filterable: true}
parameters:
  type: object
  properties:
    since:
      type: string
      format: date
      default: "2024-01-01"
      description: Only orders placed on or after this day.
    status:
      type: string
      enum: [any, paid, unpaid]
      default: any
      description: Only paid or unpaid orders.
    min_amount:
      type: number
      minimum: 0
      maximum: 100000
      default: 0
      description: Only orders of at least this amount.
    include_small:
      type: boolean
      default: true
      description: Include orders under 50.
formats: [csv, json, xlsx, pdf]
display_name: Sales
pdf:
  title: Sales by customer
  chart: {type: bar, x: customer, y: amount}
"""


# The PDF writer is optional in a build; the tests use it where this one has it.
PDF = ["pdf"] if Format.PDF in available_formats() else []


def write_console_world(directory: Path) -> None:
    """The sample world's templates plus ``sales`` (options of every kind, PDF)."""
    templates = directory / "templates"
    templates.mkdir(parents=True, exist_ok=True)
    (templates / "sales.yaml").write_text(SALES_TEMPLATE)


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("console")
    write_console_world(root)
    # The webhooks page's receiver is this server's /healthz on 127.0.0.1: allow-listed.
    allow = {"REPORTD_WEBHOOKS__ALLOW_PRIVATE": '["127.0.0.1"]'}
    with start_server(root, env=allow) as running:
        yield running


@pytest.fixture(scope="module")
def api(console_server: RunningServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {console_server.admin_key}"}
    with httpx.Client(base_url=console_server.url, headers=headers, timeout=30) as client:
        yield client


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"the console tests need a browser in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Console:
    """A page of the console with the requests it made and the errors it threw."""

    def __init__(self, page: Page, server: RunningServer) -> None:
        self.page = page
        self.server = server
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        # The browser logs every 4xx answer; the tests cause some (a bad key, a bad filter).
        if message.type == "error" and not EXPECTED_4XX.match(message.text):
            self.errors.append(message.text)

    def open(self, hash_path: str = "") -> None:
        self.page.goto(f"{self.server.url}/console{hash_path}")

    def sign_in(self, key: str, hash_path: str = "#/reports") -> None:
        self.open(hash_path)
        self.page.get_by_label("API key").fill(key)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.locator("#nav").wait_for(state="visible")

    def go(self, hash_path: str) -> None:
        self.page.evaluate("hash => { window.location.hash = hash; }", hash_path)

    def shoot(self, name: str) -> None:
        """Screenshots of the page as it is now, at desktop and 360 px widths."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page = self.page
        for label, size in (("desktop", DESKTOP), ("360px", PHONE)):
            page.set_viewport_size(size)
            page.wait_for_timeout(150)  # layout settles
            page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        page.set_viewport_size(DESKTOP)

    def outside_requests(self) -> list[str]:
        server = urlsplit(self.server.url).netloc
        outside = []
        for url in self.requests:
            inner = url[len("blob:") :] if url.startswith("blob:") else url
            parts = urlsplit(inner)
            if parts.scheme == "data" or url.startswith(BROWSER_INTERNAL):
                continue
            if parts.scheme not in ("http", "https") or parts.netloc != server:
                outside.append(url)
        return outside


@pytest.fixture
def console(browser: Browser, console_server: RunningServer) -> Iterator[Console]:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    wrapped = Console(page, console_server)
    try:
        yield wrapped
    finally:
        context.close()
    assert wrapped.outside_requests() == [], "the console reached outside the server"
    assert wrapped.errors == [], f"the page logged errors: {wrapped.errors}"


def create_report(api: httpx.Client, **body: Any) -> dict[str, Any]:
    answer = api.post("/v1/reports", json=body)
    assert answer.status_code in (200, 202), answer.text
    report: dict[str, Any] = answer.json()
    return report


def wait_for(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


# -- the routes the console added -------------------------------------------------------


def test_me_names_the_key_its_tenant_and_scopes(
    console_server: RunningServer, api: httpx.Client
) -> None:
    me = api.get("/v1/me")
    assert me.status_code == 200
    assert me.json() == {
        "tenant_id": "acme",
        "key_name": "admin",
        "scopes": ["admin"],
        "features": ["custom_reports"],
    }
    bad = httpx.get(f"{console_server.url}/v1/me", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert bad.json()["error"]["code"] == "authentication_failed"


def test_validate_checks_filter_order_and_options_like_a_create(api: httpx.Client) -> None:
    ok = api.post("/v1/templates/orders/validate", json={"filter": "amount gt 100"})
    assert ok.status_code == 200
    assert ok.json() == {"valid": True}
    bad = api.post("/v1/templates/orders/validate", json={"filter": 'amount gt "abc"'})
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert error["code"] == "invalid_filter"
    assert error["details"] == {"position": 10, "expression": 'amount gt "abc"'}
    order = api.post("/v1/templates/orders/validate", json={"order_by": ["-paid"]})
    assert order.json()["error"]["code"] == "invalid_filter"
    options = api.post("/v1/templates/sales/validate", json={"options": {"min_amount": -1}})
    assert options.status_code == 400
    assert options.json()["error"]["details"][0]["path"] == "min_amount"
    missing = api.post("/v1/templates/nope/validate", json={})
    assert missing.json()["error"]["code"] == "template_not_found"


def test_console_pages_carry_a_strict_content_security_policy(
    console_server: RunningServer,
) -> None:
    for path in ("/console", "/console/static/app.js", "/console/static/console.css"):
        answer = httpx.get(f"{console_server.url}{path}")
        assert answer.status_code == 200, path
        assert "default-src 'self'" in answer.headers["content-security-policy"]
    js = httpx.get(f"{console_server.url}/console/static/app.js")
    assert js.headers["content-type"].startswith("text/javascript")
    assert httpx.get(f"{console_server.url}/console/static/..%2Fpy.typed").status_code == 404
    assert httpx.get(f"{console_server.url}/console/static/__init__.py").status_code == 404


# -- the browser ------------------------------------------------------------------------


def test_sign_in_shows_a_bad_keys_error_then_keeps_the_key_in_session_storage(
    console: Console, console_server: RunningServer
) -> None:
    page = console.page
    console.open()
    page.get_by_label("API key").fill("rk_not-a-key")
    console.shoot("sign-in-empty")
    page.get_by_role("button", name="Sign in").click()
    alert = page.locator("#signin-error")
    alert.wait_for(state="visible")
    assert "authentication_failed" in alert.inner_text()
    assert "not valid" in alert.inner_text()
    console.shoot("sign-in-bad-key")

    page.get_by_label("API key").fill(console_server.admin_key)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Reports", level=1).wait_for()
    assert page.locator("#who-name").inner_text() == "admin @ acme"
    stored = page.evaluate("sessionStorage.getItem('reportd.apiKey')")
    assert stored == console_server.admin_key
    assert page.evaluate("localStorage.length") == 0
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("API key").wait_for()
    assert page.evaluate("sessionStorage.getItem('reportd.apiKey')") is None


def test_sign_in_with_a_username_and_password(
    console: Console, console_server: RunningServer
) -> None:
    """A user made by ``reportd users create`` signs in; the token is kept like a key."""
    from tests.credentials import make_user

    make_user(console_server, "console-user", "a long console password", scopes="admin")
    page = console.page
    console.open()
    page.get_by_label("Username").fill("console-user")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Use my password").click()
    alert = page.locator("#signin-error")
    alert.wait_for(state="visible")
    assert "Unable to log in" in alert.inner_text()
    page.get_by_label("Password", exact=True).fill("a long console password")
    page.get_by_role("button", name="Use my password").click()
    page.get_by_role("heading", name="Reports", level=1).wait_for()
    assert page.locator("#who-name").inner_text() == "console-user @ acme"
    stored = page.evaluate("sessionStorage.getItem('reportd.apiKey')")
    assert stored.startswith("eyJ")


def test_new_report_form_creates_a_report_shows_progress_and_downloads_the_csv(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    page = console.page
    console.sign_in(console_server.admin_key, "#/new/sales")
    form = page.get_by_role("form", name="New Sales by customer report")
    form.wait_for()
    # The form is generated from the template: every field checked, a control per option.
    boxes = form.locator("input[name=fields]")
    assert boxes.count() == 5
    assert all(boxes.nth(i).is_checked() for i in range(5))
    since = page.get_by_label("Since")
    assert since.get_attribute("type") == "date"
    assert since.input_value() == "2024-01-01"
    status = page.get_by_label("Status")
    assert status.evaluate("el => el.tagName") == "SELECT"
    assert status.locator("option").all_inner_texts() == ["any", "paid", "unpaid"]
    amount = page.get_by_label("Min amount")
    assert (amount.get_attribute("type"), amount.get_attribute("min")) == ("number", "0")
    assert amount.get_attribute("max") == "100000"
    assert page.get_by_label("Include small").get_attribute("type") == "checkbox"
    # Every control has a label.
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('main input, main select, main textarea')]
            .filter(el => el.labels.length === 0 && !el.getAttribute('aria-label'))
            .map(el => el.outerHTML)"""
    )
    assert unlabelled == []

    page.get_by_label("Report name").fill("Paid sales 2024")
    status.select_option(label="paid")
    form.get_by_label("Ordered at").uncheck()
    form.get_by_role("button", name="+ Add sort key").click()
    page.get_by_label("Sort key 1", exact=True).select_option("amount")
    page.get_by_label("Direction of sort key 1").select_option("desc")
    form.get_by_label("JSON", exact=True).check()
    form.get_by_label("Filter", exact=True).fill("amount gt 50")
    page.locator(".filter-box[data-state=valid]").wait_for()
    console.shoot("new-report-form")

    form.get_by_role("button", name="Create report").click()
    result = page.locator("section.result")
    result.wait_for(state="visible")
    progress = result.locator(".progress")
    page.wait_for_function(
        "el => el.dataset.percent === '100' && el.dataset.state === 'FINISHED'",
        arg=progress.element_handle(),
    )
    assert result.locator("progress").evaluate("el => el.value") == 100
    assert "100 %" in result.locator(".progress-text").inner_text()
    report_id = result.get_attribute("data-report-id")
    assert report_id
    report = api.get(f"/v1/reports/{report_id}").json()
    assert report["name"] == "Paid sales 2024"
    assert report["options"]["status"] == "paid"
    assert report["fields"] == ["order_id", "customer", "amount", "paid"]
    assert report["order_by"] == ["-amount"]
    assert report["filter"] == "amount gt 50"
    assert report["formats"] == ["csv", "json"]
    console.shoot("new-report-finished")

    with page.expect_download() as download_info:
        result.locator("button.file-link[data-format=csv]").click()
    download = download_info.value
    expected = api.get(f"/v1/reports/{report_id}/download", params={"format": "csv"})
    assert download.suggested_filename.endswith(".csv")
    assert Path(download.path()).read_bytes() == expected.content
    assert expected.content.startswith(b"order_id,customer,amount,paid")


def test_filter_box_points_at_the_error_position_as_you_type(
    console: Console, console_server: RunningServer
) -> None:
    page = console.page
    console.sign_in(console_server.admin_key, "#/new/orders")
    box = page.get_by_label("Filter", exact=True)
    box.fill('amount gt "abc"')
    status = page.locator(".filter-box .filter-status")
    page.locator(".filter-box[data-state=invalid]").wait_for()
    assert "invalid_filter" in status.inner_text()
    assert "position 10" in status.inner_text()
    assert box.get_attribute("aria-invalid") == "true"
    mark = page.locator(".filter-pointer .err-char")
    assert mark.get_attribute("data-position") == "10"
    assert mark.inner_text() == '"'
    pointer_lines = page.locator(".filter-pointer").inner_text().split("\n")
    assert pointer_lines[1].index("^") == 10  # the caret sits under the character
    console.shoot("new-report-filter-error")

    box.fill("amount gt 100 and paid eq true")
    page.locator(".filter-box[data-state=valid]").wait_for()
    assert "Valid filter" in status.inner_text()
    assert box.get_attribute("aria-invalid") is None
    assert page.locator(".filter-pointer").is_hidden()
    # Typing fast: one check 250 ms after the last key, not one per key.
    checks: list[str] = []
    page.on("request", lambda r: checks.append(r.url) if r.url.endswith("/validate") else None)
    box.fill("")
    box.press_sequentially("customer eq", delay=20)
    page.locator(".filter-box[data-state=invalid]").wait_for()
    assert len(checks) == 1


def test_reports_page_follows_progress_cancels_filters_and_pages(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    create_report(api, template_id="sales", formats=["csv", "xlsx", *PDF], name="Q1 sales")
    create_report(
        api, template_id="orders", formats=["json", "ndjson"], name="Unpaid orders",
        filter="paid eq false", packaging="zip", zip_password=True,
    )  # fmt: skip
    create_report(api, template_id="orders", formats=["csv"], name="Big spenders",
                  filter="amount gt 100", order_by=["-amount"])  # fmt: skip
    slow = create_report(api, template_id="slow", formats=["csv"], name="Every generated row")
    page = console.page
    console.sign_in(console_server.admin_key, "#/reports")
    row = page.locator(f"tr[data-report-id='{slow['id']}']")
    row.wait_for()
    # The running report's row follows its event stream: rows are counted as they go.
    page.wait_for_function(
        """id => {
            const row = document.querySelector(`tr[data-report-id='${id}']`);
            return row && row.dataset.state === 'IN_PROGRESS'
                && /[1-9]/.test(row.querySelector('.progress-text').textContent);
        }""",
        arg=slow["id"],
    )
    page.locator("tbody tr[data-state=FINISHED]").nth(3).wait_for()  # all but the slow one
    console.shoot("reports")

    row.get_by_role("button", name="Cancel report Every generated row").click()
    page.locator(f"tr[data-report-id='{slow['id']}'][data-state=CANCELED]").wait_for()
    assert row.locator(".badge").inner_text() == "Canceled"
    assert api.get(f"/v1/reports/{slow['id']}").json()["state"] == "CANCELED"

    page.get_by_label("State").select_option("CANCELED")
    page.wait_for_url(re.compile(r"state=CANCELED"))
    page.locator(f"tr[data-report-id='{slow['id']}']").wait_for()
    states = page.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.state)")
    assert set(states) == {"CANCELED"}

    page.locator(f"tr[data-report-id='{slow['id']}'] a.report-link").click()
    alert = page.get_by_role("alert").filter(has_text="canceled")
    alert.wait_for()
    assert "canceled" in alert.locator(".error-code").inner_text()
    console.shoot("report-canceled")

    # Paging: 20 a page, by cursor, newest first.
    for n in range(20):
        create_report(api, template_id="orders", formats=["csv"], name=f"Orders batch {n + 1}")
    total = api.get("/v1/reports").json()["total_count"]
    console.go("#/reports")
    page.locator("tbody tr[data-state]").first.wait_for()
    assert page.locator("tbody tr").count() == 20
    assert page.locator(".summary").inner_text() == f"1{DASH}20 of {total} reports"
    page.get_by_role("button", name="Older →").click()
    page.get_by_text(f"21{DASH}{min(total, 40)} of {total} reports").wait_for()
    assert page.locator("tbody tr").count() == min(total, 40) - 20
    page.get_by_role("button", name="← Newer").click()
    page.get_by_text(f"1{DASH}20 of {total} reports").wait_for()
    assert page.locator("tbody tr").first.locator("a.report-link").inner_text() == (
        "Orders batch 20"
    )


def test_report_detail_shows_files_with_sha256_signed_links_and_a_pdf_preview(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    report = create_report(api, template_id="sales", formats=["csv", *PDF], name="Sales PDF")
    page = console.page
    console.sign_in(console_server.admin_key, f"#/reports/{report['id']}")
    page.locator(".status-card .badge[data-state=FINISHED]").wait_for()
    finished = api.get(f"/v1/reports/{report['id']}").json()
    for artifact in finished["artifacts"]:
        item = page.locator(f"li.artifact[data-format={artifact['format']}]")
        assert item.locator(".hash").inner_text() == artifact["sha256"]
        assert artifact["filename"] in item.inner_text()
    csv_item = page.locator("li.artifact[data-format=csv]")
    csv_item.get_by_role("button", name=re.compile("Get a signed link")).click()
    link = csv_item.get_by_label("Signed link (no key needed)")
    link.wait_for()
    url = link.input_value()
    assert url.startswith(f"{console_server.url}/v1/files/{report['id']}/")
    assert "signature=" in url
    assert "Expires" in csv_item.locator(".signed").inner_text()
    fetched = httpx.get(url)
    assert fetched.status_code == 200
    assert fetched.content == api.get(f"/v1/reports/{report['id']}/download?format=csv").content

    assert page.get_by_role("heading", name="Sales PDF", level=1).is_visible()
    if not PDF:
        console.shoot("report-detail")
        pytest.skip("this build has no PDF writer: the preview is not shown")
    frame = page.locator("iframe.pdf-frame")
    frame.wait_for()
    # The signed link's bytes, shown from memory (the link itself answers as an attachment).
    assert str(frame.get_attribute("src")).startswith(f"blob:{console_server.url}/")
    assert str(frame.get_attribute("data-source")).startswith(
        f"{console_server.url}/v1/files/{report['id']}/"
    )
    pdf = next(a for a in finished["artifacts"] if a["format"] == "pdf")
    assert frame.get_attribute("data-size") == str(pdf["size"])  # the whole file, in memory
    console.shoot("report-detail")


def test_a_read_only_key_sees_no_write_actions(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    create_report(api, template_id="orders", formats=["csv"], name="Seen by a reader")
    reader = console_server.make_key(name="reader", scopes=("reports:read",))
    page = console.page
    console.sign_in(reader, "#/reports")
    page.locator("tbody tr").first.wait_for()
    assert page.locator("button[data-action=cancel], button[data-action=delete]").count() == 0
    assert page.get_by_role("link", name="New report").count() == 0
    assert page.get_by_role("link", name="Templates").is_hidden()
    assert page.get_by_label("Template").evaluate("el => el.options.length") == 1


def test_schedules_create_run_now_history_and_disable(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    page = console.page
    console.sign_in(console_server.admin_key, "#/schedules")
    page.get_by_role("heading", name="Schedules", level=1).wait_for()
    console.shoot("schedules-empty")
    page.get_by_role("link", name="New schedule").first.click()
    form = page.get_by_role("form", name="New schedule")
    form.wait_for()
    page.get_by_label("Template", exact=True).select_option("orders")
    page.wait_for_url(re.compile(r"template=orders"))
    form = page.get_by_role("form", name="New schedule")
    form.get_by_label("Name", exact=True).fill("Weekly paid orders")
    form.get_by_label("Cron expression").fill("0 6 * * 1")
    form.get_by_label("Time zone").fill("Europe/Paris")
    form.get_by_label("Filter", exact=True).fill("paid eq true")
    page.locator(".filter-box[data-state=valid]").wait_for()
    console.shoot("schedule-new")
    form.get_by_role("button", name="Create schedule").click()

    page.get_by_role("heading", name="Weekly paid orders", level=1).wait_for()
    created = api.get("/v1/schedules").json()["results"]
    schedule = next(s for s in created if s["name"] == "Weekly paid orders")
    assert (schedule["cron"], schedule["timezone"]) == ("0 6 * * 1", "Europe/Paris")
    assert schedule["filter"] == "paid eq true"
    assert "No runs yet" in page.locator("main").inner_text()

    page.get_by_role("button", name="Run schedule Weekly paid orders now").click()
    page.get_by_role("heading", name="History (1 run)").wait_for()
    page.locator("tbody tr[data-state=FINISHED]").wait_for()
    runs = api.get(f"/v1/schedules/{schedule['id']}/runs").json()
    assert runs["total_count"] == 1
    assert page.locator("tbody tr").get_attribute("data-report-id") == runs["results"][0]["id"]
    console.shoot("schedule-history")

    console.go("#/schedules")
    switch = page.get_by_role("switch", name="Schedule Weekly paid orders enabled")
    assert switch.get_attribute("aria-checked") == "true"
    switch.click()
    page.locator("[role=switch][aria-checked=false]").wait_for()
    assert api.get(f"/v1/schedules/{schedule['id']}").json()["enabled"] is False
    assert page.evaluate("document.activeElement.getAttribute('role')") == "switch"
    console.shoot("schedules")


def test_templates_list_and_detail(console: Console, console_server: RunningServer) -> None:
    page = console.page
    console.sign_in(console_server.admin_key, "#/templates")
    page.get_by_role("link", name="Sales by customer", exact=True).wait_for()
    assert page.locator(".template-card").count() == 3
    console.shoot("templates")
    page.get_by_role("link", name="Sales by customer", exact=True).click()
    page.get_by_role("heading", name="Sales by customer", level=1).wait_for()
    fields = page.locator("table").first.locator("tbody tr")
    assert fields.count() == 5
    options = page.locator("table").nth(1).inner_text()
    for name in ("since", "status", "min_amount", "include_small"):
        assert name in options
    console.shoot("template-detail")
    page.get_by_role("link", name="New report").last.click()
    page.get_by_role("form", name="New Sales by customer report").wait_for()


def test_keyboard_reaches_the_navigation_and_focus_is_visible(
    console: Console, console_server: RunningServer
) -> None:
    page = console.page
    console.sign_in(console_server.admin_key, "#/reports")
    page.get_by_role("heading", name="Reports", level=1).wait_for()
    page.reload()
    page.get_by_role("heading", name="Reports", level=1).wait_for()

    def focused() -> str:
        return str(page.evaluate("document.activeElement.textContent.trim()"))

    page.keyboard.press("Tab")
    assert focused() == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert focused() == "Refresh"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    page.keyboard.press("Shift+Tab")  # back to the last control of the header
    assert focused() == "Sign out"
    backwards = []
    for _ in range(5):  # the navigation, read backwards from its last link
        page.keyboard.press("Shift+Tab")
        backwards.append(focused())
    assert backwards == ["API keys", "Destinations", "Webhooks", "Templates", "Schedules"]
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Schedules", level=1).wait_for()


def test_report_page_downloads_a_file_in_one_click(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    report = create_report(api, template_id="orders", formats=["csv"], name="One click")
    page = console.page
    console.sign_in(console_server.admin_key, f"#/reports/{report['id']}")
    page.locator(".status-card .badge[data-state=FINISHED]").wait_for()
    finished = api.get(f"/v1/reports/{report['id']}").json()
    (artifact,) = finished["artifacts"]
    with page.expect_download() as caught:
        page.get_by_role("button", name=f"Download {artifact['filename']}").click()
    download = caught.value
    assert download.suggested_filename == artifact["filename"]
    saved = Path(download.path())
    assert saved.read_bytes() == api.get(f"/v1/reports/{report['id']}/download").content


def test_webhooks_page_creates_shows_the_secret_once_and_lists_deliveries(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    page = console.page
    console.sign_in(console_server.admin_key, "#/webhooks")
    page.get_by_role("heading", name="Webhooks", level=1).wait_for()
    page.get_by_role("link", name="New webhook").first.click()
    url = f"{console_server.url}/healthz"  # a receiver that answers 200, on this machine
    page.get_by_label("URL").fill(url)
    page.get_by_label("Signature").select_option("standard")
    page.get_by_role("button", name="Create webhook").click()
    secret = page.locator("[data-secret=webhook]")
    secret.wait_for()
    shown = secret.inner_text()
    listed = api.get("/v1/webhooks").json()["results"]
    hook = next(w for w in listed if w["url"] == url)
    assert "secret" not in hook and shown not in str(listed)  # shown once, never again
    assert hook["signature"] == "standard"
    console.shoot("webhook-created")

    report = create_report(api, template_id="orders", formats=["csv"], name="Hooked")
    wait_for(lambda: api.get(f"/v1/reports/{report['id']}").json()["state"] == "FINISHED")
    wait_for(lambda: api.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["total_count"] > 0)
    console.go(f"#/webhooks/{hook['id']}")
    row = page.locator("table.deliveries tbody tr").first
    row.wait_for()
    delivery = api.get(f"/v1/webhooks/{hook['id']}/deliveries").json()["results"][0]
    assert row.get_attribute("data-delivery-id") == delivery["id"]
    assert row.get_attribute("data-state") == delivery["state"]
    assert "report.finished" in row.inner_text()
    console.shoot("webhook-deliveries")
    # The signing scheme switches in place, the secret unchanged.
    page.get_by_label("Signature").select_option("both")
    page.get_by_role("button", name="Change signature").click()
    page.get_by_text("Deliveries are now signed: both.").wait_for()
    assert api.get(f"/v1/webhooks/{hook['id']}").json()["signature"] == "both"
    assert page.locator("dd[data-signature=both]").count() == 1
    console.shoot("webhook-signature")

    console.go("#/webhooks")
    page.get_by_role("button", name=f"Delete the webhook to {url}").click()
    page.get_by_role("button", name=f"Confirm: Delete the webhook to {url}").click()
    page.get_by_text("Webhook deleted.").wait_for()
    assert all(w["id"] != hook["id"] for w in api.get("/v1/webhooks").json()["results"])


def test_a_schedule_is_edited_in_place_with_a_relative_date(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    answer = api.post("/v1/schedules", json={"template_id": "orders", "name": "To edit",
                                             "formats": ["csv"], "cron": "0 6 * * 1"})  # fmt: skip
    assert answer.status_code == 201, answer.text
    schedule = answer.json()
    page = console.page
    console.sign_in(console_server.admin_key, f"#/schedules/{schedule['id']}")
    form = page.get_by_role("form", name="Edit schedule")
    form.wait_for()
    form.get_by_label("Name", exact=True).fill("Edited monthly")
    form.get_by_label("Cron expression").fill("0 7 1 * *")
    form.get_by_label("Time zone").fill("Asia/Seoul")
    form.get_by_label("Options (JSON)").fill('{"since": "start_of_month"}')
    form.get_by_role("button", name="Save changes").click()
    page.get_by_text("Schedule saved.").wait_for()
    saved = api.get(f"/v1/schedules/{schedule['id']}").json()
    assert (saved["name"], saved["cron"], saved["timezone"]) == (
        "Edited monthly", "0 7 1 * *", "Asia/Seoul",
    )  # fmt: skip
    assert saved["options"]["since"] == "start_of_month"  # kept as written, taken on each run
    assert "start_of_month" in page.locator("pre.json").inner_text()
    form.get_by_label("Options (JSON)").fill("{not json")
    form.get_by_role("button", name="Save changes").click()
    page.get_by_role("alert").filter(has_text="not JSON").wait_for()
    console.shoot("schedule-edit")


def test_new_report_form_previews_rows_and_count_before_creating(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    page = console.page
    console.sign_in(console_server.admin_key, "#/new/sales")
    form = page.get_by_role("form", name="New Sales by customer report")
    form.wait_for()
    form.get_by_label("Filter", exact=True).fill("amount gt 50")
    page.locator(".filter-box[data-state=valid]").wait_for()
    before = api.get("/v1/reports").json()["total_count"]
    form.get_by_role("button", name="Preview").click()
    line = page.locator("section.preview .status-line")
    line.wait_for()
    expected = api.post("/v1/templates/sales/preview", json={"filter": "amount gt 50"}).json()
    assert line.get_attribute("data-row-count") == str(expected["row_count"])
    rows = page.locator("table.preview-table tbody tr")
    assert rows.count() == len(expected["rows"]) > 0
    assert page.locator("table.preview-table thead th").first.text_content() == "Order"
    assert api.get("/v1/reports").json()["total_count"] == before  # a preview makes no report
    console.shoot("new-report-preview")


def test_api_keys_page_creates_a_key_shown_once_and_revokes_it(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    page = console.page
    console.sign_in(console_server.admin_key, "#/keys")
    form = page.get_by_role("form", name="New API key")
    form.wait_for()
    form.get_by_label("Name", exact=True).fill("console-made")
    form.get_by_label("reports:write").check()
    form.get_by_role("button", name="Create key").click()
    secret = page.locator("[data-secret=key]").inner_text()
    made = httpx.get(f"{console_server.url}/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert made.status_code == 200
    assert made.json()["scopes"] == ["reports:read", "reports:write"]
    listed = api.get("/v1/keys").json()["results"]
    key = next(k for k in listed if k["name"] == "console-made")
    assert secret not in str(listed)  # shown once: never listed again
    console.shoot("keys-created")

    console.go("#/reports")
    console.go("#/keys")
    page.get_by_role("button", name="Revoke key console-made").click()
    page.get_by_role("button", name="Confirm: Revoke key console-made").click()
    page.get_by_text("Key revoked.").wait_for()
    page.locator(f"tr[data-key-id='{key['id']}'][data-revoked=true]").wait_for()
    me_url, auth = f"{console_server.url}/v1/me", {"Authorization": f"Bearer {secret}"}
    wait_for(lambda: httpx.get(me_url, headers=auth).status_code == 401)  # a cached key: <= 5 s


def test_keys_are_for_admin_keys_of_the_same_tenant(
    console_server: RunningServer, api: httpx.Client
) -> None:
    reader = console_server.make_key(name="reader-2", scopes=("reports:read",))
    answer = httpx.get(
        f"{console_server.url}/v1/keys", headers={"Authorization": f"Bearer {reader}"}
    )
    assert answer.status_code == 403
    other = console_server.make_key(tenant="initech", name="their-admin", scopes=("admin",))
    theirs = httpx.get(
        f"{console_server.url}/v1/keys", headers={"Authorization": f"Bearer {other}"}
    )
    assert [k["name"] for k in theirs.json()["results"]] == ["their-admin"]
    mine = api.get("/v1/keys").json()["results"][0]["id"]
    revoke = httpx.post(f"{console_server.url}/v1/keys/{mine}/revoke",
                        headers={"Authorization": f"Bearer {other}"})  # fmt: skip
    assert revoke.status_code == 404  # another tenant's key is not found, never forbidden


def test_report_page_shows_each_delivery_and_follows_it_after_finished(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    received: list[bytes] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    hook_server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=hook_server.serve_forever, daemon=True).start()
    try:
        port = hook_server.server_address[1]
        hook = api.post(
            "/v1/destinations",
            json={"type": "webhook", "name": "Inbox", "url": f"http://127.0.0.1:{port}/in"},
        ).json()
        mail = api.post(  # this server has no [smtp] host: the mail waits, with the reason
            "/v1/destinations", json={"type": "email", "name": "Team", "to": ["t@acme.example"]}
        ).json()
        report = create_report(
            api, template_id="orders", formats=["csv"], destinations=[hook["id"], mail["id"]]
        )
        page = console.page
        console.sign_in(console_server.admin_key, f"#/reports/{report['id']}")
        section = page.get_by_role("region", name="Deliveries")
        delivered = section.locator(f"tr[data-destination='{hook['id']}'][data-state=delivered]")
        delivered.wait_for()
        assert "Inbox (webhook)" in delivered.inner_text()
        waiting = section.locator(f"tr[data-destination='{mail['id']}']")
        waiting.locator(".delivery-error code").wait_for()
        assert "no [smtp] host" in waiting.inner_text()
        assert waiting.get_attribute("data-state") == "pending"
        assert len(received) == 1
        console.shoot("report-deliveries")
    finally:
        hook_server.shutdown()
        hook_server.server_close()


def test_destinations_page_creates_one_shows_its_secret_once_and_deletes_it(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    page = console.page
    console.sign_in(console_server.admin_key, "#/destinations")
    page.get_by_role("heading", name="Destinations", level=1).wait_for()
    page.get_by_role("link", name="New destination").first.click()
    page.get_by_label("Type").select_option("webhook")
    page.get_by_label("Name", exact=True).fill("Drop box")
    url = f"{console_server.url}/healthz"
    page.get_by_label("Settings and secrets (JSON)").fill(f'{{"url": "{url}"}}')
    page.get_by_role("button", name="Create destination").click()
    secret = page.locator("[data-secret=secret]")
    secret.wait_for()
    shown = secret.inner_text()
    made_id = page.locator("[data-destination=id]").inner_text()
    listed = api.get("/v1/destinations").json()["results"]
    made = next(d for d in listed if d["id"] == made_id)
    assert made["name"] == "Drop box" and made["url"] == url
    assert made["secrets_set"] == ["secret"] and shown not in str(listed)  # shown once
    console.go("#/destinations")
    row = page.locator(f"tr[data-destination-id='{made_id}']")
    row.wait_for()
    assert "webhook" in row.inner_text() and shown not in row.inner_text()
    console.shoot("destinations")
    page.get_by_role("button", name="Delete the destination Drop box").click()
    page.get_by_role("button", name="Confirm: Delete the destination Drop box").click()
    page.get_by_text("Destination deleted.").wait_for()
    assert api.get(f"/v1/destinations/{made_id}").status_code == 404


def test_template_editor_checks_as_you_type_shows_positions_saves_and_edits(
    console: Console, console_server: RunningServer, api: httpx.Client
) -> None:
    import json
    import subprocess
    import sys

    grant = [sys.executable, "-m", "reportd.entrypoints.cli.main", "tenants", "grant-source"]
    grant += [console_server.tenant, "shop", "--table", "orders", "--tenant-column", "tenant"]
    grant += ["--config", str(console_server.config_path)]
    grant += ["--data-dir", str(console_server.data_dir)]
    done = subprocess.run(grant, env=console_server.env, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    definition = {
        "id": "console_orders",
        "name": "Console orders",
        "source": "shop",
        "query": "SELECT order_id, customer, amount FROM orders WHERE amount >= :floor",
        "fields": [{"name": "order_id", "type": "integer"}, {"name": "total"}],
        "parameters": {
            "type": "object",
            "properties": {"floor": {"type": "number", "default": 50}},
        },
        "formats": ["csv"],
    }
    page = console.page
    console.sign_in(console_server.admin_key, "#/templates")
    page.get_by_role("link", name="New template").click()
    area = page.get_by_label("Definition (JSON: the template file's model)")
    area.fill(json.dumps(definition, indent=2))
    problem = page.locator(".template-problems li[data-path='fields[1].name']")
    problem.wait_for()
    assert "'total' is not a column" in problem.inner_text()
    assert "template_invalid" in page.locator(".template-status").inner_text()
    assert area.get_attribute("aria-invalid") == "true"
    console.shoot("template-editor-problems")

    area.fill(json.dumps({**definition, "query": "SELECT * FROM read_csv('x.csv')"}))
    page.locator(".template-problems li[data-path='query']").wait_for()
    assert "query_not_allowed" in page.locator(".template-status").inner_text()

    definition["fields"][1] = {"name": "amount", "type": "number"}
    area.fill(json.dumps(definition, indent=2))
    page.locator(".template-editor[data-state=valid]").wait_for()
    assert "order_id, amount" in page.locator(".template-status").inner_text()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Console orders", level=1).wait_for()
    assert page.locator(".template-version").inner_text() == "1"
    console.shoot("template-tenant-detail")

    page.get_by_role("link", name="Edit").click()
    area.wait_for()
    edited = json.loads(area.input_value())
    edited["name"] = "Console orders, edited"
    del edited["parameters"]["properties"]["floor"]["default"]
    area.fill(json.dumps(edited, indent=2))
    page.locator(".template-editor[data-state=valid]").wait_for()
    page.get_by_role("button", name="Save").click()
    page.get_by_role("heading", name="Console orders, edited", level=1).wait_for()
    assert page.locator(".template-version").inner_text() == "2"
    saved = api.get("/v1/templates/console_orders").json()
    assert saved["version"] == 2
    assert saved["definition"]["parameters"]["properties"]["floor"] == {"type": "number"}
    assert api.delete("/v1/templates/console_orders").status_code == 204
