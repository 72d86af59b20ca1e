"""The focus provider: FOCUS 1.0 and 1.2 exports (CSV, CSV.gz, Parquet) -> exact batches.

``focus_1_0_aws.csv`` (FOCUS 1.0, AWS-shaped), billing period 2026-10, BilledCost per row:
12.3456789012 + 7.6543210988 (EC2, one grain) + 3.10 (S3) + 500.00 (RI upfront) + 0.00
(Contoso free trial) + 41.65 (tax) - 2.50 (correction) = 562.25; and 1.00 in 2026-11.

``focus_1_2_azure.csv`` (FOCUS 1.2, Azure-shaped, invoice G055512345), 2026-10, EUR:
45.123456789 + 99.00 + 14.41 - 5.00 + 0.876543211 = 154.41.

Both carry "NULL" strings and case variants (``Usage-based``, ``usage``, ``TAX``,
``correction``, ``recurring``).
"""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path

import pytest
from connector_focus import FocusProvider

from connector.contracts import BillingPeriod, ChargeBatch, ChargeCategory, SourceDataError
from connector.testing import provider_test_class
from tests.providers.fetching import FolderFetch
from tests.providers.focus_files import FOCUS_10, FOCUS_12, copy, read_rows, to_parquet, write_csv

OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
NOVEMBER = BillingPeriod(dt.date(2026, 11, 1), dt.date(2026, 12, 1))


fetch = FolderFetch(FocusProvider)
fetch_error = fetch.error


def billed(batch: ChargeBatch) -> Decimal:
    return sum((c.billed_cost for c in batch.charges), Decimal(0))


def one(batch: ChargeBatch, **fields: object):
    [found] = [c for c in batch.charges if all(getattr(c, k) == v for k, v in fields.items())]
    return found


# ---------------------------------------------------------------------------
# FOCUS 1.0
# ---------------------------------------------------------------------------


def test_focus_10_periods_and_invoice_totals(tmp_path):
    copy(FOCUS_10, tmp_path)
    october, november = fetch(tmp_path)
    assert (october.period, november.period) == (OCTOBER, NOVEMBER)
    assert billed(october) == Decimal("562.25")
    assert billed(november) == Decimal("1.00")
    assert (october.final, november.final) == (False, False)  # 1.0 has no InvoiceId
    assert [b.final for b in fetch(tmp_path, final=True)] == [True, True]
    assert [b.period for b in fetch(tmp_path, NOVEMBER)] == [NOVEMBER]


def test_focus_10_rows_of_one_grain_sum_exactly_across_case_variants(tmp_path):
    """12.3456789012 + 7.6543210988 = 20; list 14 + 8 = 22; quantity 100 + 50 = 150."""
    copy(FOCUS_10, tmp_path)
    october, _ = fetch(tmp_path)
    ec2 = one(october, sku="ABCD1234", charge_category=ChargeCategory.USAGE)
    assert (ec2.billed_cost, ec2.list_cost, ec2.quantity) == (
        Decimal(20),
        Decimal(22),
        Decimal(150),
    )
    assert ec2.charge_frequency == "Usage-Based"  # "Usage-Based" and "Usage-based" are one
    assert (ec2.billing_account_id, ec2.sub_account_id) == ("111122223333", "444455556666")
    assert (ec2.service_name, ec2.service_category) == ("Amazon Elastic Compute Cloud", "Compute")
    assert (ec2.charge_period_start, ec2.charge_period_end) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 31),
    )
    assert (ec2.publisher, ec2.is_marketplace, ec2.charge_class) == ("AWS", False, None)


def test_focus_10_null_strings_and_lowercase_values(tmp_path):
    copy(FOCUS_10, tmp_path)
    october, _ = fetch(tmp_path)
    s3 = one(october, sku="S3-STD")
    assert s3.charge_category is ChargeCategory.USAGE  # "usage"
    assert s3.list_cost == s3.billed_cost == Decimal("3.10")  # ListCost "NULL"
    assert s3.quantity == Decimal("135.5")
    tax = one(october, charge_category=ChargeCategory.TAX)
    assert (tax.sub_account_id, tax.sku, tax.charge_frequency) == ("", "", None)
    assert tax.billed_cost == Decimal("41.65")


def test_focus_10_correction_is_kept_apart(tmp_path):
    copy(FOCUS_10, tmp_path)
    october, _ = fetch(tmp_path)
    correction = one(october, charge_class="Correction")
    assert correction.charge_category is ChargeCategory.CREDIT
    assert correction.billed_cost == Decimal("-2.50")
    assert correction.line_item_type == "Credit (Correction)"
    # Incurred 9/15 .. 9/16, billed in October: dated with the whole billing period.
    assert (correction.charge_period_start, correction.charge_period_end) == (
        OCTOBER.start,
        OCTOBER.end,
    )


