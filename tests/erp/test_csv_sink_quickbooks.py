"""The csv ERP sink with ``template: quickbooks``: QuickBooks Online's invoice import."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from connector_erp_csv.plugin import CsvSink
from connector_erp_csv.settings import CsvSinkSettings, resolve_mapping
from connector_erp_csv.templates import TEMPLATES
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.contracts import SinkContext, StatementDocument, StatementLine
from connector.testing.samples import approved_documents, credit_note
from connector.testing.sink import sink_test_class
from tests.erp.csv_exports import csv_files, export_dir, ledger, published_header, read_rows
from tests.factories import make_statement

REPO = Path(__file__).resolve().parents[2]
CENT = Decimal("0.01")

# As in the sample file of Intuit's "Import invoices in batches" (QuickBooks Online).
QUICKBOOKS_HEADER = published_header("quickbooks-invoices")
US_COMPANY = {"tax_type": "TAX", "exempt_tax_type": "NON", "date_format": "mm/dd/yyyy"}
FILE = "northwind-quickbooks-invoices-run-1.csv"


def make_sink(tmp_path: Path, run_id: str = "run-1", **settings) -> CsvSink:
    context = SinkContext(tenant="northwind", output_dir=tmp_path, run_id=run_id)
    return CsvSink({"template": "quickbooks", **settings}, context)


def temporaries(tmp_path: Path) -> list[str]:
    return sorted(path.name for path in export_dir(tmp_path).glob(".*.tmp"))


def non_tax_lines(document: StatementDocument) -> int:
    return len([line for line in document.lines if line.kind != "tax"])


def quickbooks_total(rows: list[dict[str, str]]) -> Decimal:
    """What QuickBooks books for an invoice imported tax-exclusive: lines plus their tax."""
    return sum((Decimal(r["ItemAmount"]) + Decimal(r["ItemTaxAmount"]) for r in rows), Decimal(0))


def small_statement(**fields) -> StatementDocument:
    """Two services, a marketplace product and its free trial, a rounding line, a credit.

    Services 100.00 + 33.33, rounding -0.01: taxed base 133.32; credit 30.00 (in the
    base): 103.32 x 8.25 % = 8.5239 -> tax 8.52. Total 100.00 + 33.33 + 20.00 + 0.00
    - 0.01 - 30.00 + 8.52 = 131.84.
    """
    lines = [
        StatementLine(1, "service", "AWS Compute", Decimal("100.00")),
        StatementLine(2, "service", "AWS Storage", Decimal("33.33")),
        StatementLine(3, "marketplace", "Datadog Pro (AWS Marketplace)", Decimal("20.00")),
        StatementLine(4, "marketplace", "Alert Logic (AWS Marketplace Free Trial)", Decimal(0)),
        StatementLine(5, "rounding", "Rounding adjustment", Decimal("-0.01")),
        StatementLine(6, "credit", "Credit applied (promotional credit)", Decimal("-30.00")),
        StatementLine(7, "tax", "Sales tax 8.25%", Decimal("8.52")),
    ]
    values = dict(
        lines=lines,
        subtotal=Decimal("123.32"),
        tax=Decimal("8.52"),
        total=Decimal("131.84"),
        erp_mappings={"item_code": "Cloud services"},
    )
    return make_statement(**{**values, **fields})


def test_hand_computed_rows_for_tax_credit_marketplace_and_rounding(tmp_path):
    """Tax 8.52 over the taxed lines 100.00, 33.33 and -0.01 (sum 133.32):
    8.52 x 100.00 / 133.32 = 6.3906 -> 6.39; 8.52 x 33.33 / 133.32 = 2.1300 -> 2.13;
    the rounding line, last, takes the rest: 8.52 - 6.39 - 2.13 = 0.00. Marketplace and
    the credit carry no tax (NON, 0.00).
    """
    [result] = make_sink(tmp_path, **US_COMPANY).push([small_statement()])
    assert result.ok and result.remote_id == "NW-2025-0042" and not result.permanent
    assert csv_files(tmp_path) == [FILE]
    path = export_dir(tmp_path) / FILE
    assert path.read_bytes().split(b"\n")[0] == ",".join(QUICKBOOKS_HEADER).encode()
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    invoice = ["NW-2025-0042", "Contoso Analytics & Co.", "04/08/2025", "05/08/2025", "", ""]
    invoice += ["aws 2025-03", "Cloud services"]
    assert rows == [
        [*invoice, "AWS Compute", "1", "100.00", "100.00", "TAX", "6.39", "USD", ""],
        [*invoice, "AWS Storage", "1", "33.33", "33.33", "TAX", "2.13", "USD", ""],
        [*invoice, "Datadog Pro (AWS Marketplace)", "1", "20.00", "20.00", "NON", "0.00"]
        + ["USD", ""],
        [*invoice, "Alert Logic (AWS Marketplace Free Trial)", "1", "0.00", "0.00", "NON"]
        + ["0.00", "USD", ""],
        [*invoice, "Rounding adjustment", "1", "-0.01", "-0.01", "TAX", "0.00", "USD", ""],
        [*invoice, "Credit applied (promotional credit)", "1", "-30.00", "-30.00", "NON"]
        + ["0.00", "USD", ""],
    ]
    assert quickbooks_total(read_rows(path)) == Decimal("131.84")


def test_the_realistic_statement_books_its_total_to_the_penny(tmp_path):
    """The factory's statement totals 470.18 (as the Xero export shows)."""
    document = make_statement()
    make_sink(tmp_path).push([document])
    rows = read_rows(export_dir(tmp_path) / FILE)
    assert len(rows) == non_tax_lines(document)
    assert quickbooks_total(rows) == Decimal("470.18")
    assert sum(Decimal(r["ItemTaxAmount"]) for r in rows) == document.tax
    assert {r["ItemTaxCode"] for r in rows} == {"Tax on Sales", "Tax Exempt"}


