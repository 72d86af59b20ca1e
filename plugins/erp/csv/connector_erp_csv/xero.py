"""Xero's sales-invoice import file ("SalesInvoiceTemplate.csv"), one row per invoice line.

Xero groups rows into invoices by ``*InvoiceNumber`` and computes an invoice's total as
the sum of its line amounts (Quantity x UnitAmount, less Discount) plus their tax. So,
with the lines and tax shares of :mod:`.lines`:

* every statement line except tax lines becomes a row with Quantity 1 and the line's
  amount as UnitAmount (credits and negative rounding adjustments are negative);
* the tax shares go in ``TaxAmount`` with the tax type; every other line carries the
  exempt tax type and a 0 TaxAmount, so Xero has nothing to compute on its own;
* the file is meant to be imported with "amounts are tax exclusive";
* a credit note (negative total) is imported by Xero as a credit note; its
  ``Reference`` names the invoice it credits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from connector.contracts import StatementDocument, csv_cell, minor_unit
from connector.plugin_kit.addresses import postal_address
from connector_erp_csv.lines import in_minor_unit, invoice_lines, invoice_reference
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

ADDRESS_COLUMNS = ("POAddressLine1", "POAddressLine2", "POAddressLine3", "POAddressLine4")


def address_lines(address: Sequence[str]) -> list[str]:
    """Street lines in Xero's four PO lines; any overflow joins the fourth."""
    count = len(ADDRESS_COLUMNS)
    lines = [line for line in address if line.strip()]
    if len(lines) > count:
        lines = [*lines[: count - 1], ", ".join(lines[count - 1 :])]
    return lines + [""] * (count - len(lines))


def address_columns(address: Sequence[str], tax_id: str | None = None) -> dict[str, str]:
    """The customer's address in Xero's PO columns: street lines in POAddressLine1-4,
    and city, region, postcode and country in their own columns, read from the
    free-form lines (:mod:`connector.plugin_kit.addresses`). Lines whose city could not
    be told apart (a one-line address) stay address lines."""
    parts = postal_address(address, tax_id)
    streets = [parts.street, parts.additional_street, *parts.address_lines]
    return {
        **dict(zip(ADDRESS_COLUMNS, address_lines([s for s in streets if s]), strict=True)),
        "POCity": parts.city or "",
        "PORegion": parts.region or "",
        "POPostalCode": parts.postal_zone or "",
        "POCountry": parts.country or "",
    }


class XeroTemplate:
    """Rows of Xero's sales-invoice import for one statement."""

    name: ClassVar[str] = "xero"
    header: ClassVar[tuple[str, ...]] = XERO_HEADER

    def rows(self, document: StatementDocument, mapping: InvoiceMapping) -> list[tuple[str, ...]]:
        """One row per non-tax line; raises PluginError if Xero's total would differ.

        Cells are as :func:`connector.contracts.csv_cell` writes them: amounts are
        numbers, text that a spreadsheet would run as a formula is quoted."""
        unit = minor_unit(document.currency)
        lines = invoice_lines(document, "Xero", unit)
        # Xero repeats the invoice's fields on each of its rows.
        invoice = {
            "*ContactName": mapping.contact_name,
            "EmailAddress": document.customer.email or "",
            **address_columns(document.customer.address, document.customer.tax_id),
            "*InvoiceNumber": document.number or "",
            "Reference": invoice_reference(document),
            "*InvoiceDate": document.issue_date.strftime(mapping.date_pattern),
            "*DueDate": document.due_date.strftime(mapping.date_pattern),
            "Total": in_minor_unit(document.total, unit, document, "total"),
            "InventoryItemCode": mapping.item_code,
            "Currency": document.currency,
        }
        rows = []
        for line in lines:
            row = {
                **invoice,
                "*Description": line.description,
                "*Quantity": 1,
                "*UnitAmount": line.line.amount,
                "*AccountCode": mapping.account_code,
                "*TaxType": mapping.tax_type if line.taxed else mapping.exempt_tax_type,
                "TaxAmount": line.tax,
            }
            rows.append(tuple(csv_cell(row.get(column)) for column in XERO_HEADER))
        return rows
