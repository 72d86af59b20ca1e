"""Every sink writes amounts and splits tax in the currency's minor unit, whatever the
scale the database handed the amounts back at, and refuses an amount finer than it.

PostgreSQL returns each stored amount at NUMERIC(38, 12)'s scale (``0.020000000000``);
the sinks used to take their minor unit from how the total happened to be written.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal as D

import pytest
from connector_erp_csv.quickbooks import QuickBooksTemplate
from connector_erp_csv.settings import InvoiceMapping as CsvMapping
from connector_erp_csv.xero import XeroTemplate
from connector_erp_quickbooks.payloads import invoice_payload
from connector_erp_quickbooks.settings import QuickBooksSettings, resolve_mapping
from connector_erp_xero.invoices import build_invoice
from connector_erp_xero.settings import InvoiceMapping as XeroMapping

from connector.contracts import PluginError, StatementDocument, StatementLine
from connector.testing.samples import open_statement
from tests.erp import erp_arithmetic as erp

XERO = XeroMapping(contact_number="C-1", contact_name="Customer", account_code="200",
                   tax_type="OUTPUT", exempt_tax_type="NONE", item_code=None,
                   branding_theme_id=None, tracking=())  # fmt: skip
CSV = CsvMapping(contact_name="Customer", account_code="200", tax_type="OUTPUT",
                 exempt_tax_type="NONE", item_code="", date_pattern="%Y-%m-%d")  # fmt: skip
QUICKBOOKS = QuickBooksSettings.model_validate(
    {"client_id": "app", "client_secret": "secret", "realm_id": "1", "item_ref": "1",
     "tax_code": "5", "exempt_tax_code": "9", "company_country": "GB", "home_currency": "USD"}
)  # fmt: skip
POSTGRES_SCALE = D("1E-12")


def statement(currency: str, amounts: list[str], tax: str, rate: str) -> StatementDocument:
    """Service lines of ``amounts`` and a tax line, every amount at PostgreSQL's scale."""
    lines = [
        StatementLine(i, "service", f"Service {i}", D(a).quantize(POSTGRES_SCALE))
        for i, a in enumerate(amounts, start=1)
    ]
    lines.append(StatementLine(len(lines) + 1, "tax", "Tax", D(tax).quantize(POSTGRES_SCALE)))
    total = sum((line.amount for line in lines), D(0))
    return dataclasses.replace(
        open_statement(),
        currency=currency,
        billing_currency=currency,
        lines=lines,
        details=[],
        subtotal=total - lines[-1].amount,
        tax=lines[-1].amount,
        total=total,
        tax_rate=D(rate).quantize(POSTGRES_SCALE),
    )


def test_yen_tax_read_from_postgresql_is_split_in_whole_yen() -> None:
    """Three lines of 1,000 JPY at 8.25%, tax rounded once: 3,000 x 8.25% = 247.5 -> 248.
    Split in whole yen: 82.67 -> 83 on two lines and the rest, 248 - 166 = 82, on the
    largest (the first of equals), in the API sink and the import file alike; Xero
    then holds 3,000 + 248 = 3,248."""
    doc = statement("JPY", ["1000", "1000", "1000"], "248", "0.0825")
    invoice = erp.xero_body(build_invoice(doc, XERO, "contact-1", "AUTHORISED").invoice)
    assert [item["TaxAmount"] for item in invoice["LineItems"]] == [82, 83, 83]
    rates = {"OUTPUT": D("0.0825"), "NONE": D(0)}
    assert erp.xero_total(invoice, rates) == D(3248)
    rows = XeroTemplate().rows(doc, CSV)
    taxes = [row[XeroTemplate.header.index("TaxAmount")] for row in rows]
    assert taxes == ["82", "83", "83"]
    assert {row[XeroTemplate.header.index("Total")] for row in rows} == {"3248"}


def test_amounts_read_from_postgresql_go_out_at_the_currencys_decimals() -> None:
    """0.020000000000 is written 0.02 (QuickBooks' body and both import files), and the
    QuickBooks tax a company outside the US computes itself, 0.04 x 20% = 0.008 -> 0.01,
    is seen to be ours, so the invoice is sent rather than refused."""
    doc = statement("USD", ["0.02", "0.02"], "0.01", "0.2")
    body = erp.quickbooks_body(invoice_payload(doc, resolve_mapping(QUICKBOOKS, doc), QUICKBOOKS))
    assert [line["Amount"].as_tuple().exponent for line in body["Line"]] == [-2, -2]
    assert "TxnTaxDetail" not in body
    assert erp.quickbooks_total(body, False, {"5": D("0.2"), "9": D(0)}) == D("0.05")
    xero_rows = XeroTemplate().rows(doc, CSV)
    assert [row[XeroTemplate.header.index("*UnitAmount")] for row in xero_rows] == ["0.02"] * 2
    quickbooks_rows = QuickBooksTemplate().rows(doc, CSV)
    assert [row[QuickBooksTemplate.header.index("ItemAmount")] for row in quickbooks_rows] == [
        "0.02",
        "0.02",
    ]


def finer_than_a_cent() -> StatementDocument:
    """A line of 10.125 USD: no ERP holds it; the total 10.125 is the line's."""
    doc = statement("USD", ["10.125"], "0", "0.2")
    return dataclasses.replace(doc, tax_rate=None)


@pytest.mark.parametrize(
    "send",
    [
        lambda doc: build_invoice(doc, XERO, "contact-1", "AUTHORISED"),
        lambda doc: invoice_payload(doc, resolve_mapping(QUICKBOOKS, doc), QUICKBOOKS),
        lambda doc: XeroTemplate().rows(doc, CSV),
        lambda doc: QuickBooksTemplate().rows(doc, CSV),
    ],
    ids=["xero", "quickbooks", "xero import", "quickbooks import"],
)
def test_an_amount_finer_than_the_minor_unit_is_refused_not_rounded(send) -> None:
    with pytest.raises(PluginError, match=r"line 1 is 10\.125 USD, finer than"):
        send(finer_than_a_cent())
