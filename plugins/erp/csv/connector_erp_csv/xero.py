"""Xero's sales-invoice import file ("SalesInvoiceTemplate.csv"), one row per invoice line.

Xero groups rows into invoices by ``*InvoiceNumber`` and computes an invoice's total as
the sum of its line amounts (Quantity x UnitAmount, less Discount) plus their tax. So:

* every statement line except tax lines becomes a row with Quantity 1 and the line's
  amount as UnitAmount: credits and negative rounding adjustments are negative amounts,
  $0.00 marketplace lines stay (free trials are visible on the statement too);
* the statement's tax is written as ``TaxAmount`` on the taxed lines, split in
  proportion to their amounts with the remainder on the last, so the tax Xero adds up
  is the statement's tax to the penny; every other line carries the exempt tax type
  and a 0 TaxAmount, so Xero has nothing to compute on its own;
* the file is meant to be imported with "amounts are tax exclusive".
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import ClassVar

from connector.contracts import PluginError, StatementDocument, StatementLine, sum_decimals
from connector_erp_csv.allocation import allocate, quantum_of
from connector_erp_csv.settings import InvoiceMapping

# Column for column Xero's template, asterisks (its required columns) included.
XERO_HEADER = (
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "Total",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
)

# Lines the customer's tax is computed on, as connector.domain.statement builds it: the
# priced lines, discount, support fee and the rounding adjustment. Marketplace
# pass-through is never taxed. Credits are left outside: a StatementLine does not say
# whether "include credits for tax calculations" put it in the base. Xero's total is
# exact either way; only the split of the tax between lines would differ.
TAXED_KINDS = frozenset({"service", "discount", "support", "rounding"})
ADDRESS_COLUMNS = ("POAddressLine1", "POAddressLine2", "POAddressLine3", "POAddressLine4")


def plain(amount: Decimal) -> str:
    """Fixed-point text of an amount, never ``-0.00``."""
    return format(abs(amount) if amount.is_zero() else amount, "f")


def address_lines(address: Sequence[str]) -> list[str]:
    """The free-form address in Xero's four PO lines; any overflow joins the fourth."""
    count = len(ADDRESS_COLUMNS)
    lines = [line for line in address if line.strip()]
    if len(lines) > count:
        lines = [*lines[: count - 1], ", ".join(lines[count - 1 :])]
    return lines + [""] * (count - len(lines))


def describe(line: StatementLine) -> str:
    """The line's description, naming its cloud account when the statement groups by one."""
    if line.account_id and line.account_id not in line.description:
        return f"{line.description} (account {line.account_id})"
    return line.description


def tax_shares(document: StatementDocument, lines: Sequence[StatementLine]) -> dict[int, Decimal]:
    """The statement's tax split over its taxed lines, keyed by index in ``lines``.

    The shares add up to ``document.tax`` exactly.
    """
    if document.tax.is_zero():
        return {}
    taxed = [
        index
        for index, line in enumerate(lines)
        if line.kind in TAXED_KINDS and not line.amount.is_zero()
    ]
    if not taxed:
        raise PluginError(
            f"statement {document.number} has tax {document.tax} but no taxed line "
            f"(kinds {', '.join(sorted(TAXED_KINDS))}) to carry it in Xero"
        )
    weights = [lines[index].amount for index in taxed]
    shares = allocate(document.tax, weights, quantum_of(document.total))
    return dict(zip(taxed, shares, strict=True))


class XeroTemplate:
    """Rows of Xero's sales-invoice import for one statement."""

    name: ClassVar[str] = "xero"
    header: ClassVar[tuple[str, ...]] = XERO_HEADER

    def rows(self, document: StatementDocument, mapping: InvoiceMapping) -> list[tuple[str, ...]]:
        """One row per non-tax line; raises PluginError if Xero's total would differ."""
        lines = sorted(
            (line for line in document.lines if line.kind != "tax"), key=lambda line: line.position
        )
        if not lines:
            raise PluginError(f"statement {document.number} has no lines to export")
        computed = sum_decimals(line.amount for line in lines) + document.tax
        if computed != document.total:
            raise PluginError(
                f"statement {document.number}: lines {computed - document.tax} plus tax "
                f"{document.tax} make {computed}, not the total {document.total}; "
                "Xero would import a different invoice"
            )
        shares = tax_shares(document, lines)
        zero = Decimal(0).quantize(quantum_of(document.total))
        # Xero repeats the invoice's fields on each of its rows. POCity, PORegion,
        # POPostalCode and POCountry stay empty: Party holds a free-form address.
        invoice = {
            "*ContactName": mapping.contact_name,
            "EmailAddress": document.customer.email or "",
            **dict(zip(ADDRESS_COLUMNS, address_lines(document.customer.address), strict=True)),
            "*InvoiceNumber": document.number or "",
            "Reference": f"{document.provider} {document.period.key}",
            "*InvoiceDate": document.issue_date.strftime(mapping.date_pattern),
            "*DueDate": document.due_date.strftime(mapping.date_pattern),
            "Total": plain(document.total),
            "InventoryItemCode": mapping.item_code,
            "Currency": document.currency,
        }
        rows = []
        for index, line in enumerate(lines):
            row = {
                **invoice,
                "*Description": describe(line),
                "*Quantity": "1",
                "*UnitAmount": plain(line.amount),
                "*AccountCode": mapping.account_code,
                "*TaxType": mapping.tax_type if index in shares else mapping.exempt_tax_type,
                "TaxAmount": plain(shares.get(index, zero)),
            }
            rows.append(tuple(row.get(column, "") for column in XERO_HEADER))
        return rows
