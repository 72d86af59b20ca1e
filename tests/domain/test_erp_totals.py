"""The invoice an ERP computes from what our sinks send equals our statement total, to the penny.

Random statements go through the real build (price, group, round, discount, support fee,
credits, tax) and then through each sink's real payload code: the Xero API invoice (or
credit note), Xero's import file, the QuickBooks Online API invoice (or credit memo) for
a US company and for one elsewhere, and QuickBooks' import file. What each system
would compute from that is modelled independently in :mod:`tests.erp.erp_arithmetic`
(2-decimal line amounts, the tax as sent or as the ERP itself rounds it), and must be
our total exactly: no tolerance, for both tax roundings, credits before and after tax,
marketplace fees, discounts, support fees, rounding adjustments on and off, and with
the amounts as they come back from either database.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP
from decimal import Decimal as D

import pytest
from connector_erp_csv.quickbooks import QuickBooksTemplate
from connector_erp_csv.settings import InvoiceMapping as CsvMapping
from connector_erp_csv.xero import XeroTemplate
from connector_erp_quickbooks.payloads import booked_total, entity_of, invoice_payload
from connector_erp_quickbooks.settings import QuickBooksSettings
from connector_erp_quickbooks.settings import resolve_mapping as quickbooks_mapping
from connector_erp_xero.credit_notes import build_credit_note
from connector_erp_xero.invoices import build_invoice
from connector_erp_xero.settings import InvoiceMapping as XeroMapping
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from connector.contracts import PluginError, StatementDocument
from connector.domain.money import quantum, total
from connector.domain.statement import (
    BuiltStatement,
    CustomerCharge,
    StatementOptions,
    build_statement,
)
from connector.domain.totals import Adjustments, SupportTerms
from connector.testing.samples import open_statement
from tests.erp import erp_arithmetic as erp

# NUMERIC(38, 12): what PostgreSQL hands back for every stored amount (SQLite keeps the
# text, so its amounts are the built ones).
POSTGRES_SCALE = D("1E-12")
CATEGORIES = ["Amazon EC2", "Amazon S3", "AWS Lambda", "Amazon RDS"]
RATES = [None, D("0.0825"), D("0.2"), D("0.07"), D("0.19"), D("0.0625"), D("0.15")]

XERO = XeroMapping(contact_number="C-1", contact_name="Customer", account_code="200",
                   tax_type="OUTPUT", exempt_tax_type="NONE", item_code=None,
                   branding_theme_id=None, tracking=())  # fmt: skip
CSV = CsvMapping(contact_name="Customer", account_code="200", tax_type="OUTPUT",
                 exempt_tax_type="NONE", item_code="", date_pattern="%Y-%m-%d")  # fmt: skip
QUICKBOOKS = {"client_id": "app", "client_secret": "secret", "realm_id": "1", "item_ref": "1",
              "tax_code": "5", "exempt_tax_code": "9"}  # fmt: skip
QUICKBOOKS_COMPANIES = {
    "us": QuickBooksSettings.model_validate(QUICKBOOKS),
    "elsewhere, tax line sent": QuickBooksSettings.model_validate(
        {**QUICKBOOKS, "company_country": "GB", "home_currency": "USD", "tax_rate_ref": "7"}
    ),
    "elsewhere, tax left to QuickBooks": QuickBooksSettings.model_validate(
        {**QUICKBOOKS, "company_country": "GB", "home_currency": "USD"}
    ),
}

charges = st.lists(
    st.builds(
        CustomerCharge,
        account_id=st.sampled_from(["111", "222"]),
        service_name=st.just("svc"),
        service_category=st.sampled_from(CATEGORIES),
        sku=st.sampled_from(["a", "b", "c"]),
        line_item_type=st.just("Usage"),
        charge_category=st.sampled_from(["Usage", "Purchase"]),
        is_marketplace=st.booleans(),
        # Cents and fractions of them too, where rounding per line matters most.
        cost=st.decimals(min_value=0, max_value=5000, places=10)
        | st.decimals(min_value=0, max_value=1, places=4),
        list_cost=st.just(D(0)),
        quantity=st.just(D(1)),
    ),
    min_size=1,
    max_size=30,
)
support_terms = st.none() | st.builds(
    lambda first, rest, minimum: SupportTerms([(D(1000), first), (None, rest)], minimum),
    st.decimals(min_value=0, max_value=20, places=1),
    st.decimals(min_value=0, max_value=10, places=1),
    st.decimals(min_value=0, max_value=200, places=2),
)
# A grant takes up to 10 decimal places (credits.parse_amount), so balances may too.
balances = (
    st.just(D(0))
    | st.decimals(min_value=0, max_value=20000, places=2)
    | st.decimals(min_value=0, max_value=500, places=10)
    | st.decimals(min_value=D("0.01"), max_value=D("0.05"), places=4)
)
options = st.builds(
    StatementOptions,
    # Currencies of 2 and 0 decimals; Xero and QuickBooks hold no third decimal (BHD).
    currency=st.sampled_from(["USD", "EUR", "JPY"]),
    group_by_account=st.booleans(),
    include_marketplace=st.booleans(),
    add_rounding_adjustments=st.booleans(),
    rounding=st.sampled_from(["half_up", "half_even"]),
    adjustments=st.builds(
        Adjustments,
        discount_percent=st.decimals(min_value=0, max_value=50, places=2),
        support=support_terms,
        credit_available=balances,
        credits_before_tax=st.booleans(),
        credits_for_marketplace=st.booleans(),
        tax_name=st.just("Tax"),
        tax_rate=st.sampled_from(RATES),
        tax_rounding=st.sampled_from(["statement", "line"]),
    ),
)


def document(built: BuiltStatement, opts: StatementOptions, stored: str) -> StatementDocument:
    """The statement as a sink receives it: ``stored`` "memory" (or SQLite, which keeps
    each amount's text) or "postgresql" (every amount at NUMERIC(38, 12)'s scale)."""
    adj = opts.adjustments

    def kept(amount: D) -> D:
        return amount.quantize(POSTGRES_SCALE) if stored == "postgresql" else amount

    return dataclasses.replace(
        open_statement(),
        currency=opts.currency,
        lines=[
            dataclasses.replace(
                line, amount=kept(line.amount), cost=kept(line.cost), quantity=kept(line.quantity)
            )
            for line in built.lines
        ],
        details=[],
        subtotal=kept(built.subtotal),
        tax=kept(built.tax),
        total=kept(built.total),
        tax_name=adj.tax_name if adj.tax_rate is not None else None,
        tax_rate=None if adj.tax_rate is None else kept(adj.tax_rate),
        credits_before_tax=adj.credits_before_tax,
    )


def credit_note(doc: StatementDocument) -> StatementDocument:
    """The credit note voiding ``doc``: every amount negated (connector.pipeline.review.void)."""
    return dataclasses.replace(
        doc,
        lines=[dataclasses.replace(line, amount=D(0) - line.amount) for line in doc.lines],
        subtotal=D(0) - doc.subtotal,
        tax=D(0) - doc.tax,
        total=D(0) - doc.total,
    )


def xero_totals(doc: StatementDocument) -> dict[str, D]:
    """What Xero holds for ``doc``, through the API and through the import file."""
    rates = {"OUTPUT": doc.tax_rate or D(0), "NONE": D(0)}
    if doc.total < 0:  # a credit note holds what it credits, positive
        note = build_credit_note(doc, XERO, "contact-1", "AUTHORISED").note
        api = -erp.xero_total(erp.xero_body(note), rates)
    else:
        invoice = build_invoice(doc, XERO, "contact-1", "AUTHORISED").invoice
        api = erp.xero_total(erp.xero_body(invoice), rates)
    totals = {"xero api": api}
    if doc.total >= 0:
        template = XeroTemplate()
        rows = template.rows(doc, CSV)
        totals["xero import"] = erp.xero_import_total(template.header, rows, rates)
    return totals


def quickbooks_totals(doc: StatementDocument) -> dict[str, D]:
    """What QuickBooks Online books for ``doc`` in each kind of company and by import.

    A company outside the US that was given no tax rate id computes the tax itself; the
    sink refuses to send a statement whose tax QuickBooks would compute differently,
    naming the setting, rather than book another total (and only then: the same lines
    left to QuickBooks' own tax would indeed come to another total).
    """
    rates = {"5": doc.tax_rate or D(0), "9": D(0)}
    totals = {}
    for company, config in QUICKBOOKS_COMPANIES.items():
        mapping = quickbooks_mapping(config, doc)
        try:
            body = erp.quickbooks_body(invoice_payload(doc, mapping, config))
        except PluginError as refused:
            assert company == "elsewhere, tax left to QuickBooks", refused
            assert "set tax_rate_ref" in str(refused)
            sent = QUICKBOOKS_COMPANIES["elsewhere, tax line sent"]
            body = erp.quickbooks_body(invoice_payload(doc, quickbooks_mapping(sent, doc), sent))
            del body["TxnTaxDetail"]
            assert erp.quickbooks_total(body, False, rates) != booked_total(doc)
            continue
        booked = erp.quickbooks_total(body, config.us_company, rates)
        assert booked == booked_total(doc), company
        totals[f"quickbooks {company}"] = -booked if entity_of(doc) == "CreditMemo" else booked
    if doc.total >= 0:
        template = QuickBooksTemplate()
        rows = template.rows(doc, CSV)
        totals["quickbooks import"] = erp.quickbooks_import_total(template.header, rows)
    else:
        with pytest.raises(PluginError, match="negative total"):
            QuickBooksTemplate().rows(doc, CSV)
    return totals


def assert_every_erp_books_our_total(doc: StatementDocument) -> None:
    books = {**xero_totals(doc), **quickbooks_totals(doc)}
    assert books == dict.fromkeys(books, doc.total)


def assert_statement_adds_up(built: BuiltStatement, opts: StatementOptions) -> None:
    """Lines add up to the total, each at the currency's minor unit; with rounding
    adjustments on, the priced lines add up to the rounded full-precision sum."""
    unit = quantum(opts.currency)
    assert built.total == total(line.amount for line in built.lines)
    assert all(line.amount == line.amount.quantize(unit) for line in built.lines)
    assert built.total == built.total.quantize(unit)
    if opts.add_rounding_adjustments:
        mode = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}[opts.rounding]
        exact = total(d.price for d in built.details).quantize(unit, mode)
        priced = ("service", "marketplace", "rounding")
        assert total(line.amount for line in built.lines if line.kind in priced) == exact


@settings(max_examples=300, deadline=None)
@given(charges, options, st.sampled_from(["memory", "postgresql"]), st.booleans())
def test_every_erp_computes_our_statement_total_from_what_we_send(
    charges: list[CustomerCharge], opts: StatementOptions, stored: str, voided: bool
) -> None:
    note(f"charges={charges!r}\noptions={opts!r}")
    built = build_statement(charges, None, opts)
    # Nothing to invoice (only marketplace charges, left out): no sink takes it.
    assume(any(line.kind != "tax" for line in built.lines))
    assert_statement_adds_up(built, opts)
    doc = document(built, opts, stored)
    assert_every_erp_books_our_total(credit_note(doc) if voided else doc)


def test_tax_of_a_statement_read_from_postgresql_is_split_in_cents() -> None:
    """Regression (found by the property): two service lines of 0.02 at 20%, tax rounded
    once: 0.04 x 20% = 0.008 -> 0.01; total 0.05.

    Read back from PostgreSQL every amount has twelve decimal places, and the sinks took
    their minor unit from how the total was written: Xero's tax went out split
    0.005000000000 + 0.005000000000, which Xero holds as 0.01 + 0.01 (a total of 0.06),
    and QuickBooks outside the US was refused, 0.008 not being 0.01 at twelve places.
    Split in cents it is 0.01 + 0.00, and 0.008 rounds to our 0.01: 0.05 everywhere.
    """
    opts = StatementOptions(
        "USD", adjustments=Adjustments(tax_name="VAT", tax_rate=D("0.2"), tax_rounding="statement")
    )
    charges = [
        CustomerCharge("111", "svc", category, "a", "Usage", "Usage", False, D("0.02"), D(0), D(1))
        for category in ("Amazon EC2", "Amazon S3")
    ]
    built = build_statement(charges, None, opts)
    doc = document(built, opts, "postgresql")
    assert (doc.tax, doc.total) == (D("0.01"), D("0.05"))

    invoice = erp.xero_body(build_invoice(doc, XERO, "contact-1", "AUTHORISED").invoice)
    assert sorted(item["TaxAmount"] for item in invoice["LineItems"]) == [D(0), D("0.01")]
    left_to_quickbooks = QUICKBOOKS_COMPANIES["elsewhere, tax left to QuickBooks"]
    body = erp.quickbooks_body(
        invoice_payload(doc, quickbooks_mapping(left_to_quickbooks, doc), left_to_quickbooks)
    )
    assert "TxnTaxDetail" not in body
    assert_every_erp_books_our_total(doc)
