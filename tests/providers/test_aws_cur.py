"""The aws provider: legacy CUR files -> exact, correctly mapped charge batches."""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal

import pytest
from connector_aws import AwsCurProvider
from connector_aws.files import read_header
from connector_aws.query import CurAggregate

from connector.contracts import BillingPeriod, ChargeCategory
from tests.providers.cur_files import HEADER, NOVEMBER, row, write_cur
from tests.providers.fetching import FolderFetch

OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))


fetch = FolderFetch(AwsCurProvider)
only_batch = fetch.only_batch
fetch_error = fetch.error


# ---------------------------------------------------------------------------
# The folder
# ---------------------------------------------------------------------------


def test_other_files_in_the_folder_are_not_read(tmp_path):
    write_cur(tmp_path / "oct.csv", [row(cost="2")])
    (tmp_path / "cur-RedshiftCommands.sql").write_text("copy ...")
    (tmp_path / "notes.zip").write_bytes(b"PK\x03\x04")
    (charge,) = only_batch(tmp_path).charges
    assert charge.billed_cost == Decimal(2)


def test_relative_path_is_resolved_against_base_dir(tmp_path):
    write_cur(tmp_path / "tenant" / "cur" / "oct.csv", [row()])
    provider = AwsCurProvider({"path": "cur"}, tmp_path / "tenant")
    assert [b.period for b in provider.fetch()] == [OCTOBER]


def test_folder_without_cur_files_yields_nothing(tmp_path):
    (tmp_path / "report-Manifest.json").write_text("{}")
    assert fetch(tmp_path) == []


# ---------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------


def test_costs_are_summed_exactly_to_ten_decimal_places(tmp_path):
    write_cur(
        tmp_path / "oct.csv",
        [
            row(
                cost="0.1234567891",
                public_cost="0.2000000001",
                amount="1.5",
                start="2026-10-03T05:00:00Z",
                end="2026-10-03T06:00:00Z",
            ),
            # no public on-demand cost: the list cost falls back to this row's own cost
            row(
                cost="0.0000000009",
                public_cost="",
                amount="2.25",
                start="2026-10-01T00:00:00Z",
                end="2026-10-31T23:00:00Z",
            ),
            row(cost="5", usage_type="USE1-EBS:VolumeUsage.gp3"),
        ],
    )
    batch = only_batch(tmp_path)
    charges = {c.sku: c for c in batch.charges}
    assert set(charges) == {"USE1-BoxUsage:m5.large", "USE1-EBS:VolumeUsage.gp3"}
    box = charges["USE1-BoxUsage:m5.large"]
    assert box.billed_cost == Decimal("0.1234567900")
    assert box.list_cost == Decimal("0.2000000010")
    assert box.quantity == Decimal("3.75")
    assert all(isinstance(v, Decimal) for v in (box.billed_cost, box.list_cost, box.quantity))
    assert (box.charge_period_start, box.charge_period_end) == (
        dt.date(2026, 10, 1),
        dt.date(2026, 10, 31),
    )
    assert (box.billing_account_id, box.sub_account_id) == ("900000000001", "111111111111")
    assert (box.service_name, box.service_category) == ("AmazonEC2", "Amazon Elastic Compute Cloud")
    assert (box.billing_currency, box.line_item_type) == ("USD", "Usage")
    assert charges["USE1-EBS:VolumeUsage.gp3"].billed_cost == Decimal(5)
    assert batch.period == OCTOBER


def test_every_grain_column_splits_charges(tmp_path):
    variants = [
        {},
        {"payer": "900000000002"},
        {"account": "222222222222"},
        {"type": "Tax"},
        {"product": "AmazonS3", "product_name": "Amazon Simple Storage Service"},
        {"usage_type": "USE1-Requests-Tier1"},
        {"currency": "EUR"},
        {"invoice": "INV-2"},
        {"entity": "AWS Marketplace"},
        {"legal": "Amazon Web Services EMEA SARL"},
    ]
    write_cur(tmp_path / "oct.csv", [row(cost="1", **v) for v in variants] + [row(cost="2")])
    charges = only_batch(tmp_path).charges
    assert len(charges) == len(variants)
    assert sorted(c.billed_cost for c in charges) == [Decimal(1)] * (len(variants) - 1) + [
        Decimal(3)
    ]