def test_focus_10_publisher_other_than_provider_is_marketplace(tmp_path):
    copy(FOCUS_10, tmp_path)
    october, _ = fetch(tmp_path)
    assert {(c.publisher, c.billed_cost) for c in october.charges if c.is_marketplace} == {
        ("Contoso Networks", Decimal("0.00"))
    }
    purchase = one(october, charge_category=ChargeCategory.PURCHASE)
    assert (purchase.charge_frequency, purchase.billed_cost) == ("One-Time", Decimal("500.00"))


# ---------------------------------------------------------------------------
# FOCUS 1.2
# ---------------------------------------------------------------------------


def test_focus_12_is_final_by_invoice_id_and_sums_to_the_invoice(tmp_path):
    copy(FOCUS_12, tmp_path)
    [batch] = fetch(tmp_path)
    assert batch.period == OCTOBER
    assert batch.final is True
    assert billed(batch) == Decimal("154.41")
    assert {c.invoice_id for c in batch.charges} == {"G055512345"}
    assert {c.billing_currency for c in batch.charges} == {"EUR"}
    assert one(batch, charge_category=ChargeCategory.TAX).billed_cost == Decimal("14.41")  # "TAX"
    storage = one(batch, service_category="Storage")
    assert storage.sku == "SP-1"  # SkuId "NULL": SkuPriceId
    assert storage.list_cost == Decimal("0.876543211")
    market = one(batch, is_marketplace=True)
    assert (market.publisher, market.charge_frequency) == ("Contoso Networks", "Recurring")


def test_focus_12_row_without_invoice_id_is_not_final(tmp_path):
    header, rows = read_rows(FOCUS_12)
    rows[2]["InvoiceId"] = "NULL"
    write_csv(tmp_path / "focus.csv", header, rows)
    assert [b.final for b in fetch(tmp_path)] == [False]


def test_reseller_issued_invoice_does_not_make_microsoft_marketplace(tmp_path):
    header, rows = read_rows(FOCUS_12)
    for row in rows:
        row["InvoiceIssuerName"] = "Contoso CSP Ltd"
    write_csv(tmp_path / "focus.csv", header, rows)
    [batch] = fetch(tmp_path)
    assert {c.publisher for c in batch.charges if c.is_marketplace} == {"Contoso Networks"}


# ---------------------------------------------------------------------------
# Compressed and Parquet
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", [FOCUS_10, FOCUS_12])
def test_csv_gz_and_parquet_give_the_same_charges_as_csv(tmp_path, fixture):
    copy(fixture, tmp_path / "csv")
    (tmp_path / "gz").mkdir()
    (tmp_path / "gz" / "part_0.csv.gz").write_bytes(gzip.compress(fixture.read_bytes()))
    to_parquet(fixture, tmp_path / "typed" / "part_0.parquet")
    to_parquet(fixture, tmp_path / "text" / "part_0.parquet", typed=False)
    expected = [(b.period, b.charges, b.final) for b in fetch(tmp_path / "csv")]
    for variant in ("gz", "typed", "text"):
        assert [(b.period, b.charges, b.final) for b in fetch(tmp_path / variant)] == expected


def test_same_files_same_hash_changed_file_new_hash(tmp_path):
    copy(FOCUS_12, tmp_path / "a")
    copy(FOCUS_12, tmp_path / "b")
    first = fetch(tmp_path / "a")[0].source_hash
    assert fetch(tmp_path / "b")[0].source_hash == first
    with open(tmp_path / "b" / FOCUS_12.name, "a", encoding="utf-8") as handle:
        handle.write("\n")
    assert fetch(tmp_path / "b")[0].source_hash != first


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_missing_required_columns_are_all_named(tmp_path):
    header, rows = read_rows(FOCUS_12)
    header = [h for h in header if h not in {"BilledCost", "ChargePeriodEnd", "SubAccountId"}]
    write_csv(tmp_path / "bad.csv", header, [{h: r[h] for h in header} for r in rows])
    message = fetch_error(tmp_path)
    assert (
        "bad.csv: line 1 (the header) lacks the required column(s) SubAccountId, BilledCost, "
        "ChargePeriodEnd;" in message
    )


def parquet_error(tmp_path: Path, header: list[str], rows: list[dict], typed: bool = True) -> str:
    """The refusal of ``rows`` written as one Parquet file (via CSV, see ``to_parquet``)."""
    write_csv(tmp_path / "src.csv", header, [{h: r[h] for h in header} for r in rows])
    to_parquet(tmp_path / "src.csv", tmp_path / "pq" / "bad.parquet", typed=typed)
    return fetch_error(tmp_path / "pq")


