"""The review page end to end in real headless Chromium (Debian's, driven by Playwright).

The app runs in uvicorn on a free port in a thread; the browser logs in with an operator
key, reads the drafts' margins and the batch header, selects two drafts and approves
them through a confirmation naming how many and what total, sees them Open with their
numbers, opens one in the statement view, deletes the third from its own statement view
and finishes. axe-core checks both pages; at 700 px nothing is wider than the window.
Screenshots at 1280 and 700 px are kept in docs/screenshots/review-*.png.
"""

from __future__ import annotations

from sqlalchemy import select

from connector.access.api_keys import create_key
from connector.storage import models as m
from tests.api.axe import assert_accessible
from tests.api.browser import SCREENSHOTS, at_both_widths, chromium, server  # noqa: F401
from tests.api.conftest import statement_ids


def test_a_reviewer_approves_with_confirmations_in_chromium(
    server: str,  # noqa: F811
    sqlite_runtime,
) -> None:
    executable = chromium()
    from playwright.sync_api import expect, sync_playwright

    key = create_key(sqlite_runtime, "acme", "operator", label="browser test").token
    ids = statement_ids(sqlite_runtime, "acme")
    dialogs: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            # bypass_csp: only so that the accessibility check can inject axe-core.
            context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
            page = context.new_page()
            page.goto(f"{server}/review")
            expect(page).to_have_url(f"{server}/review/login")
            page.get_by_label("Operator API key").fill(key)
            page.get_by_role("button", name="Log in").click()
            expect(page.get_by_role("heading", level=1)).to_have_text(
                "Preview Generated Billing Statements"
            )
            drafts = page.locator("#draft-table tbody tr")
            expect(drafts).to_have_count(3)
            first = page.locator('#draft-table tr[data-customer="1001"]')
            expect(first.locator(".total")).to_contain_text("323.08")
            expect(first.locator(".margin")).to_have_text("30.41")
            expect(first.locator(".margin-percent")).to_have_text("10.2%")
            expect(first.locator(".provider")).to_have_text("Amazon Web Services")
            expect(page.locator('.figure[data-currency="USD"]')).to_contain_text("823.53 USD")
            expect(page.get_by_role("link", name="1 account to map")).to_be_visible()
            assert_accessible(page)
            at_both_widths(page, "review")

            # "select all" (the page's script) ticks every box, and unticks them
            select_all = page.locator("#select-all")
            select_all.check()
            expect(page.locator('#drafts input[name="ids"]:checked')).to_have_count(3)
            select_all.uncheck()
            expect(page.locator('#drafts input[name="ids"]:checked')).to_have_count(0)

            # Delete, dismissed: nothing happens
            page.locator('#draft-table tr[data-customer="1003"] input[name="ids"]').check()

            def dismiss(dialog) -> None:  # type: ignore[no-untyped-def]
                dialogs.append(dialog.message)
                dialog.dismiss()

            page.once("dialog", dismiss)
            page.get_by_role("button", name="Delete").click()
            expect(drafts).to_have_count(3)
            assert dialogs == ["Delete 1 statement totalling 176.33 USD?"]
            page.locator('#draft-table tr[data-customer="1003"] input[name="ids"]').uncheck()

            # Approve two, accepted: 323.08 + 324.12 = 647.20 USD
            for customer in ("1001", "1002"):
                page.locator(
                    f'#draft-table tr[data-customer="{customer}"] input[name="ids"]'
                ).check()

            def accept(dialog) -> None:  # type: ignore[no-untyped-def]
                dialogs.append(dialog.message)
                dialog.accept()

            page.once("dialog", accept)
            page.get_by_role("button", name="Approve", exact=True).click()
            expect(page.get_by_role("status")).to_have_text(
                "Approved 2 statement(s): ACME-01001, ACME-01002."
            )
            assert dialogs[-1] == "Approve 2 statements totalling 647.20 USD?"
            approved = page.locator("#approved-table tbody tr")
            expect(approved).to_have_count(2)
            for customer, number in (("1001", "ACME-01001"), ("1002", "ACME-01002")):
                row = page.locator(f'#approved-table tr[data-customer="{customer}"]')
                expect(row.locator(".number")).to_have_text(number)
                expect(row.locator(".status")).to_have_text("Open")
            expect(drafts).to_have_count(1)

            # View: the statement view in a new tab, the statement as the customer sees it
            with context.expect_page() as opened:
                page.locator('#approved-table tr[data-customer="1001"]').get_by_role(
                    "link", name="View"
                ).click()
            statement = opened.value
            statement.wait_for_load_state()
            expect(statement.get_by_role("heading", level=1)).to_contain_text("ACME-01001")
            expect(statement.locator(".status")).to_have_text("Open")
            document = statement.frame_locator("iframe.document").locator("body")
            expect(document).to_contain_text("ACME-01001")
            expect(document).to_contain_text("Blue Harbor Logistics LLC")
            expect(statement.get_by_role("button", name="Approve")).to_have_count(0)
            statement.close()

            # The last draft deleted from its own statement view, after its confirmation
            page.goto(f"{server}/review/statements/{ids['1003']}")
            expect(page.locator(".margin")).to_contain_text("17.50 USD (9.9%)")
            assert_accessible(page)
            at_both_widths(page, "review-statement")
            page.once("dialog", accept)
            page.get_by_role("button", name="Delete").click()
            expect(page.get_by_role("status")).to_have_text("Deleted 1 draft(s).")
            assert dialogs[-1] == "Delete 1 statement totalling 176.33 USD?"
            expect(page.get_by_text("No drafts to review")).to_be_visible()

            page.get_by_role("button", name="Finish").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Review finished")
            expect(page.locator("main")).to_contain_text("2 statement(s) approved")
        finally:
            browser.close()

    for name in ("review", "review-statement"):
        for width in (1280, 700):
            assert (SCREENSHOTS / f"{name}-{width}.png").stat().st_size > 10_000
    with sqlite_runtime.db.transaction() as session:
        rows = session.execute(
            select(m.Statement.customer_id, m.Statement.status, m.Statement.number).where(
                m.Statement.tenant_id == "acme"
            )
        ).all()
    assert sorted(rows) == [("1001", "Open", "ACME-01001"), ("1002", "Open", "ACME-01002")]
