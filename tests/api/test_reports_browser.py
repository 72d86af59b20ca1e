"""The reports page end to end in real headless Chromium (Debian's, driven by Playwright).

The browser logs in with an operator key, asks for October as a custom range, drills
down from a customer to its usage types, downloads the CSV of what is shown and of the
whole report, and both equal ``connector report`` for the same range; the charts are
there. Screenshots at 1280 px and 700 px go to docs/screenshots/reports-*.png, and at
700 px the page must not scroll sideways.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from connector.access.api_keys import create_key
from connector.api import reports_page
from tests.api.axe import assert_accessible
from tests.api.browser import SCREENSHOTS, chromium, server  # noqa: F401 (server: a fixture)
from tests.api.test_reports_page import cli_csv

AS_OF = dt.date(2026, 11, 20)
OCTOBER = "2026-10-01..2026-10-31"


def _rows(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _fits(page) -> bool:  # type: ignore[no-untyped-def]
    # neither the page nor the table's own box scrolls sideways
    return page.evaluate(
        "document.documentElement.scrollWidth <= window.innerWidth && [...document"
        ".querySelectorAll('.table-wrap')].every(w => w.scrollWidth <= w.clientWidth)"
    )


def test_reports_in_chromium_drill_down_download_csv_and_see_the_charts(
    server: str,  # noqa: F811
    sqlite_runtime,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setattr(reports_page, "clock", lambda: AS_OF)
    db_url = f"sqlite:///{tmp_path / 'api.db'}"
    key = create_key(sqlite_runtime, "acme", "operator", label="browser test").token
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            context = browser.new_context(  # bypass_csp: axe-core is injected
                viewport={"width": 1280, "height": 900}, accept_downloads=True, bypass_csp=True
            )
            page = context.new_page()
            page.goto(f"{server}/login")
            assert_accessible(page)
            page.goto(f"{server}/review/login")
            assert_accessible(page)
            page.get_by_label("Operator API key").fill(key)
            page.get_by_role("button", name="Log in").click()
            page.goto(f"{server}{reports_page.PREFIX}")
            expect(page.get_by_role("heading", level=1)).to_have_text("Reports")

            page.get_by_label("Date range").select_option("custom")
            page.get_by_label("From", exact=True).fill("2026-10-01")
            page.get_by_label("To", exact=True).fill("2026-10-31")
            page.get_by_role("button", name="Show report").click()
            rows = page.locator("#report-table tbody tr")
            expect(rows).to_have_count(3)
            expect(page.locator("#chart-months-USD")).to_be_visible()
            expect(page.locator("#chart-months-USD")).to_contain_text("2026-10")
            expect(page.locator("#chart-services-USD")).to_contain_text("Amazon Elastic")
            assert_accessible(page)
            page.screenshot(path=str(SCREENSHOTS / "reports-1280.png"), full_page=True)

            # the whole report's CSV: connector report for the same range
            with page.expect_download() as download:
                page.get_by_role("link", name="Download CSV").click()
            whole = tmp_path / "whole.csv"
            download.value.save_as(whole)
            expected = cli_csv(sqlite_runtime, db_url, tmp_path, "--range", OCTOBER)
            assert _rows(whole) == expected

            # customer -> account -> service category -> usage type
            for level in ("account", "service", "usage-type"):
                rows.first.locator("th a").click()
                expect(rows.first).to_have_attribute("data-level", level)
            expect(page.locator("#report-table tbody th a")).to_have_count(0)
            customer = rows.first.get_attribute("data-customer")
            account = rows.first.get_attribute("data-account")
            shown = rows.count()

            with page.expect_download() as download:
                page.get_by_role("link", name="Download CSV").click()
            drilled = tmp_path / "drilled.csv"
            download.value.save_as(drilled)
            got = _rows(drilled)
            body = [r for r in got if r["level"] == "usage-type"]
            (total,) = [r for r in got if r["level"] == "total"]
            assert len(body) == shown and {r["customer"] for r in body} == {customer}
            assert {r["account"] for r in body} == {account}
            cli = cli_csv(sqlite_runtime, db_url, tmp_path, "--range", OCTOBER, "--by",
                          "usage-type", "--customer", str(customer))  # fmt: skip
            category = body[0]["service_category"]
            assert body == [
                r for r in cli if r["level"] == "usage-type" and r["account"] == account
                and r["service_category"] == category and r["marketplace"] == body[0]["marketplace"]
            ]  # fmt: skip
            assert Decimal(total["price_report"]) == sum(Decimal(r["price_report"]) for r in body)

            page.set_viewport_size({"width": 700, "height": 900})
            assert _fits(page), "the usage-type view scrolls sideways at 700 px"
            assert_accessible(page)
            page.screenshot(path=str(SCREENSHOTS / "reports-usage-type-700.png"), full_page=True)
            page.get_by_role("link", name="All customers").click()
            expect(rows).to_have_count(3)
            assert _fits(page), "the report scrolls sideways at 700 px"
            page.screenshot(path=str(SCREENSHOTS / "reports-700.png"), full_page=True)
        finally:
            browser.close()

    for name in ("reports-1280.png", "reports-700.png", "reports-usage-type-700.png"):
        assert (SCREENSHOTS / name).stat().st_size > 10_000, name