def test_missing_columns_in_parquet_are_named(tmp_path):
    header, rows = read_rows(FOCUS_12)
    message = parquet_error(tmp_path, [h for h in header if h != "BillingCurrency"], rows)
    assert "bad.parquet: its schema lacks the required column(s) BillingCurrency;" in message


def test_unparseable_amount_in_parquet_names_the_row(tmp_path):
    header, rows = read_rows(FOCUS_12)
    rows[1]["BilledCost"] = "ninety-nine"
    message = parquet_error(tmp_path, header, rows, typed=False)
    assert "bad.parquet: row 2, column BilledCost is 'ninety-nine'" in message


@pytest.mark.parametrize(
    ("export", "index", "column", "value", "expected"),
    [
        (FOCUS_10, 3, "BilledCost", "5OO.00",
         "bad.csv: line 5, column BilledCost is '5OO.00'; it must be a decimal number"),
        (FOCUS_12, 0, "ChargePeriodStart", "01.10.2026",
         "bad.csv: line 2, column ChargePeriodStart is '01.10.2026'; it must be an ISO 8601"),
        (FOCUS_12, 4, "ChargeCategory", "Discount",
         "line 6, column ChargeCategory is 'Discount'; it must be one of Usage, Purchase"),
        # NULL is an error, not a zero.
        (FOCUS_12, 0, "BilledCost", "NULL",
         "line 2, column BilledCost is 'NULL'; it must be a decimal number"),
    ],
    ids=["amount", "date", "charge-category", "null-billed-cost"],
)  # fmt: skip
def test_bad_value_names_file_line_column_value_and_what_is_valid(
    tmp_path, export, index, column, value, expected
):
    header, rows = read_rows(export)
    rows[index][column] = value
    write_csv(tmp_path / "bad.csv", header, rows)
    assert expected in fetch_error(tmp_path)


@pytest.mark.parametrize("name", ["empty.csv", "empty.parquet", "empty.csv.gz"])
def test_empty_file_is_refused(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    assert f"{name}: the file is empty" in fetch_error(tmp_path)


def test_truncated_csv_gz_is_refused_and_nothing_is_returned(tmp_path):
    data = gzip.compress(FOCUS_10.read_bytes() * 20)
    (tmp_path / "a_cut.csv.gz").write_bytes(data[: len(data) * 2 // 3])
    copy(FOCUS_12, tmp_path, "b_good.csv")
    batches = FocusProvider({"path": str(tmp_path)}, tmp_path).fetch()
    with pytest.raises(SourceDataError, match=r"a_cut.csv.gz: the gzip data is cut off or corrupt"):
        next(batches)


def test_truncated_parquet_is_refused(tmp_path):
    path = to_parquet(FOCUS_12, tmp_path / "src" / "full.parquet")
    (tmp_path / "cut").mkdir()
    (tmp_path / "cut" / "cut.parquet").write_bytes(path.read_bytes()[:200])
    assert "cut.parquet: not a readable Parquet file" in fetch_error(tmp_path / "cut")


@pytest.mark.parametrize(
    ("header", "looks_like"),
    [
        (
            ["identity/LineItemId", "bill/PayerAccountId", "lineItem/UnblendedCost"],
            "an AWS Cost and Usage Report",
        ),
        (["line_item_line_item_type", "line_item_unblended_cost"], "an AWS CUR 2.0"),
        (
            [
                "BillingAccountId",
                "SubscriptionId",
                "Date",
                "MeterCategory",
                "CostInBillingCurrency",
            ],
            "an Azure EA / MCA cost-details export",
        ),
        (
            ["PartnerId", "CustomerId", "InvoiceNumber", "ChargeType", "Subtotal", "TaxTotal"],
            "a Partner Center (CSP) invoice reconciliation file",
        ),
    ],
)
def test_another_providers_file_is_recognised(tmp_path, header, looks_like):
    write_csv(tmp_path / "other.csv", header, [dict.fromkeys(header, "1")])
    assert f"other.csv: this looks like {looks_like}" in fetch_error(tmp_path)


def test_text_that_is_not_an_export_is_reported(tmp_path):
    (tmp_path / "notes.csv").write_text("a,b,c\n1,2,3\n")
    assert "not a FOCUS header" in fetch_error(tmp_path)


# ---------------------------------------------------------------------------
# The conformance kit
# ---------------------------------------------------------------------------


def focus_folder(folder: Path) -> dict[str, str]:
    """FOCUS 1.0 as CSV (October and November) and FOCUS 1.2 as Parquet (October)."""
    copy(FOCUS_10, folder / "focus")
    to_parquet(FOCUS_12, folder / "focus" / "azure" / "part_0.parquet")
    return {"path": "focus"}


TestFocusConformance = provider_test_class(FocusProvider, settings=focus_folder)
