"""QuickBooks Online's invoice import file (Settings > Import data > Invoices), one row
per invoice line.

Sources. The fields, and which are required (invoice number, customer, invoice date,
due date, item amount), are those Intuit lists as the import's defaults:
https://quickbooks.intuit.com/learn-support/en-ca/sales-and-invoicing/do-we-need-to-map-field-everytime-when-import-invoices/01/394876
(pointing to "Import invoices in batches",
https://quickbooks.intuit.com/learn-support/en-ca/help-articles/import-invoices-in-batches/01/338729);
the column names are spelt as in that article's sample file. QuickBooks groups rows
into invoices by ``InvoiceNo``. ``ItemTaxCode``/``ItemTaxAmount`` give the tax per line
(a US company's codes are ``TAX`` and ``NON``: set ``tax_type``/``exempt_tax_type``);
the importer lets the columns be mapped by hand if a company's sample differs.

The rules are those of the Xero template (see :mod:`.lines`): one row per non-tax line
with quantity 1 and the line's amount as rate, credits and negative rounding lines as
negative amounts, the statement's tax split over the taxed lines so QuickBooks' total
(Σ ItemAmount + Σ ItemTaxAmount) is the statement total to the penny; import it with
"amounts are exclusive of tax". Beyond that, QuickBooks imposes:

* ``DocNumber`` holds at most 21 characters ("DocNumber Str 21" in QuickBooks Online
  importers' field lists, e.g. https://support.zed-systems.com/kb/a197/import-invoices-into-quickbooks-online.aspx):
  a longer number is refused, never cut, since a cut number may be another invoice's;
* amounts have two decimals: an amount finer than a cent is refused, not rounded;
* an invoice's total cannot be negative. A statement with a negative total (a credit
  note) is refused, permanently, rather than written to a second "credit memo" file:
  QuickBooks' own credit-note import ("Import credit notes",
  https://quickbooks.intuit.com/learn-support/en-us/help-articles/how-to-import-credit-notes/00/332855)
  is offered only in some regions and its column layout is not published, so such a
  file could not be vouched for; a second file would also break "one push, one file"
  that the ledger relies on. The refusal parks the statement for a person: enter it as
  a credit memo in QuickBooks, or use the ``quickbooks`` sink, which creates credit
  memos through the API.

``Terms`` stays empty because ``DueDate`` is given (terms would make QuickBooks compute
a due date of its own); ``Location`` and ``Service Date`` stay empty: a statement has no
department, and its lines cover a whole period rather than a day.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from connector.contracts import PluginError, StatementDocument, csv_cell
from connector_erp_csv.lines import invoice_lines, invoice_reference
from connector_erp_csv.settings import InvoiceMapping

QUICKBOOKS_HEADER = (
    "InvoiceNo",
    "Customer",
    "InvoiceDate",
    "DueDate",
    "Terms",
    "Location",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "ItemAmount",
    "ItemTaxCode",
    "ItemTaxAmount",
    "Currency",
    "Service Date",
)

#: QuickBooks Online's limit on an invoice's DocNumber.
MAX_INVOICE_NUMBER = 21
CENT = Decimal("0.01")


def cents(amount: Decimal, document: StatementDocument, what: str) -> Decimal:
    """``amount`` with exactly two decimals; PluginError if that would change it."""
    rounded = amount.quantize(CENT)
    if rounded != amount:
        raise PluginError(
            f"statement {document.statement_id} ({document.number}): {what} {amount} has "
            "more than two decimals, which QuickBooks Online's import cannot hold"
        )
    return rounded


def check_importable(document: StatementDocument) -> str:
    """The invoice number, once ``document`` is known to fit QuickBooks' invoice import."""
    number = document.number or ""
    if len(number) > MAX_INVOICE_NUMBER:
        raise PluginError(
            f"statement {document.statement_id}: invoice number {number!r} has "
            f"{len(number)} characters; QuickBooks Online holds at most "
            f"{MAX_INVOICE_NUMBER}. Shorten the tenant's invoice number format: this "
            "statement cannot be exported under this number"
        )
    cents(document.tax, document, "tax")
    if document.total < 0:
        credited = document.credited_invoice
        against = f" against invoice {credited.number}" if credited is not None else ""
        raise PluginError(
            f"statement {document.statement_id} ({number}) totals {document.total}: "
            "QuickBooks Online cannot import an invoice with a negative total. Enter it "
            f"as a credit memo{against} in QuickBooks, or use the quickbooks sink, which "
            "creates one"
        )
    return number


class QuickBooksTemplate:
    """Rows of QuickBooks Online's invoice import for one statement."""

    name: ClassVar[str] = "quickbooks"
    header: ClassVar[tuple[str, ...]] = QUICKBOOKS_HEADER

    def rows(self, document: StatementDocument, mapping: InvoiceMapping) -> list[tuple[str, ...]]:
        """One row per non-tax line; raises PluginError if QuickBooks could not take the
        statement as it is (see the module's docstring). Cells are as
        :func:`connector.contracts.csv_cell` writes them (amounts numbers, text defused)."""
        number = check_importable(document)
        lines = invoice_lines(document, "QuickBooks Online", CENT)
        # QuickBooks repeats the invoice's fields on each of its rows.
        invoice = {
            "InvoiceNo": number,
            "Customer": mapping.contact_name,
            "InvoiceDate": document.issue_date.strftime(mapping.date_pattern),
            "DueDate": document.due_date.strftime(mapping.date_pattern),
            "Memo": invoice_reference(document),
            "Item(Product/Service)": mapping.item_code,
            "Currency": document.currency,
        }
        rows = []
        for line in lines:
            amount = cents(line.line.amount, document, f"line {line.line.position} amount")
            row = {
                **invoice,
                "ItemDescription": line.description,
                "ItemQuantity": 1,
                "ItemRate": amount,
                "ItemAmount": amount,
                "ItemTaxCode": mapping.tax_type if line.taxed else mapping.exempt_tax_type,
                # Shares are allocated in cents, so this cannot refuse once the amounts pass.
                "ItemTaxAmount": cents(line.tax, document, "tax share"),
            }
            rows.append(tuple(csv_cell(row.get(column)) for column in QUICKBOOKS_HEADER))
        return rows