def test_quantity_is_zero_and_list_cost_is_billed_cost_without_optional_columns(tmp_path):
    header = [
        h
        for h in HEADER
        if h
        not in (
            "lineItem/UsageAmount",
            "pricing/publicOnDemandCost",
            "lineItem/UsageEndDate",
            "product/ProductName",
            "bill/BillingEntity",
            "lineItem/LegalEntity",
            "bill/InvoiceId",
        )
    ]
    write_cur(tmp_path / "oct.csv", [row(cost="2.5"), row(cost="0.5")], header=header)
    batch = only_batch(tmp_path)
    (charge,) = batch.charges
    assert (charge.billed_cost, charge.list_cost, charge.quantity) == (
        Decimal(3),
        Decimal(3),
        Decimal(0),
    )
    assert charge.service_category == "AmazonEC2"  # no product name: the product code
    assert charge.charge_period_end == dt.date(2026, 10, 3)  # no end date: the start
    assert charge.publisher == "Amazon Web Services"
    assert charge.invoice_id is None and batch.final is False


def test_empty_product_name_falls_back_to_product_code(tmp_path):
    write_cur(tmp_path / "oct.csv", [row(product="AWSDataTransfer", product_name="")])
    assert only_batch(tmp_path).charges[0].service_category == "AWSDataTransfer"


# lineItem/LineItemType by the FOCUS ChargeCategory it maps to, written out by hand (not
# read from connector_aws.line_items) so that a change to the provider's table shows.
TYPES_BY_CATEGORY = {
    ChargeCategory.USAGE: ["Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"],
    ChargeCategory.PURCHASE: ["RIFee", "Fee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee"],
    ChargeCategory.TAX: ["Tax"],
    ChargeCategory.CREDIT: ["Credit"],
    ChargeCategory.ADJUSTMENT: ["SavingsPlanNegation", "BundledDiscount", "EdpDiscount",
                                "PrivateRateDiscount", "Discount", "SomethingAwsAddsLater"],
}  # fmt: skip
# -> (category, charge class): only a refund has a class (a correction of a credit).
LINE_ITEM_TYPES = {
    **{kind: (category, None) for category, kinds in TYPES_BY_CATEGORY.items() for kind in kinds},
    "Refund": (ChargeCategory.CREDIT, "Correction"),
}


def test_every_line_item_type_maps_to_its_focus_category_and_class(tmp_path):
    write_cur(tmp_path / "oct.csv", [row(type=t) for t in LINE_ITEM_TYPES])
    mapped = {
        c.line_item_type: (c.charge_category, c.charge_class) for c in only_batch(tmp_path).charges
    }
    assert mapped == LINE_ITEM_TYPES


def test_unknown_line_item_type_is_logged(tmp_path, caplog):
    write_cur(tmp_path / "oct.csv", [row(type="BrandNewType")])
    fetch(tmp_path)
    assert "BrandNewType" in caplog.text and "Adjustment" in caplog.text


