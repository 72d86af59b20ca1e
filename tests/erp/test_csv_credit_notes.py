"""The csv ERP sink: a credit note's import rows name the invoice it credits."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path

from connector.contracts import CreditedInvoice, StatementDocument, StatementLine
from connector.testing.samples import credit_note
from tests.erp import test_csv_sink as xero_csv
from tests.erp import test_csv_sink_quickbooks as quickbooks_csv

CREDITED = CreditedInvoice("NW-2025-0042", dt.date(2025, 4, 8), "st-0001")


def crediting(document: StatementDocument | None = None) -> StatementDocument:
    return dataclasses.replace(document or credit_note(), credited_invoice=CREDITED)


def test_the_xero_import_carries_the_credited_invoice_in_its_reference_column(tmp_path: Path):
    """Xero imports the negative invoice (-27.60) as a credit note; its Reference names
    NW-2025-0042, not the provider and period an invoice's does."""
    [result] = xero_csv.make_sink(tmp_path).push([crediting()])

    assert result.ok, result.message
    rows = xero_csv.read_rows(xero_csv.export_dir(tmp_path) / "northwind-xero-invoices-run-1.csv")
    assert {r["*InvoiceNumber"] for r in rows} == {"NW-CN-2025-0007"}
    assert {r["Reference"] for r in rows} == {"Credit note for NW-2025-0042"}
    assert xero_csv.xero_total(rows) == Decimal("-27.60")


def test_the_quickbooks_import_names_the_credited_invoice_in_its_memo(tmp_path: Path):
    """A credit note that nets to 0.00 (a -25.50 service reversed, the 25.50 credit it
    used given back) is importable; its Memo names the invoice it credits."""
    lines = [
        StatementLine(1, "service", "AWS Compute (reversed)", Decimal("-25.50")),
        StatementLine(2, "credit", "Credit returned", Decimal("25.50")),
    ]
    zero = Decimal("0.00")
    document = crediting(
        dataclasses.replace(credit_note(), lines=lines, subtotal=Decimal("-25.50"), tax=zero,
                            total=zero)
    )  # fmt: skip
    [result] = quickbooks_csv.make_sink(tmp_path, **quickbooks_csv.US_COMPANY).push([document])

    assert result.ok, result.message
    rows = quickbooks_csv.read_rows(quickbooks_csv.export_dir(tmp_path) / quickbooks_csv.FILE)
    assert {r["Memo"] for r in rows} == {"Credit note for NW-2025-0042"}


def test_a_negative_credit_note_refused_by_the_quickbooks_import_says_which_invoice(
    tmp_path: Path,
):
    [result] = quickbooks_csv.make_sink(tmp_path).push([crediting()])

    assert not result.ok and result.permanent
    assert "credit memo against invoice NW-2025-0042" in result.message