def test_lines_grouped_by_account_name_the_account(tmp_path):
    make_sink(tmp_path).push([make_statement(group_by_account=True)])
    descriptions = [r["ItemDescription"] for r in read_rows(export_dir(tmp_path) / FILE)]
    assert "AWS Compute (account 111122223333)" in descriptions


# --- the sum of a statement's rows is its total, for any statement ---------------------


@st.composite
def random_statements(draw) -> StatementDocument:
    """Statements built the way the core builds them, from random amounts."""

    def money(high: Decimal) -> Decimal:
        return draw(st.decimals(min_value=0, max_value=high, places=2))

    services = draw(st.lists(st.decimals(min_value=0, max_value=20_000, places=2), min_size=1))
    marketplace = draw(st.lists(st.decimals(min_value=0, max_value=5_000, places=2), max_size=3))
    service_sum = sum(services, Decimal(0))
    discount = money(service_sum) if draw(st.booleans()) else Decimal(0)
    support = money(Decimal(500))
    rounding = Decimal(draw(st.sampled_from(["-0.02", "-0.01", "0", "0.01", "0.02"])))
    if service_sum - discount < 1:  # a rounding adjustment is a cent on a real amount
        rounding = Decimal(0)
    base = service_sum - discount + support + rounding
    credit = money(max(base, Decimal(0)))
    rate = Decimal(draw(st.sampled_from(["0", "0.05", "0.0725", "0.0825", "0.19", "0.2"])))
    credits_before_tax = draw(st.booleans())
    taxable = base - credit if credits_before_tax else base
    tax = (max(taxable, Decimal(0)) * rate).quantize(CENT, ROUND_HALF_UP)
    amounts = [("service", amount) for amount in services]
    amounts += [("marketplace", amount) for amount in marketplace]
    amounts += [("discount", -discount), ("support", support), ("rounding", rounding)]
    amounts += [("credit", -credit)]
    lines = [
        StatementLine(position, kind, f"{kind} {position}", amount)
        for position, (kind, amount) in enumerate(amounts, start=1)
        if amount or kind in ("service", "marketplace")
    ]
    subtotal = sum((line.amount for line in lines), Decimal(0))
    lines.append(StatementLine(len(amounts) + 1, "tax", "Tax", tax))
    return make_statement(
        lines=lines,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        credits_before_tax=credits_before_tax,
    )


