"""The review page end to end in real headless Chromium (Debian's, driven by Playwright).

The app runs in uvicorn on a free port in a thread; the browser logs in with an operator
key, selects two drafts, approves them, sees them Open with their numbers, views one,
deletes the third and finishes. A screenshot is left in the test's tmp folder.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from connector.access.api_keys import create_key
from connector.api import create_app
from connector.storage import models as m

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(sqlite_runtime) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1; yields its base URL."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(sqlite_runtime), host="127.0.0.1", port=port, log_level="warning"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not instance.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    instance.should_exit = True
    thread.join(10)


def test_review_in_chromium_approve_two_view_one_delete_one(
    server: str, sqlite_runtime, tmp_path: Path
) -> None:
    if CHROMIUM is None:
        pytest.skip(
            "Debian's chromium is not installed (`which chromium chromium-browser` found "
            "nothing): apt-get install chromium to run the browser test"
        )
    from playwright.sync_api import expect, sync_playwright

    key = create_key(sqlite_runtime, "acme", "operator", label="browser test").token
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
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
            expect(page.locator('#draft-table tr[data-customer="1001"]')).to_contain_text("323.08")

            page.screenshot(path=str(tmp_path / "review-drafts.png"), full_page=True)

            # "select all" (the page's only script) ticks every box, and unticks them
            select_all = page.locator("#select-all")
            select_all.check()
            expect(page.locator('#drafts input[name="ids"]:checked')).to_have_count(3)
            select_all.uncheck()
            expect(page.locator('#drafts input[name="ids"]:checked')).to_have_count(0)

            for customer in ("1001", "1002"):
                page.locator(
                    f'#draft-table tr[data-customer="{customer}"] input[name="ids"]'
                ).check()
            page.get_by_role("button", name="Approve", exact=True).click()
            expect(page.get_by_role("status")).to_have_text(
                "Approved 2 statement(s): ACME-01001, ACME-01002."
            )
            approved = page.locator("#approved-table tbody tr")
            expect(approved).to_have_count(2)
            for customer, number in (("1001", "ACME-01001"), ("1002", "ACME-01002")):
                row = page.locator(f'#approved-table tr[data-customer="{customer}"]')
                expect(row.locator(".number")).to_have_text(number)
                expect(row.locator(".status")).to_have_text("Open")
            expect(drafts).to_have_count(1)

            # View: the statement as the customer sees it, in a new tab
            with context.expect_page() as opened:
                page.locator('#approved-table tr[data-customer="1001"]').get_by_role(
                    "link", name="View"
                ).click()
            statement = opened.value
            statement.wait_for_load_state()
            expect(statement.locator("body")).to_contain_text("ACME-01001")
            expect(statement.locator("body")).to_contain_text("Blue Harbor Logistics LLC")
            statement.close()

            page.locator('#draft-table tr[data-customer="1003"] input[name="ids"]').check()
            page.get_by_role("button", name="Delete").click()
            expect(page.get_by_role("status")).to_have_text("Deleted 1 draft(s).")
            expect(page.get_by_text("No drafts to review")).to_be_visible()

            screenshot = tmp_path / "review-page.png"
            page.screenshot(path=str(screenshot), full_page=True)
            print(f"review page screenshots: {tmp_path / 'review-drafts.png'}, {screenshot}")

            page.get_by_role("button", name="Finish").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Review finished")
            expect(page.locator("main")).to_contain_text("2 statement(s) approved")
        finally:
            browser.close()

    assert screenshot.stat().st_size > 10_000  # a real image of the page, not an empty file
    with sqlite_runtime.db.transaction() as session:
        rows = session.execute(
            select(m.Statement.customer_id, m.Statement.status, m.Statement.number).where(
                m.Statement.tenant_id == "acme"
            )
        ).all()
    assert sorted(rows) == [("1001", "Open", "ACME-01001"), ("1002", "Open", "ACME-01002")]
