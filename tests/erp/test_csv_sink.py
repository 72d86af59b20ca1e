"""The csv ERP sink: Xero's sales-invoice import file, each statement exported once.

QuickBooks Online's template: test_csv_sink_quickbooks.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from connector_erp_csv import files
from connector_erp_csv.ledger import JOURNAL_NAME, LEDGER_NAME
from connector_erp_csv.plugin import CsvSink
from hypothesis import given
from hypothesis import strategies as st

from connector.contracts import PluginError, SinkContext, StatementLine
from connector.plugin_kit.invoice_lines import allocate
from tests.erp.csv_exports import csv_files, export_dir, ledger, published_header, read_rows
from tests.factories import make_draft, make_statement

# Xero's "SalesInvoiceTemplate.csv", column for column.
XERO_TEMPLATE_HEADER = published_header("xero-SalesInvoiceTemplate")


def make_sink(tmp_path: Path, run_id: str = "run-1", **settings) -> CsvSink:
    return CsvSink(settings, SinkContext(tenant="northwind", output_dir=tmp_path, run_id=run_id))


def xero_total(rows: list[dict[str, str]]) -> Decimal:
    """What Xero computes for an invoice imported tax-exclusive: lines plus their tax."""
    return sum(
        (
            Decimal(r["*Quantity"]) * Decimal(r["*UnitAmount"]) + Decimal(r["TaxAmount"])
            for r in rows
        ),
        Decimal(0),
    )


def test_push_writes_the_xero_template_with_one_row_per_non_tax_line(tmp_path):
    document = make_statement()
    [result] = make_sink(tmp_path).push([document])
    assert result.ok and result.remote_id == "NW-2025-0042"
    assert csv_files(tmp_path) == ["northwind-xero-invoices-run-1.csv"]
    path = export_dir(tmp_path) / "northwind-xero-invoices-run-1.csv"
    assert path.read_text().splitlines()[0].split(",") == XERO_TEMPLATE_HEADER
    rows = read_rows(path)
    non_tax = [line for line in document.lines if line.kind != "tax"]
    assert [r["*Description"] for r in rows] == [line.description for line in non_tax]
    first = rows[0]
    assert first["*ContactName"] == "Contoso Analytics & Co."
    assert first["EmailAddress"] == "ap@contoso.example"
    assert [first[f"POAddressLine{n}"] for n in (1, 2, 3, 4)] == [
        "88 Market Street",
        "Floor 3",
        "",
        "",
    ]
    assert [first[c] for c in ("POCity", "PORegion", "POPostalCode", "POCountry")] == [
        "San Francisco",
        "CA",
        "94105",
        "US",
    ]
    assert {r["*InvoiceNumber"] for r in rows} == {"NW-2025-0042"}
    assert {r["Reference"] for r in rows} == {"aws 2025-03"}
    assert (first["*InvoiceDate"], first["*DueDate"]) == ("2025-04-08", "2025-05-08")
    assert {r["Currency"] for r in rows} == {"USD"}
    assert {r["Total"] for r in rows} == {"470.18"}
    assert {r["*AccountCode"] for r in rows} == {"200"}


def test_the_invoice_xero_computes_equals_the_statement_total(tmp_path):
    document = make_statement()
    make_sink(tmp_path).push([document])
    rows = read_rows(export_dir(tmp_path) / csv_files(tmp_path)[0])
    assert xero_total(rows) == document.total
    assert sum(Decimal(r["TaxAmount"]) for r in rows) == document.tax


def test_tax_rides_on_taxed_lines_and_marketplace_and_credit_are_exempt(tmp_path):
    make_sink(tmp_path).push([make_statement()])
    rows = read_rows(export_dir(tmp_path) / csv_files(tmp_path)[0])
    by_description = {r["*Description"]: r for r in rows}
    for description in ("AWS Compute", "AWS Storage", "AWS Networking", "AWS Database"):
        assert by_description[description]["*TaxType"] == "Tax on Sales"
        assert Decimal(by_description[description]["TaxAmount"]) > 0
    for description, amount in (
        ("Datadog Pro (AWS Marketplace)", "184.00"),
        ("Alert Logic Threat Manager (AWS Marketplace Free Trial)", "0.00"),
        ("Credit applied (promotional credit)", "-50.00"),
    ):
        row = by_description[description]
        assert (row["*UnitAmount"], row["*TaxType"], row["TaxAmount"]) == (
            amount,
            "Tax Exempt",
            "0.00",
        )
    rounding = by_description["Rounding adjustment"]
    assert (rounding["*UnitAmount"], rounding["*TaxType"]) == ("-0.01", "Tax on Sales")


def test_tax_remainder_goes_on_the_largest_taxed_line_never_on_a_small_negative_one(tmp_path):
    """Equal lines: the first of the largest takes the odd cent. A -0.01 rounding line
    last must not carry +0.01 tax (it did while the remainder went on the last line)."""
    lines = [StatementLine(i, "service", f"Service {i}", Decimal("10.00")) for i in (1, 2, 3)]
    lines.append(StatementLine(4, "tax", "Tax", Decimal("1.00")))
    document = make_statement(
        lines=lines, subtotal=Decimal("30.00"), tax=Decimal("1.00"), total=Decimal("31.00")
    )
    make_sink(tmp_path).push([document])
    rows = read_rows(export_dir(tmp_path) / csv_files(tmp_path)[0])
    assert [r["TaxAmount"] for r in rows] == ["0.34", "0.33", "0.33"]
    assert xero_total(rows) == Decimal("31.00")

    # 3 x 10.00 - 0.01 = 29.99, tax 2.47: each 10.00 line's share is 0.8236.. -> 0.82 and
    # the rounding line's -0.0008.. -> -0.00; 2.46 leaves one cent, which the first 10.00
    # line takes (0.83). On the last line it made a -0.01 adjustment carry +0.01 tax.
    lines = [StatementLine(i, "service", f"Service {i}", Decimal("10.00")) for i in (1, 2, 3)]
    lines += [
        StatementLine(4, "rounding", "Rounding adjustment", Decimal("-0.01")),
        StatementLine(5, "tax", "Tax", Decimal("2.47")),
    ]
    document = make_statement(
        lines=lines,
        subtotal=Decimal("29.99"),
        tax=Decimal("2.47"),
        total=Decimal("32.46"),
        number="INV-0002",
    )
    sink_dir = tmp_path / "second"
    make_sink(sink_dir).push([document])
    rows = read_rows(export_dir(sink_dir) / csv_files(sink_dir)[0])
    assert [r["TaxAmount"] for r in rows] == ["0.83", "0.82", "0.82", "0.00"]
    assert xero_total(rows) == Decimal("32.46")


@given(
    amount=st.decimals(min_value=-10_000, max_value=10_000, places=2),
    weights=st.lists(
        st.decimals(min_value=-5_000, max_value=5_000, places=2), min_size=1, max_size=12
    ),
)
def test_allocated_shares_always_add_up_exactly(amount, weights):
    shares = allocate(amount, weights, Decimal("0.01"))
    assert sum(shares, Decimal(0)) == amount
    assert all(share.as_tuple().exponent == -2 for share in shares)


def test_statement_without_tax_exports_every_line_exempt(tmp_path):
    document = make_statement(tax_rate=Decimal(0))
    assert document.tax == 0
    make_sink(tmp_path).push([document])
    rows = read_rows(export_dir(tmp_path) / csv_files(tmp_path)[0])
    assert {r["*TaxType"] for r in rows} == {"Tax Exempt"}
    assert xero_total(rows) == document.total


def test_erp_mappings_override_the_settings(tmp_path):
    mappings = {
        "contact_name": "Contoso Analytics (Xero)",
        "account_code": "4010",
        "tax_type": "GST on Income",
        "exempt_tax_type": "GST Free Income",
        "item_code": "CLOUD-AWS",
    }
    make_sink(tmp_path, account_code="4000").push([make_statement(erp_mappings=mappings)])
    rows = read_rows(export_dir(tmp_path) / csv_files(tmp_path)[0])
    assert {r["*ContactName"] for r in rows} == {"Contoso Analytics (Xero)"}
    assert {r["*AccountCode"] for r in rows} == {"4010"}
    assert {r["*TaxType"] for r in rows} == {"GST on Income", "GST Free Income"}
    assert {r["InventoryItemCode"] for r in rows} == {"CLOUD-AWS"}


def test_settings_choose_regional_dates_and_an_absolute_output_dir(tmp_path):
    target = tmp_path / "imports"
    sink = make_sink(tmp_path / "unused", date_format="dd/mm/yyyy", output_dir=str(target))
    sink.push([make_statement()])
    [path] = target.glob("*.csv")
    row = read_rows(path)[0]
    assert (row["*InvoiceDate"], row["*DueDate"]) == ("08/04/2025", "08/05/2025")


def test_unknown_settings_are_refused(tmp_path):
    with pytest.raises(PluginError, match="output_directory"):
        make_sink(tmp_path, output_directory="x")
    with pytest.raises(PluginError, match="template"):
        make_sink(tmp_path, template="sage")


def test_second_push_of_the_same_statement_writes_nothing_new(tmp_path):
    document = make_statement()
    make_sink(tmp_path).push([document])
    path = export_dir(tmp_path) / "northwind-xero-invoices-run-1.csv"
    before = path.read_bytes()
    for sink in (make_sink(tmp_path), make_sink(tmp_path, run_id="run-2")):
        [result] = sink.push([document])
        assert result.ok and result.remote_id == "NW-2025-0042"
        assert result.message == "already exported in northwind-xero-invoices-run-1.csv"
    assert csv_files(tmp_path) == ["northwind-xero-invoices-run-1.csv"]
    assert path.read_bytes() == before
    assert ledger(tmp_path)[document.idempotency_key] == {
        "file": "northwind-xero-invoices-run-1.csv",
        "invoice_number": "NW-2025-0042",
        "statement_id": "st-0001",
        "state": "exported",
    }


def test_a_later_push_in_the_same_run_gets_its_own_file(tmp_path):
    first, second = make_statement(), make_statement(statement_id="st-0002", number="NW-43")
    make_sink(tmp_path).push([first])
    [result] = make_sink(tmp_path).push([first, second])[1:]
    assert result.message == "exported to northwind-xero-invoices-run-1-2.csv"
    assert csv_files(tmp_path) == [
        "northwind-xero-invoices-run-1-2.csv",
        "northwind-xero-invoices-run-1.csv",
    ]
    rows = read_rows(export_dir(tmp_path) / "northwind-xero-invoices-run-1-2.csv")
    assert {r["*InvoiceNumber"] for r in rows} == {"NW-43"}


def test_interrupted_write_leaves_no_partial_file_and_no_ledger_entry(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    [result] = make_sink(tmp_path).push([make_statement()])
    assert not result.ok and "No space left on device" in result.message
    assert not result.permanent  # the disk may have room on the next attempt
    # No import file and no temporary file: only the lock and the ledger's journal.
    left = {path.name for path in export_dir(tmp_path).iterdir()}
    assert left <= {files.LOCK_NAME, JOURNAL_NAME}
    assert ledger(tmp_path) == {}
    monkeypatch.undo()
    [retry] = make_sink(tmp_path).push([make_statement()])
    assert retry.ok and csv_files(tmp_path) == ["northwind-xero-invoices-run-1.csv"]


def test_failed_file_write_rolls_back_the_pending_ledger_entry(tmp_path, monkeypatch):
    real_replace = os.replace

    def replace_but_not_csv(src, dst):
        if str(dst).endswith(".csv"):
            raise OSError(5, "I/O error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_but_not_csv)
    [result] = make_sink(tmp_path).push([make_statement()])
    assert not result.ok
    assert csv_files(tmp_path) == []
    assert not [p for p in export_dir(tmp_path).iterdir() if p.name.endswith(".tmp")]
    assert ledger(tmp_path) == {}


def test_crash_after_the_file_but_before_the_ledger_confirms_exports_once(tmp_path, monkeypatch):
    real_write, calls = os.write, []

    def fail_second_journal_write(fd, data):  # the pending entry, then the confirmation
        calls.append(fd)  # (the import file is written through a file object)
        if len(calls) == 2:
            raise OSError(5, "I/O error")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", fail_second_journal_write)
    document = make_statement()
    [result] = make_sink(tmp_path).push([document])
    assert result.ok
    assert ledger(tmp_path)[document.idempotency_key]["state"] == "pending"
    monkeypatch.undo()
    [again] = make_sink(tmp_path, run_id="run-2").push([document])
    assert again.ok and again.message.startswith("already exported in")
    assert csv_files(tmp_path) == ["northwind-xero-invoices-run-1.csv"]
    assert ledger(tmp_path)[document.idempotency_key]["state"] == "exported"


def test_pending_entry_without_its_file_is_exported_again(tmp_path):
    document = make_statement()
    export_dir(tmp_path).mkdir()
    stale = {
        "format": 1,
        "exports": {
            document.idempotency_key: {
                "file": "northwind-xero-invoices-crashed.csv",
                "invoice_number": "NW-2025-0042",
                "statement_id": "st-0001",
                "state": "pending",
            }
        },
    }
    (export_dir(tmp_path) / LEDGER_NAME).write_text(json.dumps(stale))
    [result] = make_sink(tmp_path).push([document])
    assert result.ok and result.message == "exported to northwind-xero-invoices-run-1.csv"


def test_unreadable_ledger_stops_the_push_instead_of_exporting_everything_again(tmp_path):
    export_dir(tmp_path).mkdir()
    (export_dir(tmp_path) / LEDGER_NAME).write_text("{not json")
    with pytest.raises(PluginError, match="unreadable"):
        make_sink(tmp_path).push([make_statement()])


def test_draft_is_refused_and_nothing_is_written(tmp_path):
    [result] = make_sink(tmp_path).push([make_draft()])
    assert not result.ok and result.remote_id is None
    assert "draft" in result.message
    assert csv_files(tmp_path) == [] and ledger(tmp_path) == {}


def test_one_bad_statement_does_not_stop_the_others(tmp_path):
    broken = make_statement(statement_id="st-bad", number="NW-99", total=Decimal("1.00"))
    good = make_statement()
    bad_result, good_result = make_sink(tmp_path).push([broken, good])
    assert not bad_result.ok and "not the total 1.00" in bad_result.message
    assert bad_result.permanent  # the same revision can never add up: no retry
    assert good_result.ok
    rows = read_rows(export_dir(tmp_path) / csv_files(tmp_path)[0])
    assert {r["*InvoiceNumber"] for r in rows} == {"NW-2025-0042"}


def test_a_new_revision_under_an_exported_number_is_refused(tmp_path):
    make_sink(tmp_path).push([make_statement()])
    [result] = make_sink(tmp_path).push([make_statement(revision=2)])
    assert not result.ok and "credit note" in result.message
    assert csv_files(tmp_path) == ["northwind-xero-invoices-run-1.csv"]


def test_the_same_statement_twice_in_one_push_is_written_once(tmp_path):
    document = make_statement()
    results = make_sink(tmp_path).push([document, document])
    assert [r.ok for r in results] == [True, True]
    rows = read_rows(export_dir(tmp_path) / csv_files(tmp_path)[0])
    assert len(rows) == len([line for line in document.lines if line.kind != "tax"])


def test_long_address_folds_into_xero_four_lines(tmp_path):
    address = ("1 A St", "Unit 2", "Block C", "Wing D", "Floor 5", "Springfield, IL 62701", "US")
    customer = dataclasses.replace(make_statement().customer, address=address)
    make_sink(tmp_path).push([make_statement(customer=customer)])
    row = read_rows(export_dir(tmp_path) / csv_files(tmp_path)[0])[0]
    assert row["POAddressLine3"] == "Block C"
    assert row["POAddressLine4"] == "Wing D, Floor 5"
    assert (row["POCity"], row["PORegion"], row["POPostalCode"]) == ("Springfield", "IL", "62701")


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        (
            ("Hauptstraße 1", "10115 Berlin", "Germany"),
            {"POAddressLine1": "Hauptstraße 1", "POCity": "Berlin", "POPostalCode": "10115"}
            | {"PORegion": "", "POCountry": "DE", "POAddressLine2": ""},
        ),
        (
            ("500 Congress Ave", "Suite 1200", "Austin, TX 78701", "United States"),
            {"POAddressLine1": "500 Congress Ave", "POAddressLine2": "Suite 1200"}
            | {"POCity": "Austin", "PORegion": "TX", "POPostalCode": "78701", "POCountry": "US"},
        ),
    ],
)
def test_xero_city_region_postcode_and_country_have_their_own_columns(tmp_path, address, expected):
    customer = dataclasses.replace(make_statement().customer, address=address, tax_id=None)
    make_sink(tmp_path).push([make_statement(customer=customer)])
    row = read_rows(export_dir(tmp_path) / csv_files(tmp_path)[0])[0]
    # The columns are Xero's own template's (the header this file checks above).
    assert set(expected) <= set(XERO_TEMPLATE_HEADER)
    assert {column: row[column] for column in expected} == expected
    # Nothing of the city line or the country is left in the address lines.
    lines = " ".join(row[f"POAddressLine{n}"] for n in (1, 2, 3, 4))
    assert expected["POCity"] not in lines and "Germany" not in lines


def test_csv_sink_is_discoverable():
    assert "csv-sink" in {ep.name for ep in entry_points(group="billing_connector")}
    from connector.plugins import load_plugins

    assert load_plugins().sinks.get("csv") is CsvSink