def test_marketplace_rows_pass_through_with_their_publisher(tmp_path):
    write_cur(
        tmp_path / "oct.csv",
        [
            row(
                entity="AWS Marketplace",
                legal="Datadog, Inc.",
                product="6njl3yd4r0u8yyc6j1cvbf2mv",
                product_name="Datadog Pro",
                cost="12.5000000000",
                invoice="INV-MP",
            ),
            # a free trial: $0.00 must survive aggregation so the statement can show it
            row(
                entity="AWS Marketplace",
                legal="Trend Micro Inc.",
                product="b3u2e5yxk0s2x",
                product_name="Cloud One",
                cost="0.00",
                invoice="INV-MP",
            ),
            row(
                entity="AWS Marketplace",
                legal="",
                product="9qwk3e1cpj7d5",
                product_name="Snowflake Data Cloud",
                cost="1",
                invoice="INV-MP",
            ),
            row(cost="3"),
        ],
    )
    by_product = {c.service_name: c for c in only_batch(tmp_path).charges}
    datadog = by_product["6njl3yd4r0u8yyc6j1cvbf2mv"]
    assert (datadog.is_marketplace, datadog.publisher) == (True, "Datadog, Inc.")
    free = by_product["b3u2e5yxk0s2x"]
    assert (free.is_marketplace, free.publisher, free.billed_cost) == (
        True,
        "Trend Micro Inc.",
        Decimal(0),
    )
    no_legal_entity = by_product["9qwk3e1cpj7d5"]
    assert (no_legal_entity.is_marketplace, no_legal_entity.publisher) == (
        True,
        "Snowflake Data Cloud",
    )
    aws = by_product["AmazonEC2"]
    assert (aws.is_marketplace, aws.publisher) == (False, "Amazon Web Services, Inc.")


# ---------------------------------------------------------------------------
# Periods, finality, sources
# ---------------------------------------------------------------------------