@pytest.mark.parametrize(
    ("template", "quantity", "rate", "tax"),
    [
        ("quickbooks", "ItemQuantity", "ItemRate", "ItemTaxAmount"),
        ("xero", "*Quantity", "*UnitAmount", "TaxAmount"),
    ],
)
@settings(max_examples=150, deadline=None)
@given(document=random_statements())
def test_the_rows_of_any_statement_add_up_to_its_total(template, quantity, rate, tax, document):
    chosen = TEMPLATES[template]
    rows = [
        dict(zip(chosen.header, row, strict=True))
        for row in chosen.rows(document, resolve_mapping(CsvSinkSettings(), document))
    ]
    lines = sum(Decimal(r[quantity]) * Decimal(r[rate]) for r in rows)
    taxes = sum(Decimal(r[tax]) for r in rows)
    assert lines + taxes == document.total
    assert taxes == document.tax
    if template == "quickbooks":
        amounts = [r[column] for r in rows for column in ("ItemRate", "ItemAmount", tax)]
        assert all(re.fullmatch(r"-?\d+\.\d\d", amount) for amount in amounts)
        assert all(r["ItemAmount"] == r["ItemRate"] for r in rows)


# --- what QuickBooks cannot take is refused for good -----------------------------------


def test_invoice_number_longer_than_21_characters_is_refused_permanently(tmp_path):
    too_long = make_statement(number="NW-2025-0042-ABCDEFGHI")  # 22 characters
    longest = make_statement(statement_id="st-0002", number="NW-2025-0043-ABCDEFGH")  # 21
    refused, accepted = make_sink(tmp_path).push([too_long, longest])
    assert not refused.ok and refused.permanent and refused.remote_id is None
    assert "statement st-0001" in refused.message and "22 characters" in refused.message
    assert "at most 21" in refused.message
    assert accepted.ok and accepted.remote_id == "NW-2025-0043-ABCDEFGH"
    rows = read_rows(export_dir(tmp_path) / FILE)
    assert {r["InvoiceNo"] for r in rows} == {"NW-2025-0043-ABCDEFGH"}
    assert too_long.idempotency_key not in ledger(tmp_path)


def test_negative_total_is_refused_permanently_and_nothing_is_written(tmp_path):
    document = credit_note()  # total -27.60
    [result] = make_sink(tmp_path).push([document])
    assert not result.ok and result.permanent
    assert "kit-st-0003" in result.message and "-27.60" in result.message
    assert "credit memo" in result.message
    assert csv_files(tmp_path) == [] and ledger(tmp_path) == {}


def test_amount_finer_than_a_cent_is_refused_not_rounded(tmp_path):
    """A BHD statement (3 decimals): 12.345 cannot be written with two decimals."""
    lines = [StatementLine(1, "service", "AWS Compute", Decimal("12.345"))]
    document = make_statement(
        lines=lines,
        currency="BHD",
        subtotal=Decimal("12.345"),
        tax=Decimal("0.000"),
        total=Decimal("12.345"),
    )
    [result] = make_sink(tmp_path).push([document])
    assert not result.ok and result.permanent and "12.345" in result.message
    assert csv_files(tmp_path) == []


def test_zero_total_statement_is_exported(tmp_path):
    """Credit 184.00 paying the whole statement: 100.00 + 84.00 - 184.00 = 0.00."""
    lines = [
        StatementLine(1, "service", "AWS Compute", Decimal("100.00")),
        StatementLine(2, "service", "AWS Storage", Decimal("84.00")),
        StatementLine(3, "credit", "Credit applied", Decimal("-184.00")),
    ]
    zero = Decimal("0.00")
    document = make_statement(lines=lines, subtotal=zero, tax=zero, total=zero)
    [result] = make_sink(tmp_path).push([document])
    assert result.ok
    rows = read_rows(export_dir(tmp_path) / FILE)
    assert [r["ItemAmount"] for r in rows] == ["100.00", "84.00", "-184.00"]
    assert quickbooks_total(rows) == zero


# --- the sink's guarantees hold for this template too ----------------------------------


def test_second_push_of_the_same_statements_writes_nothing_new(tmp_path):
    documents = [small_statement(), make_statement(statement_id="st-0002", number="NW-43")]
    make_sink(tmp_path).push(documents)
    before = (export_dir(tmp_path) / FILE).read_bytes()
    for sink in (make_sink(tmp_path), make_sink(tmp_path, run_id="run-2")):
        results = sink.push(documents)
        assert [r.ok for r in results] == [True, True]
        assert [r.remote_id for r in results] == ["NW-2025-0042", "NW-43"]
        assert {r.message for r in results} == {f"already exported in {FILE}"}
    assert csv_files(tmp_path) == [FILE]
    assert (export_dir(tmp_path) / FILE).read_bytes() == before


