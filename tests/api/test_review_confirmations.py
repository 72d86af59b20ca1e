"""The review page as a finance team reads it: cost, price and margin per Draft, the
batch's totals per currency, the unassigned spend, provider display names, and the
confirmations that name how many statements and what total. In-process, no browser."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

from connector.access.api_keys import Principal
from connector.api.queries import StatementFilter
from connector.api.review import confirmation, review_data
from connector.api.sessions import ReviewSession
from connector.storage import models as m
from tests.api.conftest import statement_ids
from tests.api.test_review_page import login

ACME = ReviewSession(Principal("k", "acme", "operator", None))
DRAFTS = StatementFilter(status="Draft")


def _cells(page: str, customer: str) -> dict[str, str]:
    """The text of each labelled cell of one customer's row."""
    row = re.search(rf'<tr data-customer="{customer}">(.*?)</tr>', page, re.S)[1]
    cells = re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', row, re.S)
    return {label: " ".join(re.sub(r"<[^>]+>", " ", text).split()) for label, text in cells}


def test_each_draft_has_cost_price_margin_and_margin_percent(runtime) -> None:
    """Customer 1001's October lines, by hand: price 74.97 + 126.49 + 40.57 + 46.53 + 9.90
    = 298.46 USD; cost (the CUR's unblended cost of its accounts) 65.188443143 +
    109.9919692635 + 35.2748438347 + 48.9838136661 + 8.607986963 = 268.0470568703;
    margin 298.46 - 268.0470568703 = 30.4129431297, 10.19...% of the price."""
    rows, _ = review_data(runtime, ACME, DRAFTS)
    figures = {r.statement.customer_id: r.figures for r in rows}
    f = figures["1001"]
    assert f.price == Decimal("298.46")
    assert f.cost == Decimal("268.0470568703")
    assert f.margin == Decimal("30.4129431297")
    assert f.percent == Decimal("10.2")
    # 1003: its AWS Marketplace product (12.45 at cost) passes through with no margin:
    # price 176.33 - cost 158.8314877476 = 17.4985122524 is all the services' margin.
    assert figures["1003"].margin == Decimal("17.4985122524")
    assert figures["1003"].percent == Decimal("9.9")


def test_the_page_shows_the_margins_rounded_beside_the_total(client, keys) -> None:
    page = login(client, keys.operator).text
    cells = _cells(page, "1001")
    assert cells["Cost"] == "268.05" and cells["Price"] == "298.46"
    assert cells["Margin"] == "30.41" and cells["Margin %"] == "10.2%"
    assert cells["Total"].startswith("323.08 USD")
    assert cells["Provider"] == "Amazon Web Services"  # not the plugin key "aws"


def test_the_header_totals_the_batch_per_currency(runtime, client, keys) -> None:
    """An EUR draft (September, a period with no data to reconcile) joins the three USD
    ones: 323.08 + 324.12 + 176.33 = 823.53 USD, and 50.00 EUR apart."""
    with runtime.db.transaction() as session:
        session.add(
            m.Statement(
                id="sept-eur", tenant_id="acme", customer_id="1004", provider="aws",
                period_start=dt.date(2026, 9, 1), period_end=dt.date(2026, 10, 1),
                status="Draft", currency="EUR", subtotal=Decimal("50.00"), tax=Decimal(0),
                total=Decimal("50.00"), issue_date=dt.date(2026, 10, 6),
                due_date=dt.date(2026, 11, 5), batch_ids=[], options={},
            )
        )  # fmt: skip
    _, header = review_data(runtime, ACME, DRAFTS)
    assert header.totals == {"EUR": (1, Decimal("50.00")), "USD": (3, Decimal("823.53"))}
    assert any(p.startswith("aws 2026-09: no aws data") for p in header.unreconciled)
    page = login(client, keys.operator).text
    assert re.search(r"3 drafts in USD</dt>\s*<dd[^>]*>823.53 USD", page)
    assert re.search(r"1 draft in EUR</dt>\s*<dd[^>]*>50.00 EUR", page)
    assert "not reconciled" in _cells(page, "1004")["Cost"]
    approve_all = html.unescape(re.search(r'data-confirm="([^"]+)"', page)[1])
    assert approve_all == "Approve 4 statements totalling 50.00 EUR + 823.53 USD?"


def test_the_unassigned_spend_is_listed_with_the_accounts_to_map(runtime, client, keys) -> None:
    """acme maps no customer to account 555555555555 (only globex does)."""
    _, header = review_data(runtime, ACME, DRAFTS)
    (aws,) = header.unassigned
    assert (aws.provider, aws.period, aws.currency) == ("aws", "2026-10", "USD")
    assert [a.account_id for a in aws.accounts] == ["555555555555"]
    assert aws.billable_cost.quantize(Decimal("0.01")) == Decimal("147.60")
    page = login(client, keys.operator).text
    assert '<a href="#unassigned">1 account to map</a>' in page
    assert 'id="unassigned"' in page and '<tr data-account="555555555555">' in page
    assert '<code>aws: ["555555555555"]</code>' in html.unescape(page)  # for the tenant file


def test_provider_display_names_fall_back_to_the_key(plugin_host) -> None:
    providers = plugin_host.providers
    expected = {
        "aws": "Amazon Web Services",
        "azure": "Microsoft Azure",
        "azure-csp": "Microsoft Azure CSP",
        "softlayer": "IBM Cloud (SoftLayer)",
        "focus": "FOCUS export",
    }
    assert {key: providers.display_name(key) for key in expected} == expected
    assert providers.display_name("gone-plugin") == "gone-plugin"


def test_a_confirmation_names_the_count_and_the_total(runtime) -> None:
    rows, _ = review_data(runtime, ACME, DRAFTS)
    drafts = {r.statement.customer_id: r.statement for r in rows}
    two = [drafts["1001"], drafts["1002"]]
    assert confirmation("Approve", two) == "Approve 2 statements totalling 647.20 USD?"
    assert confirmation("Delete", [drafts["1003"]]) == "Delete 1 statement totalling 176.33 USD?"


def test_the_statement_view_approves_and_deletes_with_a_confirmation(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1002"]
    login(client, keys.operator)
    view = client.get(f"/review/statements/{ident}")
    assert view.status_code == 200
    text = html.unescape(view.text)
    assert 'data-confirm="Approve 1 statement totalling 324.12 USD?"' in text
    assert 'data-confirm="Delete 1 statement totalling 324.12 USD?"' in text
    assert f'name="ids" value="{ident}"' in text and 'action="/review/action"' in text
    assert "Amazon Web Services" in text and "10.9%" in text  # 32.77 of 299.42
