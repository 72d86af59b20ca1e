"""QuickBooks Online invoice and customer bodies for one statement.

The bodies are plain data in the schema's element names, written by :mod:`.money_json`.
python-quickbooks' ``Invoice`` object is not used to build them: its constructor sets
placeholders that QuickBooks would read as values (``TxnDate``/``DueDate`` "",
``AllowIPNPayment`` True, ``ExchangeRate`` 1 in any currency, ``GlobalTaxCalculation``
"TaxExcluded" even for US companies, which reject it, read-only ``TotalAmt``/``Balance``)
and its ``to_json`` writes amounts as strings.

QuickBooks computes an invoice's total itself: the sum of its line amounts plus the tax
it works out from the lines' tax codes. So, as the CSV sink splits our tax over taxed
lines, this module marks exactly the lines our tax was computed on as taxed, and states
our tax amount where QuickBooks lets a client fix it (US: ``TxnTaxDetail.TotalTax``;
elsewhere: a tax line on ``tax_rate_ref``), so QuickBooks' total is ours to the penny.
The sink still reads the total back and compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector.contracts import (
    PluginError,
    StatementDocument,
    StatementLine,
    minor_unit,
    sum_decimals,
)
from connector.plugin_kit import invoice_lines as lines_kit
from connector.plugin_kit.invoice_lines import TAXED_KINDS, check_total, describe, invoice_lines
from connector_erp_quickbooks.settings import InvoiceMapping, QuickBooksSettings

MAX_DOC_NUMBER = 21  # QuickBooks' DocNumber limit
MAX_MEMO = 1000  # CustomerMemo
MAX_DESCRIPTION = 4000  # Line.Description
MAX_ADDRESS_LINES = 5  # PhysicalAddress Line1..Line5
# Exchange rates go to QuickBooks with the 7 decimal places its rate fields keep.
RATE_QUANTUM = Decimal("1E-7")
CENT = Decimal("0.01")
US_TAXABLE, US_NON_TAXABLE = "TAX", "NON"
INVOICE, CREDIT_MEMO = "Invoice", "CreditMemo"


def in_minor_units(document: StatementDocument) -> StatementDocument:
    """``document`` with its lines, tax and total written in the currency's minor unit
    (``12.300000000000`` -> ``12.30``); PluginError naming the first amount that would
    change, since QuickBooks would then book another amount."""
    return lines_kit.in_minor_units(
        document, minor_unit(document.currency), "QuickBooks would round it"
    )


def taxed_lines(
    document: StatementDocument, lines: Sequence[StatementLine]
) -> tuple[set[int], bool]:
    """Indexes in ``lines`` of the lines our tax was computed on, and whether the rate
    applied to them gives our tax exactly (False: QuickBooks must be told the amount).

    With credits, the base either includes them or not; the tax rate says which.
    """
    if document.tax.is_zero():
        return set(), True
    base = [i for i, line in enumerate(lines) if line.kind in TAXED_KINDS and line.amount]
    credits = [i for i, line in enumerate(lines) if line.kind == "credit" and line.amount]
    if not base:
        raise PluginError(
            f"statement {document.number} has tax {document.tax} but no taxed line "
            f"(kinds {', '.join(sorted(TAXED_KINDS))}) for QuickBooks to compute it on"
        )
    candidates = [base + credits, base] if credits else [base]
    if document.tax_rate is None:
        return set(candidates[0]), False
    # QuickBooks rounds the tax it computes once per rate, on the lines' total; whether
    # to the currency's minor unit or to the 2 decimals it keeps for amounts in every
    # currency is not documented (they differ for JPY), so it is trusted with the tax
    # only when both give ours.
    units = {minor_unit(document.currency), CENT}
    for candidate in candidates:
        amount = sum_decimals(lines[i].amount for i in candidate) * document.tax_rate
        if all(amount.quantize(unit, ROUND_HALF_UP) == document.tax for unit in units):
            return set(candidate), True
    return set(candidates[0]), False


def exchange_rate(document: StatementDocument, home_currency: str) -> Decimal:
    """Home-currency units per unit of the invoice currency (QuickBooks' ExchangeRate).

    The statement's ``exchange_rate`` converts its billing currency into its invoice
    currency, so it gives QuickBooks' rate only when the billing currency is the home one.
    """
    if document.currency == home_currency:
        return Decimal(1)
    if document.billing_currency == home_currency and document.exchange_rate > 0:
        return (Decimal(1) / document.exchange_rate).quantize(RATE_QUANTUM, ROUND_HALF_UP)
    raise PluginError(
        f"statement {document.number} is in {document.currency} (billed in "
        f"{document.billing_currency or 'an unknown currency'}) but the QuickBooks home "
        f"currency is {home_currency}: no rate from {document.currency} to {home_currency} "
        "is known; invoice in the home currency or convert from it"
    )


def check_doc_number(document: StatementDocument) -> str:
    """The invoice number, refused when QuickBooks could not store it whole."""
    number = document.number or ""
    if len(number) > MAX_DOC_NUMBER:
        raise PluginError(
            f"invoice number {number!r} of statement {document.statement_id} has "
            f"{len(number)} characters; QuickBooks' DocNumber holds at most {MAX_DOC_NUMBER}: "
            "shorten the tenant's invoice numbering pattern"
        )
    return number


def _ref(value: str) -> dict[str, str]:
    return {"value": value}


def _tax_code_for(taxed: bool, mapping: InvoiceMapping, document: StatementDocument) -> str:
    code = mapping.tax_code if taxed else mapping.exempt_tax_code
    if not code:
        key = "tax_code" if taxed else "exempt_tax_code"
        raise PluginError(
            f"statement {document.number}: a company outside the US needs a tax code id on "
            f"every line; set {key} in erp.settings (or erp.mappings)"
        )
    return code


def entity_of(document: StatementDocument) -> str:
    """``Invoice``, or ``CreditMemo`` for a statement that credits the customer.

    QuickBooks refuses an invoice whose total is negative; a credit memo carries the
    same lines with their signs turned, and its (positive) total is what we credit.
    """
    return CREDIT_MEMO if document.total < 0 else INVOICE


def booked_total(document: StatementDocument) -> Decimal:
    """The TotalAmt QuickBooks must arrive at for ``document`` (positive for a credit memo)."""
    return -document.total if entity_of(document) == CREDIT_MEMO else document.total


def credit_reference(document: StatementDocument) -> str | None:
    """``Credit note for ACME-01005, issued 2026-10-06``: the invoice a credit memo
    credits; None for an invoice.

    QuickBooks Online's API has no field that ties a credit memo to an invoice for a
    US (or most other) company: ``CreditMemo.InvoiceRef`` is for India-region companies
    only (Finance.xsd: "Applicable for IN Region"), and ``LinkedTxn`` lists what
    QuickBooks itself linked (the payments that applied the credit). So the memo names
    the invoice in its text, where a person applying it sees it: ``CustomerMemo`` (on
    the customer's copy) and ``PrivateNote``.
    """
    credited = document.credited_invoice
    if credited is None:
        return None
    issued = f", issued {credited.issue_date.isoformat()}" if credited.issue_date else ""
    return f"Credit note for {credited.number}{issued}"


def customer_memo(document: StatementDocument) -> str | None:
    """``CustomerMemo``: the statement's notes, led by the invoice a credit memo credits
    (unless the notes name it already)."""
    reference = credit_reference(document)
    notes = document.notes or ""
    if reference is None or (
        document.credited_invoice is not None
        and notes.startswith(f"Credit note for {document.credited_invoice.number}")
    ):
        return notes or None
    return f"{reference}\n{notes}" if notes else reference


def private_note(document: StatementDocument) -> str:
    """``PrivateNote``: the statement's idempotency key (how a person finds which
    statement made it) and, for a credit memo, the invoice it credits."""
    note = f"Billing Connector statement {document.idempotency_key}"
    credited = document.credited_invoice
    return f"{note}; credits invoice {credited.number}" if credited is not None else note


def invoice_payload(
    document: StatementDocument, mapping: InvoiceMapping, settings: QuickBooksSettings
) -> dict[str, Any]:
    """The Invoice (or CreditMemo, see :func:`entity_of`) body for ``document``, without
    ``CustomerRef`` (added once resolved).

    Raises PluginError when QuickBooks' transaction could not equal the statement.
    """
    number = check_doc_number(document)
    document = in_minor_units(document)
    credit = entity_of(document) == CREDIT_MEMO
    sign = Decimal(-1) if credit else Decimal(1)
    lines = invoice_lines(document)
    if not lines:
        raise PluginError(f"statement {number} has no lines to invoice")
    check_total(document, lines, "QuickBooks would book a different invoice", number)
    memo = customer_memo(document)
    if memo and len(memo) > MAX_MEMO:
        raise PluginError(
            f"statement {number}: notes have {len(memo)} characters; QuickBooks' "
            f"customer memo holds at most {MAX_MEMO}"
        )
    taxed, exact = taxed_lines(document, lines)
    us = settings.us_company
    # Without the rate there is nothing to check against: the read-back will tell.
    if not us and not exact and document.tax_rate is not None and not mapping.tax_rate_ref:
        raise PluginError(
            f"statement {number}: QuickBooks would compute a tax other than our "
            f"{document.tax} from the lines' tax code; set tax_rate_ref (the tax rate id "
            "behind tax_code) so our tax amount is sent with the invoice"
        )
    body_lines = []
    for index, line in enumerate(lines):
        description = describe(line)
        if len(description) > MAX_DESCRIPTION:
            raise PluginError(
                f"statement {number} line {line.position}: description longer than "
                f"{MAX_DESCRIPTION} characters"
            )
        if us:
            code = US_TAXABLE if index in taxed else US_NON_TAXABLE
        else:
            code = _tax_code_for(index in taxed, mapping, document)
        body_lines.append(
            {
                "LineNum": index + 1,
                "Description": description,
                "Amount": line.amount * sign,
                "DetailType": "SalesItemLineDetail",
                # Quantity 1 at the line's amount: QuickBooks checks Amount = Qty x
                # UnitPrice, which a usage quantity would break by rounding.
                "SalesItemLineDetail": {
                    "ItemRef": _ref(mapping.item_for(line.kind)),
                    "UnitPrice": line.amount * sign,
                    "Qty": Decimal(1),
                    "TaxCodeRef": _ref(code),
                },
            }
        )
    home = settings.home_currency or "USD"
    payload: dict[str, Any] = {
        "DocNumber": number,
        "TxnDate": document.issue_date.isoformat(),
        "CurrencyRef": _ref(document.currency),
        "ExchangeRate": exchange_rate(document, home),
        "PrivateNote": private_note(document),
        "Line": body_lines,
    }
    tax_detail = _tax_detail(document, lines, taxed, mapping, us, sign)
    if tax_detail:
        payload["TxnTaxDetail"] = tax_detail
    memo = customer_memo(document)
    if memo:
        payload["CustomerMemo"] = {"value": memo}
    if document.customer.email:
        payload["BillEmail"] = {"Address": document.customer.email}
    if not us:
        payload["GlobalTaxCalculation"] = "TaxExcluded"
    if credit:
        return payload  # nothing is due on a credit, and it cannot be paid online
    if mapping.terms_ref:
        payload["SalesTermRef"] = _ref(mapping.terms_ref)
    # Always explicit: QuickBooks would otherwise derive it from the terms or the
    # company's default, and our statement states its own due date.
    payload["DueDate"] = document.due_date.isoformat()
    online = settings.allow_online_payment
    payload["AllowIPNPayment"] = online
    payload["AllowOnlineCreditCardPayment"] = online
    payload["AllowOnlineACHPayment"] = online
    return payload


def _tax_detail(
    document: StatementDocument,
    lines: Sequence[StatementLine],
    taxed: set[int],
    mapping: InvoiceMapping,
    us: bool,
    sign: Decimal,
) -> dict[str, Any] | None:
    if document.tax.is_zero():
        return None
    if us:
        if not mapping.tax_code:
            raise PluginError(
                f"statement {document.number} carries tax {document.tax}: set tax_code "
                "(the QuickBooks sales tax code id) in erp.settings or erp.mappings"
            )
        # TotalTax fixes the amount, whatever rate the code holds in QuickBooks.
        return {"TxnTaxCodeRef": _ref(mapping.tax_code), "TotalTax": document.tax * sign}
    if not mapping.tax_rate_ref:
        return None
    base = sum_decimals(lines[i].amount for i in sorted(taxed)) * sign
    detail: dict[str, Any] = {"TaxRateRef": _ref(mapping.tax_rate_ref), "NetAmountTaxable": base}
    if document.tax_rate is not None:
        detail["PercentBased"] = True
        detail["TaxPercent"] = (document.tax_rate * 100).normalize()
    tax = document.tax * sign
    tax_line = {"Amount": tax, "DetailType": "TaxLineDetail", "TaxLineDetail": detail}
    return {"TotalTax": tax, "TaxLine": [tax_line]}


def customer_payload(name: str, document: StatementDocument) -> dict[str, Any]:
    """A new Customer for ``document``'s customer, named ``name`` (its DisplayName)."""
    if any(char in name for char in ":\t\n") or len(name) > 500:
        raise PluginError(
            f"customer name {name!r} cannot be a QuickBooks DisplayName (no colon, tab or "
            "newline, at most 500 characters); set erp.customer_name or erp.customer_ref "
            f"for customer {document.customer_id}"
        )
    customer = document.customer
    payload: dict[str, Any] = {
        "DisplayName": name,
        "CompanyName": customer.name[:100],
        "CurrencyRef": _ref(document.currency),
    }
    if customer.email:
        payload["PrimaryEmailAddr"] = {"Address": customer.email}
    if customer.phone:
        payload["PrimaryPhone"] = {"FreeFormNumber": customer.phone}
    address = [line for line in customer.address if line.strip()]
    if address:
        if len(address) > MAX_ADDRESS_LINES:
            keep = MAX_ADDRESS_LINES - 1
            address = [*address[:keep], ", ".join(address[keep:])]
        payload["BillAddr"] = {f"Line{i}": text for i, text in enumerate(address, start=1)}
    return payload