def test_the_same_statements_give_the_same_bytes(tmp_path):
    documents = [small_statement(), make_statement(statement_id="st-0002", number="NW-43")]
    make_sink(tmp_path / "a").push(documents)
    make_sink(tmp_path / "b").push(documents)
    first = (export_dir(tmp_path / "a") / FILE).read_bytes()
    assert first == (export_dir(tmp_path / "b") / FILE).read_bytes()
    assert b"\r" not in first and first.endswith(b"\n")


class DiesMidWrite:
    """A file handle that writes half of an import file, then fails (or kills the process)."""

    def __init__(self, handle, kill: bool = False) -> None:
        self.handle, self.kill = handle, kill

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.handle.close()

    def write(self, data: bytes) -> int:
        if not data.startswith(b"InvoiceNo,"):  # the ledger: written normally
            return self.handle.write(data)
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        if self.kill:
            os._exit(9)
        raise OSError(28, "No space left on device")

    def flush(self) -> None:
        self.handle.flush()

    def fileno(self) -> int:
        return self.handle.fileno()


def test_writer_failing_mid_write_leaves_no_partial_file(tmp_path, monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(os, "fdopen", lambda fd, *args: DiesMidWrite(real_fdopen(fd, *args)))
    [result] = make_sink(tmp_path).push([small_statement()])
    assert not result.ok and not result.permanent  # a full disk is worth retrying
    assert "No space left on device" in result.message
    assert csv_files(tmp_path) == [] and temporaries(tmp_path) == []
    assert ledger(tmp_path) == {}
    monkeypatch.undo()
    [retry] = make_sink(tmp_path).push([small_statement()])
    assert retry.ok and csv_files(tmp_path) == [FILE]
    assert len(read_rows(export_dir(tmp_path) / FILE)) == 6


CRASH = """
import os, sys
from pathlib import Path
from connector.contracts import SinkContext
from connector_erp_csv.plugin import CsvSink
from tests.erp.test_csv_sink_quickbooks import DiesMidWrite
from tests.factories import make_statement

real_fdopen = os.fdopen
os.fdopen = lambda fd, *args: DiesMidWrite(real_fdopen(fd, *args), kill=True)
context = SinkContext(tenant="northwind", output_dir=Path(sys.argv[1]), run_id="run-1")
CsvSink({"template": "quickbooks"}, context).push([make_statement()])
"""


def test_process_killed_mid_write_leaves_no_import_file_and_exports_once_later(tmp_path):
    crashed = subprocess.run(
        [sys.executable, "-c", CRASH, str(tmp_path)], cwd=REPO, capture_output=True, timeout=120
    )
    assert crashed.returncode == 9, crashed.stderr.decode()
    # Only the temporary file holds the half-written rows; the pending entry names a
    # file that does not exist.
    assert csv_files(tmp_path) == []
    [partial] = temporaries(tmp_path)
    assert partial.startswith(f".{FILE}.")
    assert (export_dir(tmp_path) / partial).read_bytes().startswith(b"InvoiceNo,")
    document = make_statement()
    assert ledger(tmp_path)[document.idempotency_key]["state"] == "pending"

    [result] = make_sink(tmp_path).push([document])
    assert result.ok and result.message == f"exported to {FILE}"
    assert temporaries(tmp_path) == []
    assert len(read_rows(export_dir(tmp_path) / FILE)) == non_tax_lines(document)
    assert ledger(tmp_path)[document.idempotency_key]["state"] == "exported"
    [again] = make_sink(tmp_path, run_id="run-2").push([document])
    assert again.message == f"already exported in {FILE}" and csv_files(tmp_path) == [FILE]


# --- the conformance kit, on statements QuickBooks can import --------------------------


def count_quickbooks_invoices(context: SinkContext) -> int:
    """Distinct invoice numbers in every import file: what QuickBooks would create."""
    numbers = set()
    for path in context.output_dir.rglob("*.csv"):
        numbers.update(r["InvoiceNo"] for r in read_rows(path))
    return len(numbers)


TestQuickBooksTemplateConformance = sink_test_class(
    CsvSink,
    settings={"template": "quickbooks"},
    count_invoices=count_quickbooks_invoices,
    # The credit note (negative total) is refused by design; tested above.
    documents={name: doc for name, doc in approved_documents().items() if doc.total >= 0},
)
