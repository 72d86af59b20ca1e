"""Sample statement documents the conformance kit hands to renderers and sinks.

Each sample exercises something a plugin must cope with: a Draft without a number, an
Open statement with marketplace pass-through (a $0.00 free trial included), a rounding
adjustment, a credit and tax; a statement converted into another currency; a credit
note whose amounts are negative. The totals are consistent the way the core builds
them: ``subtotal`` is the sum of the non-tax lines and ``total`` is ``subtotal + tax``,
so a sink can check what its ERP will compute.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from connector.contracts import (
    BillingPeriod,
    DetailRow,
    Party,
    StatementDocument,
    StatementLine,
    sum_decimals,
)

PERIOD = BillingPeriod(dt.date(2025, 3, 1), dt.date(2025, 4, 1))

RESELLER = Party(
    name="Northwind Cloud Services LLC",
    email="billing@northwind.example",
    phone="+1 512 555 0100",
    address=("500 Congress Ave, Suite 1200", "Austin, TX 78701", "United States"),
    tax_id="US 74-1234567",
)
CUSTOMER = Party(
    name="Contoso Analytics & Co.",
    email="ap@contoso.example",
    phone="+1 415 555 0199",
    address=("88 Market Street", "Floor 3", "San Francisco, CA 94105", "United States"),
    tax_id="US 94-7654321",
)
EU_CUSTOMER = Party(
    name="Fabrikam Datenwerk GmbH",
    email="rechnung@fabrikam.example",
    address=("Friedrichstraße 123", "10117 Berlin", "Germany"),
    tax_id="DE 123456789",
)


def _detail(account: str, category: str, service: str, sku: str, quantity: str, cost: str,
            price: str, *, marketplace: bool = False) -> DetailRow:  # fmt: skip
    price_value = Decimal(price)
    return DetailRow(
        account_id=account,
        service_category=category,
        service_name=service,
        sku=sku,
        line_item_type="Usage",
        is_marketplace=marketplace,
        quantity=Decimal(quantity),
        cost=Decimal(cost),
        price=price_value,
        price_rounded=price_value.quantize(Decimal("0.01")),
    )


# Full-precision detail rows (cost x 1.15 for services, at cost for marketplace); the
# statement lines below are their sums per service category, rounded half-up.
_DETAILS = (
    _detail("111122223333", "Compute", "Amazon Elastic Compute Cloud",
            "USE1-BoxUsage:m5.large", "744.0000000000", "71.4240000000", "82.1376000000"),
    _detail("444455556666", "Compute", "AWS Lambda", "USE1-Lambda-GB-Second",
            "1834567.2500000000", "30.5803478261", "35.1674000000"),
    _detail("111122223333", "Storage", "Amazon Simple Storage Service",
            "USE1-TimedStorage-ByteHrs", "1520.4477611940", "34.9695652174", "40.2150000000"),
    _detail("111122223333", "Datadog Pro (AWS Marketplace)", "Datadog Pro", "USE1-MP:hosts",
            "12.0000000000", "184.0000000000", "184.0000000000", marketplace=True),
    _detail("444455556666", "Alert Logic (AWS Marketplace Free Trial)",
            "Alert Logic Threat Manager", "USE1-MP:FreeTrial", "0.8060000000", "0E-10",
            "0E-10", marketplace=True),
)  # fmt: skip


def _lines(*specs: tuple[str, str, str, str | None]) -> list[StatementLine]:
    """Lines numbered from 1: (kind, description, amount, service category)."""
    return [
        StatementLine(position, kind, description, Decimal(amount), service_category=category)
        for position, (kind, description, amount, category) in enumerate(specs, start=1)
    ]


def statement_from_lines(lines: Sequence[StatementLine], **fields: object) -> StatementDocument:
    """The sample statement with ``lines``, its subtotal, tax and total following from
    them; ``fields`` replace any other of its fields."""
    tax = sum_decimals(line.amount for line in lines if line.kind == "tax")
    subtotal = sum_decimals(line.amount for line in lines if line.kind != "tax")
    values: dict[str, object] = dict(
        statement_id="kit-st-0001",
        revision=1,
        tenant="kit-tenant",
        provider="aws",
        period=PERIOD,
        status="Open",
        number="NW-2025-0042",
        issue_date=dt.date(2025, 4, 8),
        due_date=dt.date(2025, 5, 8),
        currency="USD",
        reseller=RESELLER,
        customer=CUSTOMER,
        customer_id="CUST-1001",
        lines=list(lines),
        details=list(_DETAILS),
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        notes="Payment by ACH to account 000123456789.\nQuestions: billing@northwind.example",
        pricebook_version="aws-standard@2025-01-01",
        tax_name="US Sales Tax",
        tax_rate=Decimal("0.0825"),
        billing_currency="USD",
    )
    values.update(fields)
    return StatementDocument(**values)  # type: ignore[arg-type]


def open_statement() -> StatementDocument:
    """Open and numbered: services, marketplace (one free trial), rounding, credit, tax.

    Compute 82.1376 + 35.1674 = 117.305 -> 117.31, Storage 40.215 -> 40.22; the details
    sum to 341.52 exactly but the rounded lines to 341.53, so a rounding line of -0.01.
    Credit -50.00; taxed base 117.31 + 40.22 - 0.01 - 50.00 = 107.52, tax 8.25 % = 8.87
    (8.8704); total 117.31 + 40.22 + 184.00 - 0.01 - 50.00 + 8.87 = 300.39.
    """
    lines = _lines(
        ("service", "AWS Compute", "117.31", "Compute"),
        ("service", "AWS Storage", "40.22", "Storage"),
        ("marketplace", "Datadog Pro (AWS Marketplace)", "184.00", "Datadog Pro (AWS Marketplace)"),
        ("marketplace", "Alert Logic (AWS Marketplace Free Trial)", "0.00",
         "Alert Logic (AWS Marketplace Free Trial)"),
        ("rounding", "Rounding adjustment", "-0.01", None),
        ("credit", "Credit applied (promotional credit)", "-50.00", None),
        ("tax", "US Sales Tax 8.25%", "8.87", None),
    )  # fmt: skip
    return statement_from_lines(
        lines,
        custom_fields={"PO number": "PO-7781", "Cost centre": "CC-42"},
        payment_method="ACH transfer",
        erp_mappings={"contact_name": "Contoso Analytics"},
    )


def draft_statement() -> StatementDocument:
    """The open statement before approval: status Draft and no number yet."""
    return dataclasses.replace(open_statement(), status="Draft", number=None)


def foreign_currency_statement() -> StatementDocument:
    """A statement in EUR converted from USD billing data at 0.9187, with 19 % VAT.

    Compute 117.31 USD x 0.9187 = 107.77 EUR, Storage 40.22 x 0.9187 = 36.95 EUR;
    VAT 19 % of 144.72 = 27.4968 -> 27.50; total 172.22.
    """
    lines = _lines(
        ("service", "AWS Compute", "107.77", "Compute"),
        ("service", "AWS Storage", "36.95", "Storage"),
        ("tax", "VAT 19%", "27.50", None),
    )
    return statement_from_lines(
        lines,
        statement_id="kit-st-0002",
        number="NW-2025-0043",
        currency="EUR",
        customer=EU_CUSTOMER,
        customer_id="CUST-2002",
        details=[],
        tax_name="VAT",
        tax_rate=Decimal("0.19"),
        billing_currency="USD",
        exchange_rate=Decimal("0.9187"),
    )


def credit_note() -> StatementDocument:
    """A credit note correcting an Open statement: every amount negative.

    Services -20.00 - 5.50 = -25.50, tax 8.25 % = -2.10, total -27.60.
    """
    lines = _lines(
        ("service", "AWS Compute (correction of NW-2025-0042)", "-20.00", "Compute"),
        ("service", "AWS Storage (correction of NW-2025-0042)", "-5.50", "Storage"),
        ("tax", "US Sales Tax 8.25%", "-2.10", None),
    )
    return statement_from_lines(
        lines,
        statement_id="kit-st-0003",
        number="NW-CN-2025-0007",
        details=[],
        notes="Credit note for statement NW-2025-0042.",
    )


def sample_documents() -> dict[str, StatementDocument]:
    """Every sample by name: ``draft``, ``open``, ``foreign-currency``, ``credit-note``."""
    return {
        "draft": draft_statement(),
        "open": open_statement(),
        "foreign-currency": foreign_currency_statement(),
        "credit-note": credit_note(),
    }


def approved_documents() -> dict[str, StatementDocument]:
    """The samples a sink is given: every one that approval has numbered."""
    return {name: doc for name, doc in sample_documents().items() if doc.number is not None}