def test_period_is_final_only_when_every_row_has_an_invoice_id(tmp_path):
    write_cur(
        tmp_path / "cur.csv",
        [
            row(cost="1"),
            row(cost="2", account="222222222222"),
            row(cost="1", **NOVEMBER),
            row(cost="2", invoice="", **NOVEMBER),
        ],
    )
    october, november = fetch(tmp_path)
    assert (october.period, october.final) == (OCTOBER, True)
    assert november.period == BillingPeriod(dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    assert november.final is False
    assert {c.invoice_id for c in november.charges} == {"EUINUS26-000001", None}


def test_period_filter_yields_only_the_requested_period(tmp_path):
    write_cur(tmp_path / "cur.csv", [row(cost="1"), row(cost="7", **NOVEMBER)])
    november = BillingPeriod(dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    (batch,) = fetch(tmp_path, period=november)
    assert batch.period == november
    assert [c.billed_cost for c in batch.charges] == [Decimal(7)]
    assert fetch(tmp_path, period=BillingPeriod(dt.date(2026, 9, 1), dt.date(2026, 10, 1))) == []


def test_same_files_give_the_same_hash_and_a_changed_file_a_new_one(tmp_path):
    path = write_cur(tmp_path / "oct.csv.gz", [row(cost="1")])
    first, again = only_batch(tmp_path), only_batch(tmp_path)
    assert first.source_hash == again.source_hash
    assert len(first.source_hash) == 64
    write_cur(path, [row(cost="1.0000000001")])
    assert only_batch(tmp_path).source_hash != first.source_hash


def test_each_period_names_and_hashes_only_its_own_files(tmp_path):
    october_file = write_cur(tmp_path / "202610" / "cur-1.csv.gz", [row()])
    november_file = write_cur(tmp_path / "202611" / "cur-1.csv.gz", [row(**NOVEMBER)])
    october, november = fetch(tmp_path)
    assert (october.source, november.source) == (str(october_file), str(november_file))
    write_cur(november_file, [row(cost="9", **NOVEMBER)])
    october_again, november_again = fetch(tmp_path)
    assert october_again.source_hash == october.source_hash
    assert november_again.source_hash != november.source_hash


def test_csv_and_csv_gz_files_are_both_read_and_summed(tmp_path):
    plain = write_cur(tmp_path / "part-1.csv", [row(cost="1.25")])
    packed = write_cur(tmp_path / "part-2.csv.gz", [row(cost="2.5")])
    batch = only_batch(tmp_path)
    assert [c.billed_cost for c in batch.charges] == [Decimal("3.75")]
    assert batch.source == f"{plain}, {packed}"


def test_files_with_different_optional_columns_are_read_together(tmp_path):
    write_cur(tmp_path / "a.csv", [row(cost="1", public_cost="4")])
    write_cur(
        tmp_path / "b.csv",
        [row(cost="2")],
        header=[h for h in HEADER if h != "pricing/publicOnDemandCost"],
    )
    (charge,) = only_batch(tmp_path).charges
    assert (charge.billed_cost, charge.list_cost) == (Decimal(3), Decimal(6))


def test_pattern_selects_the_files_read(tmp_path):
    write_cur(tmp_path / "keep" / "a.csv", [row(cost="1")])
    write_cur(tmp_path / "old" / "a.csv", [row(cost="100")])
    (batch,) = fetch(tmp_path, pattern="keep/*.csv*")
    assert [c.billed_cost for c in batch.charges] == [Decimal(1)]


def test_zip_compressed_report_is_refused_rather_than_skipped(tmp_path):
    (tmp_path / "cur.csv.zip").write_bytes(b"PK\x03\x04")
    message = fetch_error(tmp_path)
    assert "cur.csv.zip" in message and "GZIP" in message


def test_extra_unknown_columns_are_ignored(tmp_path):
    header = [
        "identity/TimeInterval",
        *HEADER,
        "resourceTags/user:Name",
        "resourceTags/user:name",
        'odd "quoted", name',
        "product/region",
    ]
    values = {
        "identity/TimeInterval": "x",
        "resourceTags/user:Name": "web",
        "resourceTags/user:name": "db",
        'odd "quoted", name': "1,2",
        "product/region": "us-east-1",
    }
    write_cur(tmp_path / "oct.csv", [{**row(cost="4.5"), **values}], header=header)
    (charge,) = only_batch(tmp_path).charges
    assert charge.billed_cost == Decimal("4.5")


def test_crlf_line_endings_and_quoted_multiline_values_are_read(tmp_path):
    lines = [",".join(HEADER)]
    values = row(cost="2")
    values["lineItem/LegalEntity"] = '"Amazon Web Services,\r\nInc."'
    lines.append(",".join(values[h] for h in HEADER))
    (tmp_path / "oct.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode())
    (charge,) = only_batch(tmp_path).charges
    assert charge.publisher == "Amazon Web Services,\r\nInc."


# ---------------------------------------------------------------------------
# Bad input: file, line, column, value, and what would be valid
# ---------------------------------------------------------------------------


def test_missing_required_columns_are_all_named(tmp_path):
    header = [h for h in HEADER if h not in ("lineItem/UnblendedCost", "lineItem/UsageType")]
    write_cur(tmp_path / "oct.csv", [row()], header=header)
    message = fetch_error(tmp_path)
    assert "oct.csv" in message and "line 1" in message
    assert "lineItem/UnblendedCost" in message and "lineItem/UsageType" in message


@pytest.mark.parametrize(
    ("name", "rows", "line", "column", "details"),
    [
        # the header is line 1: "abc" is line 7
        ("oct.csv", [{"cost": "1"}] * 5 + [{"cost": "abc"}], 7, "lineItem/UnblendedCost",
         ("'abc'", "decimal number like 12.3456")),
        ("oct.csv.gz", [{"cost": "1"}] * 5 + [{"cost": "abc"}], 7, "lineItem/UnblendedCost",
         ("'abc'", "decimal number like 12.3456")),
        # an empty cost is an error, not a zero
        ("oct.csv", [{}, {"cost": ""}], 3, "lineItem/UnblendedCost", ("empty",)),
        ("oct.csv.gz", [{}, {}, {"start": "2026-13-45T00:00:00Z"}], 4, "lineItem/UsageStartDate",
         ("2026-10-01T00:00:00Z",)),
        ("oct.csv.gz", [{}, {"start": "", "end": ""}], 3, "lineItem/UsageStartDate", ("empty",)),
        ("oct.csv", [{}, {}, {"start": "26-10-03T00:00:00Z"}], 4, "lineItem/UsageStartDate",
         ("'26-10-03T00:00:00Z'",)),
        *[
            ("oct.csv", [{}, {"currency": code, "account": "222222222222"}], 3,
             "lineItem/CurrencyCode", (repr(code), "ISO 4217"))
            for code in ["usd", "US", "US$", "EURO"]
        ],
        ("oct.csv", [{}, {}, {}, {"account": ""}], 5, "lineItem/UsageAccountId", ("empty",)),
        ("oct.csv", [{}, {"period_start": ""}], 3, "bill/BillingPeriodStartDate", ("empty",)),
    ],
    ids=["cost", "cost-gz", "empty-cost", "date", "empty-start", "implausible-year",
         "currency-usd", "currency-US", "currency-US$", "currency-EURO", "empty-account",
         "empty-billing-period"],
)  # fmt: skip
def test_bad_value_names_file_line_column_and_what_is_wrong(
    tmp_path, name, rows, line, column, details
):
    write_cur(tmp_path / name, [row(**values) for values in rows])
    message = fetch_error(tmp_path)
    assert f"{name}: line {line}" in message and column in message
    for detail in details:
        assert detail in message


def test_line_numbers_count_physical_lines_of_multiline_values(tmp_path):
    rows = [row(legal="Amazon Web Services,\nInc."), row(), row(amount="1.2.3")]
    write_cur(tmp_path / "oct.csv", rows)
    message = fetch_error(tmp_path)  # header 1, first row 2-3, then 4, bad row 5
    assert "line 5" in message and "lineItem/UsageAmount" in message and "'1.2.3'" in message


def test_cur2_data_export_is_read_not_refused(tmp_path):
    header = [
        "bill_billing_period_start_date",
        "bill_billing_period_end_date",
        "bill_payer_account_id",
        "line_item_usage_account_id",
        "line_item_line_item_type",
        "line_item_product_code",
        "line_item_usage_type",
        "line_item_unblended_cost",
        "line_item_currency_code",
        "line_item_usage_start_date",
    ]
    (tmp_path / "data.csv").write_text(
        ",".join(header) + "\n2026-10-01,2026-11-01,1,2,Usage,AmazonEC2,Box,3.5,USD,2026-10-02\n"
    )
    (charge,) = only_batch(tmp_path).charges
    assert (charge.billed_cost, charge.sub_account_id, charge.line_item_type) == (
        Decimal("3.5"),
        "2",
        "Usage",
    )


@pytest.mark.parametrize("name", ["empty.csv", "empty.csv.gz", "empty.parquet", "export.csv.gz"])
def test_empty_file_is_reported(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(gzip.compress(b"") if name.endswith(".gz") else b"")
    message = fetch_error(tmp_path)
    assert name in message and "empty" in message


def test_binary_file_is_not_csv(tmp_path):
    (tmp_path / "cur.csv").write_bytes(b"PAR1\x00\x15\x04\x15\xff\xfe\x00" * 10)
    message = fetch_error(tmp_path)
    assert "cur.csv" in message and "Parquet" in message


def test_gzip_file_without_gz_name_is_explained(tmp_path):
    (tmp_path / "cur.csv").write_bytes(gzip.compress(b"\xff\xfe" * 100))
    message = fetch_error(tmp_path)
    assert "cur.csv" in message and ".gz" in message


def test_corrupt_gzip_is_reported(tmp_path):
    (tmp_path / "cur.csv.gz").write_bytes(b"this is not gzip at all")
    message = fetch_error(tmp_path)
    assert "cur.csv.gz" in message and "gzip" in message


def test_text_that_is_not_a_cur_is_reported(tmp_path):
    (tmp_path / "notes.csv").write_text("name,amount\nalice,3\n")
    message = fetch_error(tmp_path)
    assert "notes.csv" in message and "not an AWS Cost and Usage Report header" in message
    assert "'name,amount'" in message


def test_row_with_too_many_fields_names_its_line(tmp_path):
    path = write_cur(tmp_path / "oct.csv", [row(), row()])
    path.write_text(path.read_text() + ",".join(row().values()) + ",extra\n")
    message = fetch_error(tmp_path)
    assert "oct.csv" in message and "line 4" in message and "fields" in message


def test_period_ending_before_it_starts_is_reported(tmp_path):
    write_cur(tmp_path / "oct.csv", [row(), row(period_end="2026-09-01T00:00:00Z")])
    message = fetch_error(tmp_path)
    assert "oct.csv" in message and "line 3" in message and "BillingPeriodEndDate" in message


def test_non_utf8_byte_names_its_line(tmp_path):
    path = write_cur(tmp_path / "oct.csv", [row(), row()])
    path.write_bytes(
        path.read_bytes()
        .replace(b"Amazon Elastic", b"Amazon \xe9lastic", 2)
        .replace(b"Amazon \xe9lastic", b"Amazon Elastic", 1)
    )
    message = fetch_error(tmp_path)
    assert "oct.csv" in message and "line 3" in message and "UTF-8" in message


def test_charges_built_through_slots_equal_charges_built_through_init(tmp_path):
    from connector_aws import charges

    write_cur(
        tmp_path / "oct.csv",
        [
            row(type=t, cost="1.25", public_cost=p, invoice=i)
            for t in ("Usage", "Refund", "Tax")
            for p in ("", "2")
            for i in ("", "INV-1")
        ]
        + [row(entity="AWS Marketplace", legal="Datadog, Inc.", product="dd", cost="0")],
    )
    fast = only_batch(tmp_path).charges
    # The fast path must be in use: if CanonicalCharge changes shape it silently turns
    # off, and this test says so.
    assert charges.UNFROZEN is not None
    header = read_header(tmp_path / "oct.csv")
    with CurAggregate([header], None) as groups:
        (summary,) = groups.periods()
        contexts, accounts, days, rows = groups.charge_rows(summary.period)
        rows = list(rows)  # they stream from the aggregate, open only in this block
    shared = [charges.context_fields(c) for c in contexts]
    slow = charges._build_through_init(shared, accounts, days, rows)
    assert len(fast) == 7  # 3 types x 2 invoices + marketplace; list price is summed
    assert sorted(map(repr, fast)) == sorted(map(repr, slow))
    assert set(fast) == set(slow)


def test_many_files_over_two_periods_keep_their_own_sources(tmp_path):
    # 70 files need two 63-bit file masks.
    for index in range(70):
        values = NOVEMBER if index % 2 else {}
        rows = [row(cost="1", line_item_id=f"li-{index}", **values)]  # no two files alike
        write_cur(tmp_path / f"part-{index:03d}.csv", rows)
    october, november = fetch(tmp_path)
    assert [c.billed_cost for c in october.charges] == [Decimal(35)]
    assert october.source.count("part-") == 35 and "part-068.csv" in october.source
    assert "part-069.csv" in november.source and "part-069.csv" not in october.source


def test_two_spellings_of_the_same_period_are_one_period(tmp_path):
    write_cur(
        tmp_path / "oct.csv",
        [
            row(cost="1"),
            row(cost="2", period_start="2026-10-01T00:00:00.000Z", period_end="2026-11-01"),
        ],
    )
    (charge,) = only_batch(tmp_path).charges
    assert charge.billed_cost == Decimal(3)


def test_truncated_gzip_is_reported(tmp_path):
    path = write_cur(tmp_path / "oct.csv.gz", [row(line_item_id=f"li-{i}") for i in range(2000)])
    path.write_bytes(path.read_bytes()[:-200])
    message = fetch_error(tmp_path)
    assert "oct.csv.gz" in message and "gzip" in message


def test_only_the_date_of_a_date_time_is_read(tmp_path):
    # Only the date is used, so only the date is checked (2026-10-09Tnoon is 2026-10-09).
    write_cur(tmp_path / "oct.csv", [row(start="2026-10-02T10:00:00Z", end="2026-10-09Tnoon")])
    (charge,) = only_batch(tmp_path).charges
    assert (charge.charge_period_start, charge.charge_period_end) == (
        dt.date(2026, 10, 2),
        dt.date(2026, 10, 9),
    )


def test_the_first_bad_value_is_reported_not_one_duckdb_accepted(tmp_path):
    write_cur(tmp_path / "oct.csv", [row(end="2026-10-09Tnoon"), row(amount="x")])
    message = fetch_error(tmp_path)
    assert "line 3" in message and "lineItem/UsageAmount" in message
