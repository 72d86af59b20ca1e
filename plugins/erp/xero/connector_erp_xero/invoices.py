"""One statement as a Xero sales invoice (ACCREC) whose computed total is ours.

Xero computes an invoice's total from its lines: each LineAmount is Quantity x
UnitAmount rounded to the minor unit, plus the line's TaxAmount. So:

* every statement line except tax lines becomes a line item; credits and negative
  rounding adjustments are negative amounts, $0.00 marketplace lines stay;
* the statement's tax is given as TaxAmount on the taxed lines, split in proportion to
  their amounts with the remainder on the largest (Xero takes a given TaxAmount over its
  own computation), and every other line carries the exempt tax type and 0 tax;
* line amounts are tax exclusive (``LineAmountTypes: Exclusive``);
* dates are ``datetime.date`` values: the SDK sends a date as midnight UTC, but a
  naive ``datetime`` as midnight in the process's time zone, which east of UTC is the
  day before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from xero_python.accounting.models import (
    Contact,
    CurrencyCode,
    Invoice,
    LineAmountTypes,
    LineItem,
    LineItemTracking,
)

from connector.contracts import PluginError, StatementDocument
from connector.plugin_kit.invoice_lines import check_total, describe, invoice_lines
from connector_erp_xero.amounts import exact, in_minor_units, tax_shares, unit_price
from connector_erp_xero.settings import InvoiceMapping

INVOICE_TYPE = "ACCREC"


@dataclass(frozen=True, slots=True)
class DraftInvoice:
    """An invoice ready to send, and whether its unit prices need ``unitdp=4``."""

    invoice: Invoice
    needs_unitdp4: bool


def plain_date(value: dt.date) -> dt.date:
    """``value`` as a pure date, even when handed a datetime (which the SDK would shift)."""
    return dt.date(value.year, value.month, value.day)


def currency_code(document: StatementDocument) -> CurrencyCode:
    """The SDK's code for the statement's currency; PluginError when Xero has none."""
    try:
        return CurrencyCode(document.currency)
    except ValueError as exc:
        raise PluginError(
            f"statement {document.number}: currency {document.currency!r} is not one Xero "
            "supports (ISO 4217 codes such as USD, EUR, NZD)"
        ) from exc


def build_invoice(
    document: StatementDocument, mapping: InvoiceMapping, contact_id: str, status: str
) -> DraftInvoice:
    """The ACCREC invoice for ``document``; PluginError if Xero's total would differ."""
    lines = invoice_lines(document)
    if not lines:
        raise PluginError(f"statement {document.number} has no lines to invoice")
    check_total(document, lines, "Xero would hold a different invoice")
    quantum = in_minor_units(document)
    shares = tax_shares(document, lines)
    zero = Decimal(0).quantize(quantum)
    tracking = [LineItemTracking(name=name, option=option) for name, option in mapping.tracking]
    items = []
    needs_unitdp4 = False
    for index, line in enumerate(lines):
        where = f"statement {document.number} line {line.position}"
        quantity, unit, four = unit_price(line, quantum)
        needs_unitdp4 = needs_unitdp4 or four
        items.append(
            LineItem(
                description=describe(line),
                quantity=exact(quantity, where),
                unit_amount=exact(unit, where),
                line_amount=exact(line.amount, where),
                item_code=mapping.item_code or None,
                account_code=mapping.account_code,
                tax_type=mapping.tax_type if index in shares else mapping.exempt_tax_type,
                tax_amount=exact(shares.get(index, zero), where),
                tracking=list(tracking) or None,
            )
        )
    invoice = Invoice(
        type=INVOICE_TYPE,
        # The SDK's models default these read-only flags to False, and would send them.
        contact=Contact(contact_id=contact_id, has_attachments=None, has_validation_errors=None),
        line_items=items,
        date=plain_date(document.issue_date),
        due_date=plain_date(document.due_date),
        line_amount_types=LineAmountTypes.EXCLUSIVE,
        invoice_number=document.number,
        reference=f"{document.provider} {document.period.key}",
        branding_theme_id=mapping.branding_theme_id or None,
        currency_code=currency_code(document),
        status=status,
        has_attachments=None,
        has_errors=None,
    )
    return DraftInvoice(invoice, needs_unitdp4)


def new_contact(mapping: InvoiceMapping, document: StatementDocument) -> Contact:
    """The Xero contact to create for a customer Xero does not know by its number yet."""
    return Contact(
        contact_number=mapping.contact_number,
        name=mapping.contact_name,
        email_address=document.customer.email or None,
        tax_number=document.customer.tax_id or None,
        default_currency=currency_code(document),
        has_attachments=None,
        has_validation_errors=None,
    )
