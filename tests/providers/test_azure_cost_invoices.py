"""MCA invoice ids: a period is final once every row carries one, and charges name theirs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from connector_azure import AzureCostProvider

from connector.contracts import BillingPeriod, ChargeBatch
from tests.providers.azure_files import MCA_HEADER, copy_ea_sample, mca_row, write_csv

SEPTEMBER = BillingPeriod(dt.date(2026, 9, 1), dt.date(2026, 10, 1))
OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))


def fetch(folder: Path, **settings: object) -> dict[BillingPeriod, ChargeBatch]:
    provider = AzureCostProvider({"path": str(folder), **settings}, folder)
    return {batch.period: batch for batch in provider.fetch()}


def write_months(folder: Path, october_invoice: str) -> None:
    """September invoiced (G001) on both rows; October's second row has ``october_invoice``."""
    write_csv(
        folder / "mca.csv",
        [
            mca_row(date="2026-09-03", invoiceId="G001", costInBillingCurrency="1.5"),
            mca_row(date="2026-09-30", invoiceId="G001", costInBillingCurrency="2.25"),
            mca_row(date="2026-10-01", invoiceId="G002", costInBillingCurrency="4"),
            mca_row(date="2026-10-02", invoiceId=october_invoice, costInBillingCurrency="8"),
        ],
    )


def test_period_with_an_invoice_id_on_every_row_is_final(tmp_path):
    write_months(tmp_path, october_invoice="G002")
    batches = fetch(tmp_path)
    assert {p: b.final for p, b in batches.items()} == {SEPTEMBER: True, OCTOBER: True}
    [september] = batches[SEPTEMBER].charges
    assert (september.invoice_id, september.billed_cost) == ("G001", Decimal("3.75"))  # 1.5+2.25
    [october] = batches[OCTOBER].charges
    assert (october.invoice_id, october.billed_cost) == ("G002", Decimal("12"))  # 4 + 8


def test_one_row_without_invoice_id_keeps_its_period_open(tmp_path):
    write_months(tmp_path, october_invoice="")
    batches = fetch(tmp_path)
    assert {p: b.final for p, b in batches.items()} == {SEPTEMBER: True, OCTOBER: False}
    october = {c.invoice_id: c.billed_cost for c in batches[OCTOBER].charges}
    assert october == {"G002": Decimal("4"), None: Decimal("8")}


def test_final_setting_still_closes_a_period_without_invoice_ids(tmp_path):
    write_months(tmp_path, october_invoice=" ")  # blank is no invoice id
    batches = fetch(tmp_path, final=True)
    assert {p: b.final for p, b in batches.items()} == {SEPTEMBER: True, OCTOBER: True}


def test_rows_of_two_invoices_in_one_grain_become_two_charges(tmp_path):
    """Billing Day 15 puts Oct 16 .. Nov 15 in one period, billed on two MCA invoices."""
    write_csv(
        tmp_path / "mca.csv",
        [
            mca_row(date="2026-10-20", invoiceId="G002", costInBillingCurrency="1.25"),
            mca_row(date="2026-10-31", invoiceId="G002", costInBillingCurrency="0.5"),
            mca_row(date="2026-11-02", invoiceId="G003", costInBillingCurrency="3"),
        ],
    )
    [batch] = fetch(tmp_path, billing_day=15).values()
    assert batch.period == BillingPeriod(dt.date(2026, 10, 16), dt.date(2026, 11, 16))
    assert batch.final is True
    by_invoice = {
        c.invoice_id: (c.billed_cost, c.charge_period_start, c.charge_period_end)
        for c in batch.charges
    }
    assert by_invoice == {
        "G002": (Decimal("1.75"), dt.date(2026, 10, 20), dt.date(2026, 11, 1)),  # 1.25 + 0.5
        "G003": (Decimal("3"), dt.date(2026, 11, 2), dt.date(2026, 11, 3)),
    }


def test_invoice_id_column_matches_in_any_case(tmp_path):
    header = ["INVOICEID" if name == "invoiceId" else name for name in MCA_HEADER]
    row = mca_row(invoiceId="G001")
    write_csv(tmp_path / "mca.csv", [{("INVOICEID" if k == "invoiceId" else k): v
                                      for k, v in row.items()}], header)  # fmt: skip
    [batch] = fetch(tmp_path).values()
    assert batch.final is True
    assert [c.invoice_id for c in batch.charges] == ["G001"]


def test_period_spread_over_a_file_without_the_column_is_not_final(tmp_path):
    """A row from a file without InvoiceId has no invoice id: the period stays open."""
    write_csv(tmp_path / "a.csv", [mca_row(date="2026-10-01", invoiceId="G002")])
    header = [name for name in MCA_HEADER if name != "invoiceId"]
    row = {k: v for k, v in mca_row(date="2026-10-02").items() if k != "invoiceId"}
    write_csv(tmp_path / "b.csv", [row], header)
    assert [b.final for b in fetch(tmp_path).values()] == [False]


def test_ea_export_without_invoice_ids_follows_the_setting(tmp_path):
    copy_ea_sample(tmp_path)
    for final in (False, True):
        [batch] = fetch(tmp_path, final=final).values()
        assert batch.final is final
        assert {c.invoice_id for c in batch.charges} == {None}
