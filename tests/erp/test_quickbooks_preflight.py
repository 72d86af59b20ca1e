"""The quickbooks sink's preflight against the simulated company: every gap, no writes."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from connector.contracts import PluginError
from connector.testing.samples import credit_note
from tests.erp.fake_clock import FakeClock
from tests.erp.quickbooks_fixtures import Worker, fresh_store, statements
from tests.erp.quickbooks_sim import FakeQuickBooks, Fault
from tests.factories import TAX_RATE, make_statement

ITEMS = "see Sales > Products and services"
TAXES = "see Taxes > Sales tax settings"
VAT = {"company_country": "GB", "home_currency": "GBP", "tax_code": "20", "exempt_tax_code": "21"}


@pytest.fixture
def vat_qbo(rsps) -> FakeQuickBooks:
    """A UK company: code 20 holds our 8.25 %, code 21 zero; home currency GBP."""
    sim = FakeQuickBooks(
        rsps, clock=FakeClock(), us=False, tax_rates={"20": TAX_RATE, "21": Decimal(0)}
    )
    sim.home_currency = "GBP"
    return sim


def in_gbp(document, **fields):
    """``document`` invoiced in GBP at the 8.25 % its tax was computed at."""
    return dataclasses.replace(document, currency="GBP", tax_rate=TAX_RATE, **fields)


def test_all_mappings_present_gives_no_gaps_and_new_customers_are_not_gaps(qbo):
    """Item 1 and the US transaction tax code 5 exist; the customer does not, which a
    push creates by name."""
    worker = Worker(qbo, fresh_store())

    assert worker.sink.preflight(statements(3)) == []
    assert qbo.queries == [
        "select * from Item where Active in (true, false) and Id in ('1') MAXRESULTS 1000",
        "select * from TaxCode where Active in (true, false) and Id in ('5') MAXRESULTS 1000",
        "select * from Preferences",
    ]
    assert qbo.writes() == [] and qbo.customers == {}
    assert worker.limiter.acquired == 3


def test_every_gap_is_found_in_one_call_and_nothing_is_written(vat_qbo):
    """An inactive item (one customer's mapping), a missing marketplace item, a missing
    tax code (settings), unknown terms and customer, and a currency the company cannot
    invoice in (multicurrency off): six gaps, one preflight."""
    vat_qbo.lists["Item"]["7"] = False
    documents = statements(3)
    documents[0] = in_gbp(documents[0], erp_mappings={"item_ref": "7", "customer_ref": "404"})
    documents[1] = dataclasses.replace(
        in_gbp(documents[1]), currency="EUR", billing_currency="GBP", exchange_rate=Decimal("1.2")
    )
    documents[2] = in_gbp(documents[2], erp_mappings={"item_ref.marketplace": "99"})
    worker = Worker(vat_qbo, fresh_store(), **{**VAT, "exempt_tax_code": "22"}, terms_ref="3")

    gaps = worker.sink.preflight(documents)

    assert gaps == [
        f"erp mapping 'item_ref' of customer CUST-1001 '7': the product/service with id 7 is "
        f"inactive in QuickBooks; {ITEMS}",
        f"erp mapping 'item_ref.marketplace' of customer CUST-1001 '99': QuickBooks has no "
        f"product/service with id 99; {ITEMS}",
        "erp.settings.exempt_tax_code '22': QuickBooks has no tax code with id 22 (the "
        f"company's active tax codes: 20, 21); {TAXES}",
        "erp.settings.terms_ref '3': QuickBooks has no payment terms with id 3; see Settings > "
        "All lists > Terms",
        "erp mapping 'customer_ref' of customer CUST-1001 '404': QuickBooks has no customer "
        "with id 404; see Sales > Customers",
        "currency EUR of statements NW-2025-0002: multicurrency is off in the QuickBooks "
        "company (home currency GBP); turn it on under Settings > Account and settings > "
        "Advanced > Currency and add EUR",
    ]
    assert vat_qbo.writes() == []
    # Items, tax codes (and the active ones, for the message), terms, customers,
    # preferences: one query each, all limited.
    assert len(vat_qbo.queries) == 6 and worker.limiter.acquired == 6


def test_a_foreign_currency_must_be_in_the_company_currency_list(qbo):
    """Multicurrency on, EUR added but CAD inactive: only the CAD statement is a gap."""
    qbo.multicurrency = True
    qbo.currencies = {"EUR": True, "CAD": False}
    euro, canadian = (
        make_statement(
            statement_id=ident,
            number=number,
            currency=currency,
            billing_currency="USD",
            exchange_rate=Decimal(rate),
        )
        for ident, number, currency, rate in (
            ("a", "A-1", "EUR", "0.8"),
            ("b", "B-1", "CAD", "1.25"),
        )
    )

    assert Worker(qbo, fresh_store()).sink.preflight([euro, canadian]) == [
        "currency CAD of statements B-1 is not in the QuickBooks company's currency list "
        "(home currency USD); add it under Settings > Currencies"
    ]


def test_a_home_currency_other_than_the_companys_is_a_gap(qbo):
    qbo.home_currency = "CAD"
    qbo.multicurrency, qbo.currencies = True, {"USD": True}

    assert Worker(qbo, fresh_store()).sink.preflight(statements(1)) == [
        "erp.settings.home_currency 'USD': the QuickBooks company's home currency is CAD; "
        "set home_currency: CAD"
    ]


def test_inactive_tax_codes_are_gaps_only_where_the_lines_use_them(vat_qbo):
    """Code 21 (exempt) is inactive: a gap for a statement with a marketplace line, none
    for one of a single taxed service line."""
    vat_qbo.lists["TaxCode"]["21"] = False
    with_marketplace = in_gbp(make_statement())
    services_only = in_gbp(
        make_statement(statement_id="s", number="S-1"),
        lines=[ln for ln in make_statement().lines if ln.kind == "service"][:1],
    )
    line = services_only.lines[0]
    tax = (line.amount * TAX_RATE).quantize(Decimal("0.01"))
    services_only = dataclasses.replace(
        services_only, subtotal=line.amount, tax=tax, total=line.amount + tax
    )
    worker = Worker(vat_qbo, fresh_store(), **VAT)

    assert worker.sink.preflight([services_only]) == []
    assert worker.sink.preflight([with_marketplace]) == [
        f"erp.settings.exempt_tax_code '21': the tax code with id 21 is inactive in "
        f"QuickBooks (the company's active tax codes: 20); {TAXES}"
    ]


def test_a_tax_rate_id_is_checked_when_our_tax_is_sent_as_a_tax_line(vat_qbo):
    worker = Worker(vat_qbo, fresh_store(), **VAT, tax_rate_ref="33")

    assert worker.sink.preflight([in_gbp(make_statement())]) == [
        f"erp.settings.tax_rate_ref '33': QuickBooks has no tax rate with id 33; {TAXES}"
    ]
    vat_qbo.lists["TaxRate"]["33"] = True
    assert worker.sink.preflight([in_gbp(make_statement())]) == []


def test_terms_are_not_needed_by_a_credit_memo(qbo):
    """A credit memo carries no SalesTermRef, so unknown terms do not stop it."""
    worker = Worker(qbo, fresh_store(), terms_ref="3")

    assert worker.sink.preflight([dataclasses.replace(credit_note(), tax_rate=TAX_RATE)]) == []
    assert not [q for q in qbo.queries if "from Term" in q]


def test_a_statement_the_push_would_refuse_is_a_gap_with_the_push_message(vat_qbo):
    """Outside the US every line needs a tax code: none is set for taxed lines."""
    settings = {**VAT, "tax_code": None}

    [gap] = Worker(vat_qbo, fresh_store(), **settings).sink.preflight([in_gbp(make_statement())])

    assert gap == (
        "statement NW-2025-0042: a company outside the US needs a tax code id on every line; "
        "set tax_code in erp.settings (or erp.mappings)"
    )


def test_preflight_of_nothing_queries_nothing(qbo):
    assert Worker(qbo, fresh_store()).sink.preflight([]) == []
    assert qbo.calls == []


def test_a_query_quickbooks_refuses_raises_a_plugin_error(qbo):
    fault = {"Fault": {"Error": [{"Message": "Error parsing query", "code": "4000"}]}}
    qbo.inject("query", Fault(status=400, body=fault))

    with pytest.raises(PluginError, match="Error parsing query"):
        Worker(qbo, fresh_store()).sink.preflight(statements(1))
