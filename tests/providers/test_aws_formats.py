"""The aws provider on CUR 2.0 and Parquet: same charges, exact money, clear refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from connector_aws import AwsCurProvider

from connector.contracts import (
    BillingPeriod,
    ChargeBatch,
    ChargeCategory,
    PluginError,
    SourceDataError,
)
from tests.providers.aws_cur2_files import (
    CUR2_HEADER,
    LEGACY_RESERVATION,
    cur2_row,
    write_cur2_csv,
    write_parquet,
)
from tests.providers.cur_files import HEADER, NOVEMBER, row, write_cur
from tests.providers.fetching import FolderFetch

OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))


fetch = FolderFetch(AwsCurProvider)
only_batch = fetch.only_batch
fetch_error = fetch.error


# A small bill: usage at ten decimal places, a tax line, a marketplace line, a credit.
BILL = [
    {"cost": "0.1234567891", "amount": "1.5"},
    {"cost": "0.1234567891", "amount": "2.5", "account": "222222222222"},
    {"cost": "10.0000000001", "usage_type": "USE1-EBS:VolumeUsage.gp3"},
    {"cost": "1.9900000000", "type": "Tax", "usage_type": "", "product": "AmazonEC2"},
    {"cost": "-5.5000000000", "type": "Credit"},
    {
        "cost": "12.5000000000",
        "entity": "AWS Marketplace",
        "legal": "Datadog, Inc.",
        "product": "6njl3yd4r0u8yyc6j1cvbf2mv",
        "product_name": "Datadog Pro",
    },
]
# Σ of the costs above, by hand: 0.1234567891 * 2 + 10.0000000001 + 1.99 - 5.5 + 12.5
BILL_TOTAL = Decimal("19.2369135783")


def summary(batch: ChargeBatch) -> dict:
    """What a format must not change: totals by category, marketplace, services, finality."""
    by_category: dict[ChargeCategory, Decimal] = {}
    for charge in batch.charges:
        by_category[charge.charge_category] = (
            by_category.get(charge.charge_category, Decimal(0)) + charge.billed_cost
        )
    return {
        "period": batch.period,
        "final": batch.final,
        "total": sum(c.billed_cost for c in batch.charges),
        "by_category": by_category,
        "marketplace": {(c.publisher, c.billed_cost) for c in batch.charges if c.is_marketplace},
        "services": {(c.service_name, c.service_category, c.sku) for c in batch.charges},
        "accounts": {c.sub_account_id for c in batch.charges},
    }


EXPECTED_BY_CATEGORY = {
    ChargeCategory.USAGE: Decimal("0.1234567891") * 2 + Decimal("10.0000000001") + Decimal("12.5"),
    ChargeCategory.TAX: Decimal("1.99"),
    ChargeCategory.CREDIT: Decimal("-5.5"),
}


@pytest.mark.parametrize(
    "writer",
    [
        lambda folder: write_cur(folder / "cur-00001.csv.gz", [row(**r) for r in BILL]),
        lambda folder: write_parquet(folder / "cur-00001.snappy.parquet", [row(**r) for r in BILL]),
        lambda folder: write_cur2_csv(
            folder / "export-00001.csv.gz", [cur2_row(**r) for r in BILL]
        ),
        lambda folder: write_parquet(
            folder / "export-00001.snappy.parquet",
            [cur2_row(**r) for r in BILL],
            CUR2_HEADER,
        ),
    ],
    ids=["legacy-csv.gz", "legacy-parquet", "cur2-csv.gz", "cur2-parquet"],
)
def test_every_flavour_and_format_gives_the_same_exact_charges(tmp_path, writer):
    writer(tmp_path)
    result = summary(only_batch(tmp_path))
    assert result["total"] == BILL_TOTAL
    assert result["by_category"] == EXPECTED_BY_CATEGORY
    assert result["period"] == OCTOBER and result["final"] is True
    assert result["marketplace"] == {("Datadog, Inc.", Decimal("12.5"))}
    assert ("AmazonEC2", "Amazon Elastic Compute Cloud", "USE1-BoxUsage:m5.large") in result[
        "services"
    ]
    assert result["accounts"] == {"111111111111", "222222222222"}


@pytest.mark.parametrize("money_as", ["DOUBLE", "DECIMAL(18,10)", "VARCHAR"])
def test_parquet_money_of_any_type_sums_to_ten_decimal_places(tmp_path, money_as):
    # 0.1 and 0.2 are not exact doubles: summed as doubles they give 0.30000000000000004.
    # A double holds 15 significant digits exactly, so a line item's ten decimal places
    # survive up to 99,999.9999999999; 1234.5678912345 has 14.
    costs = ["0.1", "0.2", "0.0000000001", "1234.5678912345"]
    write_parquet(
        tmp_path / "cur.parquet", [row(cost=c, amount=c) for c in costs], money_as=money_as
    )
    (charge,) = only_batch(tmp_path).charges
    expected = Decimal("1234.8678912346")  # 0.1 + 0.2 + 0.0000000001 + 1234.5678912345
    assert charge.billed_cost == expected and charge.quantity == expected
    assert isinstance(charge.billed_cost, Decimal)


def test_legacy_csv_and_cur2_parquet_in_one_folder_are_summed(tmp_path):
    write_cur(tmp_path / "legacy.csv", [row(cost="1.25")])
    write_parquet(tmp_path / "cur2.parquet", [cur2_row(cost="2.5")], CUR2_HEADER)
    (charge,) = only_batch(tmp_path).charges
    assert charge.billed_cost == Decimal("3.75")


def test_cur2_without_invoice_ids_is_not_final_and_each_period_is_a_batch(tmp_path):
    write_cur2_csv(
        tmp_path / "export.csv.gz",
        [cur2_row(cost="1"), cur2_row(cost="2", invoice="", **NOVEMBER)],
    )
    october, november = fetch(tmp_path)
    assert (october.final, november.final) == (True, False)
    assert [c.billed_cost for c in november.charges] == [Decimal(2)]


def test_cur2_product_name_comes_from_the_product_map(tmp_path):
    write_cur2_csv(
        tmp_path / "export.csv", [cur2_row(product="AmazonS3", product_name="Amazon S3 (map)")]
    )
    (charge,) = only_batch(tmp_path).charges
    assert (charge.service_name, charge.service_category) == ("AmazonS3", "Amazon S3 (map)")


# ---------------------------------------------------------------------------
# Charge frequency: the tenant's "AWS RI purchase: immediately" depends on it
# ---------------------------------------------------------------------------

RESERVATION = "arn:aws:ec2:us-east-1:111111111111:reserved-instances/ri-0a1b2c"
# (line item type, usage type, reservation ARN) -> (category, FOCUS ChargeFrequency)
FREQUENCIES = [
    (("Fee", "HeavyUsage:m5.large", RESERVATION), (ChargeCategory.PURCHASE, "One-Time")),
    (("Fee", "USE1-ReservedUpfront", RESERVATION), (ChargeCategory.PURCHASE, "One-Time")),
    (("Fee", "APS2-HeavyUsage:c5.xlarge", ""), (ChargeCategory.PURCHASE, "One-Time")),
    (("Fee", "Dollar", ""), (ChargeCategory.PURCHASE, None)),  # a support plan's fee
    (
        ("SavingsPlanUpfrontFee", "ComputeSP:3yrAllUpfront", ""),
        (ChargeCategory.PURCHASE, "One-Time"),
    ),
    (
        ("SavingsPlanRecurringFee", "ComputeSP:1yrNoUpfront", ""),
        (ChargeCategory.PURCHASE, "Recurring"),
    ),
    (("RIFee", "HeavyUsage:m5.large", RESERVATION), (ChargeCategory.PURCHASE, "Recurring")),
    (("Usage", "USE1-BoxUsage:m5.large", ""), (ChargeCategory.USAGE, "Usage-Based")),
    (
        ("DiscountedUsage", "USE1-BoxUsage:m5.large", RESERVATION),
        (ChargeCategory.USAGE, "Usage-Based"),
    ),
    (
        ("SavingsPlanCoveredUsage", "USE1-BoxUsage:c5.large", ""),
        (ChargeCategory.USAGE, "Usage-Based"),
    ),
    (
        ("SavingsPlanNegation", "USE1-BoxUsage:c5.large", ""),
        (ChargeCategory.ADJUSTMENT, "Usage-Based"),
    ),
    (("EdpDiscount", "USE1-BoxUsage:m5.large", ""), (ChargeCategory.ADJUSTMENT, "Usage-Based")),
    (("BundledDiscount", "USE1-BoxUsage:m5.large", ""), (ChargeCategory.ADJUSTMENT, "Usage-Based")),
    (
        ("PrivateRateDiscount", "USE1-BoxUsage:m5.large", ""),
        (ChargeCategory.ADJUSTMENT, "Usage-Based"),
    ),
    (("Discount", "USE1-BoxUsage:m5.large", ""), (ChargeCategory.ADJUSTMENT, "Usage-Based")),
    (("Tax", "USE1-BoxUsage:m5.large", ""), (ChargeCategory.TAX, "Usage-Based")),
    (("Credit", "USE1-BoxUsage:m5.large", ""), (ChargeCategory.CREDIT, "One-Time")),
    (("Refund", "USE1-BoxUsage:m5.large", ""), (ChargeCategory.CREDIT, "One-Time")),
    (("NewTypeFromAws", "USE1-BoxUsage:m5.large", ""), (ChargeCategory.ADJUSTMENT, None)),
]


@pytest.mark.parametrize("flavour", ["legacy", "cur2-parquet"])
def test_upfront_reservation_fees_are_one_time_purchases_and_fees_recur_monthly(tmp_path, flavour):
    values = [
        {"type": t, "usage_type": u, "reservation": arn, "cost": str(i + 1)}
        for i, ((t, u, arn), _) in enumerate(FREQUENCIES)
    ]
    if flavour == "legacy":
        rows = [
            {
                **row(**{k: v for k, v in r.items() if k != "reservation"}),
                LEGACY_RESERVATION: r["reservation"],
            }
            for r in values
        ]
        write_cur(tmp_path / "cur.csv", rows, header=[*HEADER, LEGACY_RESERVATION])
    else:
        write_parquet(tmp_path / "cur.parquet", [cur2_row(**r) for r in values], CUR2_HEADER)
    charges = only_batch(tmp_path).charges
    # Each row has its own cost, so the cost says which row a charge came from.
    got = {int(c.billed_cost): (c.charge_category, c.charge_frequency) for c in charges}
    assert got == {i + 1: expected for i, (_, expected) in enumerate(FREQUENCIES)}


def test_a_reservation_purchase_is_not_merged_with_other_fees_of_the_same_usage_type(tmp_path):
    rows = [
        {**row(type="Fee", usage_type="USE1-Upfront", cost="100"), LEGACY_RESERVATION: RESERVATION},
        {**row(type="Fee", usage_type="USE1-Upfront", cost="7"), LEGACY_RESERVATION: ""},
    ]
    write_cur(tmp_path / "cur.csv", rows, header=[*HEADER, LEGACY_RESERVATION])
    got = {c.billed_cost: c.charge_frequency for c in only_batch(tmp_path).charges}
    assert got == {Decimal(100): "One-Time", Decimal(7): None}


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_cur2_missing_required_columns_are_all_named(tmp_path):
    header = [
        h for h in CUR2_HEADER if h not in ("line_item_unblended_cost", "line_item_currency_code")
    ]
    write_cur(tmp_path / "export.csv.gz", [cur2_row()], header=header)
    message = fetch_error(tmp_path)
    assert "export.csv.gz" in message and "CUR 2.0" in message
    assert "line_item_unblended_cost" in message and "line_item_currency_code" in message


def test_parquet_missing_required_columns_are_all_named(tmp_path):
    header = [h for h in HEADER if h not in ("lineItem/UsageAccountId", "bill/PayerAccountId")]
    write_parquet(tmp_path / "cur.parquet", [row()], header)
    message = fetch_error(tmp_path)
    assert "cur.parquet" in message and "schema" in message
    assert "lineItem/UsageAccountId" in message and "bill/PayerAccountId" in message


def test_cur2_unparseable_amount_names_file_line_and_column(tmp_path):
    write_cur2_csv(tmp_path / "export.csv.gz", [cur2_row(), cur2_row(), cur2_row(cost="12,50")])
    message = fetch_error(tmp_path)
    assert "export.csv.gz" in message and "line 4" in message
    assert "line_item_unblended_cost" in message and "'12,50'" in message
    assert "decimal number" in message


def test_cur2_unparseable_date_names_file_line_and_column(tmp_path):
    write_cur2_csv(tmp_path / "export.csv", [cur2_row(), cur2_row(start="yesterday")])
    message = fetch_error(tmp_path)
    assert "export.csv" in message and "line 3" in message
    assert "line_item_usage_start_date" in message and "'yesterday'" in message


def test_parquet_unparseable_amount_names_file_row_and_column(tmp_path):
    rows = [row(cost="1"), row(cost="2"), row(cost="two")]
    write_parquet(tmp_path / "cur.parquet", rows, money_as="VARCHAR")
    message = fetch_error(tmp_path)
    assert "cur.parquet" in message and "row 3" in message
    assert "lineItem/UnblendedCost" in message and "'two'" in message


def test_parquet_not_a_number_cost_is_refused_not_summed(tmp_path):
    write_parquet(tmp_path / "cur.parquet", [row(cost="1"), row(cost="nan")])
    message = fetch_error(tmp_path)
    assert "cur.parquet" in message and "row 2" in message and "'nan'" in message


def test_parquet_empty_cost_is_an_error_not_a_zero(tmp_path):
    write_parquet(tmp_path / "export.parquet", [cur2_row(), cur2_row(cost="")], CUR2_HEADER)
    message = fetch_error(tmp_path)
    assert "export.parquet" in message and "row 2" in message
    assert "line_item_unblended_cost" in message and "empty" in message


def test_azure_cost_export_is_named_as_such(tmp_path):
    (tmp_path / "azure.csv").write_text(
        "SubscriptionId,MeterCategory,CostInBillingCurrency,BillingCurrency\nsub,VM,1.5,USD\n"
    )
    message = fetch_error(tmp_path)
    assert "azure.csv" in message and "Azure cost export" in message


def test_focus_export_is_named_as_such(tmp_path):
    write_parquet(
        tmp_path / "focus.parquet",
        [{"BilledCost": "1", "ChargeCategory": "Usage", "ChargePeriodStart": "2026-10-01"}],
        ["BilledCost", "ChargeCategory", "ChargePeriodStart"],
    )
    message = fetch_error(tmp_path)
    assert "focus.parquet" in message and "FOCUS" in message


def test_truncated_parquet_is_reported(tmp_path):
    path = write_parquet(
        tmp_path / "cur.parquet", [row(line_item_id=f"li-{i}") for i in range(500)]
    )
    path.write_bytes(path.read_bytes()[:-100])
    message = fetch_error(tmp_path)
    assert "cur.parquet" in message and "cut off or corrupt" in message


def test_truncated_cur2_gzip_is_reported(tmp_path):
    rows = [cur2_row(line_item_id=f"li-{i}") for i in range(2000)]
    path = write_cur2_csv(tmp_path / "export.csv.gz", rows)
    path.write_bytes(path.read_bytes()[:-200])
    message = fetch_error(tmp_path)
    assert "export.csv.gz" in message and "gzip" in message


def test_csv_named_file_holding_parquet_is_explained(tmp_path):
    write_parquet(tmp_path / "cur.parquet", [row()]).rename(tmp_path / "cur.csv")
    message = fetch_error(tmp_path)
    assert "cur.csv" in message and "Parquet" in message and ".parquet" in message


def test_one_bad_file_yields_no_batch_at_all(tmp_path):
    write_cur(tmp_path / "october.csv", [row(cost="1")])
    write_cur2_csv(tmp_path / "november.csv", [cur2_row(cost="x", **NOVEMBER)])
    provider = AwsCurProvider({"path": str(tmp_path)}, tmp_path)
    batches = provider.fetch()
    with pytest.raises(SourceDataError):
        next(batches)


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


def test_path_and_s3_together_are_refused(tmp_path):
    s3 = {"bucket": "billing", "report_name": "cur"}
    with pytest.raises(PluginError, match="exactly one of path"):
        AwsCurProvider({"path": ".", "s3": s3}, tmp_path)
    with pytest.raises(PluginError, match="exactly one of path"):
        AwsCurProvider({}, tmp_path)


def test_settings_errors_never_echo_the_secret_key(tmp_path):
    s3 = {"bucket": "billing", "report_name": "cur", "secret_access_key": "TOPSECRET123"}
    with pytest.raises(PluginError) as caught:
        AwsCurProvider({"s3": s3, "path": "."}, tmp_path)
    assert "TOPSECRET123" not in str(caught.value)
    assert "access_key_id" in str(caught.value) or "exactly one" in str(caught.value)
