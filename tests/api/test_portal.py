"""The customer portal: only the customer's own non-draft statements, downloads, usage."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from connector.access.users import add_user
from connector.api import portal
from connector.pipeline.review.approve import approve
from tests.api.conftest import statement_ids
from tests.api.test_users import PASSWORD, fast_hashes, sign_in_form  # noqa: F401


@pytest.fixture
def opened(runtime) -> dict[str, str]:
    """acme's October statements by customer; 1001's and 1002's approved (Open), the
    rest left Drafts."""
    ids = statement_ids(runtime, "acme")
    approve(runtime, "acme", [ids["1001"], ids["1002"]], "test")
    add_user(runtime, "acme", "carla", "customer", PASSWORD, "1001")
    add_user(runtime, "acme", "olivia", "operator", PASSWORD)
    return ids


def drafts_of(ids: dict[str, str]) -> list[str]:
    return [ident for customer, ident in ids.items() if customer not in {"1001", "1002"}]


def test_the_portal_lists_only_the_customers_open_statements_with_status_and_due_date(
    client, runtime, opened
) -> None:
    sign_in_form(client, "carla", PASSWORD)
    page = client.get("/portal")
    assert page.status_code == 200
    assert opened["1001"] in page.text and "Open" in page.text
    assert opened["1002"] not in page.text  # another customer's, Open too
    for draft in drafts_of(opened):
        assert draft not in page.text
    assert "2026-" in page.text and "provisional" in page.text


def test_a_draft_and_another_customers_statement_are_404_by_id(client, runtime) -> None:
    ids = statement_ids(runtime, "acme")
    approve(runtime, "acme", [ids["1002"]], "test")  # 1001's own stays a Draft
    add_user(runtime, "acme", "carla", "customer", PASSWORD, "1001")
    sign_in_form(client, "carla", PASSWORD)
    for ident in (ids["1001"], ids["1002"], "no-such-statement"):
        assert client.get(f"/portal/statements/{ident}").status_code == 404
        assert client.get(f"/portal/statements/{ident}/pdf").status_code == 404


def test_the_customer_downloads_every_format_of_its_statement_but_no_costs(client, opened) -> None:
    sign_in_form(client, "carla", PASSWORD)
    ident = opened["1001"]
    pdf = client.get(f"/portal/statements/{ident}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    summary = client.get(f"/portal/statements/{ident}/csv")
    assert summary.status_code == 200 and summary.headers["content-type"].startswith("text/csv")
    ubl = client.get(f"/portal/statements/{ident}/ubl")
    assert ubl.status_code == 200 and b"<Invoice" in ubl.content
    # The detailed CSV, with the prices and never the reseller's costs.
    detailed = client.get(f"/portal/statements/{ident}/detailed-csv")
    assert detailed.status_code == 200
    rows = list(csv.DictReader(io.StringIO(detailed.text)))
    assert rows and all(row["price"] and not row["cost"] for row in rows)


def test_the_statement_switches_to_a_currency_the_tenant_has_rates_for(client, opened) -> None:
    sign_in_form(client, "carla", PASSWORD)
    ident = opened["1001"]
    page = client.get(f"/portal/statements/{ident}?currency=EUR")
    assert page.status_code == 200 and "1 USD = 0.9215 EUR" in page.text
    assert f"/portal/statements/{ident}/pdf?currency=EUR" in page.text
    csv = client.get(f"/portal/statements/{ident}/csv?currency=EUR")
    assert csv.status_code == 200 and b"EUR" in csv.content


def test_month_to_date_usage_and_credit_balance_are_shown(
    client, runtime, opened, monkeypatch
) -> None:
    from connector.pipeline.credits import grant

    monkeypatch.setattr(portal, "today", lambda: dt.date(2026, 10, 20))
    grant(runtime, "acme", "1001", "25.00", "goodwill", "test", "USD")
    sign_in_form(client, "carla", PASSWORD)
    page = client.get("/portal").text
    usage = page.split("Usage this month")[1].split("Credit")[0]
    assert "aws" in usage and "USD" in usage and "No usage" not in usage
    assert "25.00 USD" in page.split("<h2>Credit</h2>")[1]


def test_an_operator_user_gets_404_from_the_portal(client, opened) -> None:
    sign_in_form(client, "olivia", PASSWORD)
    assert client.get("/portal", follow_redirects=False).status_code == 404
    assert client.get(f"/portal/statements/{opened['1001']}/pdf").status_code == 404


@pytest.mark.parametrize("portal_url", ["https://billing.example.com/", None])
def test_the_new_invoice_email_links_to_the_statement_in_the_portal(
    runtime, monkeypatch, portal_url
) -> None:
    from connector.pipeline.publish.notify import notify_open_statements
    from tests.daemon.fakes import RecordingMailer

    ids = statement_ids(runtime, "acme")
    approve(runtime, "acme", [ids["1001"]], "test")
    monkeypatch.setattr(runtime.settings.api, "portal_url", portal_url)
    mailer = RecordingMailer()
    since = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    notify_open_statements(runtime, "acme", mailer, since=since)
    (message,) = mailer.messages
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"https://billing.example.com/portal/statements/{ids['1001']}"
    if portal_url:
        assert link in text and f'href="{link}"' in html
    else:
        assert "/portal/statements/" not in text and "/portal/statements/" not in html
