"""The customer portal end to end in real headless Chromium (Debian's, by Playwright).

A customer user signs in, sees only its Open statement (not the other customer's,
not the Drafts), opens it, downloads the PDF, and gets 404 for a Draft's URL and for
another customer's statement. axe-core checks the pages; at 700 px nothing is wider
than the window. Screenshots at 1280 and 700 px: docs/screenshots/portal-*.png.
"""

from __future__ import annotations

from connector.access.users import add_user
from connector.pipeline.review.approve import approve
from tests.api.axe import assert_accessible
from tests.api.browser import at_both_widths, chromium, server  # noqa: F401 (a fixture)
from tests.api.conftest import statement_ids

PASSWORD = "correct horse battery"


def test_a_customer_sees_its_open_statement_downloads_the_pdf_and_not_a_draft(
    server: str,  # noqa: F811
    sqlite_runtime,
) -> None:
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    ids = statement_ids(sqlite_runtime, "acme")
    approve(sqlite_runtime, "acme", [ids["1001"], ids["1002"]], "test")  # 1003 stays Draft
    add_user(sqlite_runtime, "acme", "carla", "customer", PASSWORD, "1001")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            context = browser.new_context(
                viewport={"width": 1280, "height": 900}, bypass_csp=True, accept_downloads=True
            )
            page = context.new_page()
            page.goto(f"{server}/portal")
            expect(page).to_have_url(f"{server}/login?next=/portal")
            assert_accessible(page)
            page.get_by_label("Name").fill("carla")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page).to_have_url(f"{server}/portal")
            rows = page.locator("table.statements").first.locator("tbody tr")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("Open")
            expect(page.get_by_text("provisional")).to_be_visible()
            assert_accessible(page)
            at_both_widths(page, "portal")

            rows.first.get_by_role("link").click()
            expect(page.get_by_role("heading", level=1)).to_contain_text("Statement")
            assert_accessible(page)
            at_both_widths(page, "portal-statement")
            with page.expect_download() as download:
                page.get_by_role("link", name="PDF").click()
            path = download.value.path()
            assert path is not None and path.read_bytes().startswith(b"%PDF")

            for other in (ids["1003"], ids["1002"]):  # a Draft; another customer's
                answer = page.goto(f"{server}/portal/statements/{other}")
                assert answer is not None and answer.status == 404

            page.goto(f"{server}/portal")
            page.get_by_role("button", name="Log out").click()
            expect(page.get_by_text("You are logged out")).to_be_visible()
            answer = page.goto(f"{server}/portal")
            expect(page).to_have_url(f"{server}/login?next=/portal")
        finally:
            browser.close()
