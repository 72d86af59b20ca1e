"""The azure provider: EA / MCA cost-details exports -> exact, correctly mapped batches."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import pytest
from connector_azure import AzureCostProvider, period_of

from connector.contracts import BillingPeriod, ChargeCategory
from tests.providers.azure_files import (
    EA_SAMPLE,
    MCA_HEADER,
    copy_ea_sample,
    mca_row,
    read_ea_sample,
    write_csv,
)
from tests.providers.fetching import FolderFetch

SEPTEMBER_2023 = BillingPeriod(dt.date(2023, 9, 1), dt.date(2023, 10, 1))
PLACES = Decimal("1E-12")  # DECIMAL(38,12): every value is rounded half-up to 12 places


fetch = FolderFetch(AzureCostProvider)
fetch_error = fetch.error


def exact(text: str) -> Decimal:
    return Decimal(text).quantize(PLACES, rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------------------
# The folder
# ---------------------------------------------------------------------------


def test_relative_path_is_resolved_against_base_dir(tmp_path):
    copy_ea_sample(tmp_path / "tenant" / "azure")
    provider = AzureCostProvider({"path": "azure"}, tmp_path / "tenant")
    assert [b.period for b in provider.fetch()] == [SEPTEMBER_2023]


# ---------------------------------------------------------------------------
# The EA sample
# ---------------------------------------------------------------------------


def _expected_ea() -> dict[tuple[str, str, str, str], list[Decimal]]:
    """Billed, list and quantity per (subscription, charge type, category, sku), by hand."""
    _, rows = read_ea_sample()
    assert len(rows) == 11
    sums: dict[tuple[str, str, str, str], list[Decimal]] = defaultdict(
        lambda: [Decimal(0), Decimal(0), Decimal(0)]
    )
    for row in rows:
        key = (
            row["SubscriptionId"],
            row["ChargeType"],
            row["MeterCategory"],
            f"{row['MeterSubCategory']} / {row['MeterName']}",
        )
        cost = exact(row["Cost"])
        payg = (exact(row["PayGPrice"]) * exact(row["Quantity"])).quantize(
            PLACES, rounding=ROUND_HALF_UP
        )
        sums[key][0] += cost
        sums[key][1] += payg if payg else cost
        sums[key][2] += exact(row["Quantity"])
    return dict(sums)


def test_ea_sample_aggregates_to_hand_computed_sums(tmp_path):
    copy_ea_sample(tmp_path)
    [batch] = fetch(tmp_path)
    assert batch.period == SEPTEMBER_2023
    assert batch.final is False
    got = {
        (c.sub_account_id, c.line_item_type, c.service_name, c.sku): [
            c.billed_cost,
            c.list_cost,
            c.quantity,
        ]
        for c in batch.charges
    }
    assert got == _expected_ea()
    for charge in batch.charges:
        assert charge.billing_account_id == "8611537"
        assert charge.billing_currency == "USD"
        assert charge.service_category == charge.service_name
        assert charge.publisher == "Microsoft" and not charge.is_marketplace
        assert all(isinstance(v, Decimal) for v in (charge.billed_cost, charge.list_cost))
    # The 16-place cost is kept to 12 places, exactly, never via float.
    total = sum((c.billed_cost for c in batch.charges), Decimal(0))
    assert total == Decimal("8.545007786742")


def test_ea_purchase_row_maps_to_purchase(tmp_path):
    copy_ea_sample(tmp_path)
    [batch] = fetch(tmp_path)
    [purchase] = [c for c in batch.charges if c.charge_category is ChargeCategory.PURCHASE]
    assert purchase.line_item_type == "Purchase"
    assert purchase.sub_account_id == "1caaa5a3-2b66-438e-8ab4-bce37d518c5d"
    assert purchase.sku == "BS Series / B1s"
    assert purchase.billed_cost == Decimal("3.25")
    # PayGPrice is 0 on a reservation purchase: the list cost is the cost itself.
    assert purchase.list_cost == Decimal("3.25")
    assert purchase.charge_period_start == dt.date(2023, 9, 21)
    assert purchase.charge_period_end == dt.date(2023, 9, 22)
    others = [c for c in batch.charges if c is not purchase]
    assert {c.charge_category for c in others} == {ChargeCategory.USAGE}


def test_final_setting_is_passed_through(tmp_path):
    copy_ea_sample(tmp_path)
    assert [b.final for b in fetch(tmp_path, final=True)] == [True]


# ---------------------------------------------------------------------------
# MCA
# ---------------------------------------------------------------------------


def test_mca_file_maps_marketplace_zero_and_list_cost(tmp_path):
    write_csv(
        tmp_path / "mca.csv",
        [
            mca_row(costInBillingCurrency="0.1", paygCostInBillingCurrency="0.12"),
            mca_row(
                date="2026-10-04T00:00:00.0000000Z",
                costInBillingCurrency="0.2",
                paygCostInBillingCurrency="0.24",
                quantity="2",
            ),
            mca_row(
                meterCategory="SaaS",
                meterSubCategory="",
                meterName="",
                productName="Contoso Firewall - Free Trial",
                costInBillingCurrency="0.00",
                paygCostInBillingCurrency="0.00",
                publisherType="Marketplace",
                publisherName="Contoso Networks",
                pricingModel="",
            ),
            mca_row(chargeType="Refund", costInBillingCurrency="-5", paygCostInBillingCurrency=""),
            mca_row(
                chargeType="Tax", meterCategory="", productName="Tax", costInBillingCurrency="1.9"
            ),
            mca_row(chargeType="RoundingAdjustment", costInBillingCurrency="0.01"),
        ],
    )
    [batch] = fetch(tmp_path)
    assert batch.period == BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
    by_type = {(c.line_item_type, c.is_marketplace): c for c in batch.charges}
    usage = by_type["Usage", False]
    assert (usage.billed_cost, usage.list_cost, usage.quantity) == (
        Decimal("0.3"),
        Decimal("0.36"),
        Decimal("3"),
    )
    assert usage.billing_account_id == "ba-1:mca_2019"
    assert usage.sub_account_id == "sub-aaaa"
    assert usage.billing_currency == "EUR"
    assert usage.sku == "Dv3/DSv3 Series / D2 v3/D2s v3"
    assert (usage.charge_period_start, usage.charge_period_end) == (
        dt.date(2026, 10, 3),
        dt.date(2026, 10, 5),
    )
    market = by_type["Usage", True]
    assert market.billed_cost == 0 and market.list_cost == 0
    assert market.publisher == "Contoso Networks"
    assert market.service_name == "SaaS"
    assert market.charge_category is ChargeCategory.USAGE
    refund = by_type["Refund", False]
    assert (refund.charge_category, refund.charge_class) == (ChargeCategory.CREDIT, "Correction")
    assert refund.billed_cost == refund.list_cost == Decimal(-5)
    tax = by_type["Tax", False]
    assert tax.charge_category is ChargeCategory.TAX
    assert tax.service_name == "Tax"  # no meter category: the product name
    assert by_type["RoundingAdjustment", False].charge_category is ChargeCategory.ADJUSTMENT


def test_sku_falls_back_to_part_number(tmp_path):
    header = ["BillingAccountId", "SubscriptionId", "Date", "MeterCategory",
              "MeterSubCategory", "MeterName", "PartNumber", "CostInBillingCurrency",
              "BillingCurrencyCode", "ChargeType"]  # fmt: skip
    row = dict(zip(header, ["1", "s", "09/01/2023", "Storage", "", "", "AAD-1", "1", "USD",
                            "Usage"], strict=True))  # fmt: skip
    write_csv(tmp_path / "ea.csv", [row], header)
    [batch] = fetch(tmp_path)
    [charge] = batch.charges
    assert charge.sku == "AAD-1"
    assert charge.list_cost == charge.billed_cost == 1  # no pay-as-you-go column


def test_unknown_charge_type_is_an_adjustment(tmp_path, caplog):
    write_csv(tmp_path / "mca.csv", [mca_row(chargeType="SomethingNew")])
    [batch] = fetch(tmp_path)
    assert batch.charges[0].charge_category is ChargeCategory.ADJUSTMENT
    assert "SomethingNew" in caplog.text


# ---------------------------------------------------------------------------
# Periods by billing day
# ---------------------------------------------------------------------------


def test_billing_day_31_vs_15_puts_rows_in_different_periods(tmp_path):
    write_csv(
        tmp_path / "mca.csv",
        [
            mca_row(date="2026-10-10", costInBillingCurrency="1"),
            mca_row(date="2026-10-15", costInBillingCurrency="2"),
            mca_row(date="2026-10-16", costInBillingCurrency="4"),
            mca_row(date="2026-10-31", costInBillingCurrency="8"),
        ],
    )
    by_month = {b.period: sum(c.billed_cost for c in b.charges) for b in fetch(tmp_path)}
    assert by_month == {BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1)): 15}
    by_day_15 = {
        b.period: sum(c.billed_cost for c in b.charges) for b in fetch(tmp_path, billing_day=15)
    }
    assert by_day_15 == {
        BillingPeriod(dt.date(2026, 9, 16), dt.date(2026, 10, 16)): 3,
        BillingPeriod(dt.date(2026, 10, 16), dt.date(2026, 11, 16)): 12,
    }
    only = fetch(tmp_path, BillingPeriod(dt.date(2026, 10, 16), dt.date(2026, 11, 16)),
                 billing_day=15)  # fmt: skip
    assert [sum(c.billed_cost for c in b.charges) for b in only] == [12]


@pytest.mark.parametrize(
    ("day", "billing_day", "start", "end"),
    [
        ("2023-09-04", 31, "2023-09-01", "2023-10-01"),
        ("2023-09-15", 15, "2023-08-16", "2023-09-16"),
        ("2023-09-16", 15, "2023-09-16", "2023-10-16"),
        # Billing day 30: February ends on the 28th, so March starts on the 1st.
        ("2023-02-28", 30, "2023-01-31", "2023-03-01"),
        ("2023-03-01", 30, "2023-03-01", "2023-03-31"),
        ("2024-02-29", 30, "2024-01-31", "2024-03-01"),
        ("2023-12-20", 15, "2023-12-16", "2024-01-16"),
        ("2024-01-01", 31, "2024-01-01", "2024-02-01"),
    ],
)
def test_period_of(day, billing_day, start, end):
    assert period_of(dt.date.fromisoformat(day), billing_day) == BillingPeriod(
        dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    )


# ---------------------------------------------------------------------------
# Hashing
# ---------------------------------------------------------------------------


def test_same_files_give_the_same_hash_and_a_changed_cost_a_new_one(tmp_path):
    copy_ea_sample(tmp_path / "a")
    copy_ea_sample(tmp_path / "b")
    first = fetch(tmp_path / "a")[0].source_hash
    assert fetch(tmp_path / "a")[0].source_hash == first
    assert fetch(tmp_path / "b")[0].source_hash == first
    # A blank line more is not a row more: the hash follows the rows, not the bytes
    # (more in test_azure_cost_hash.py).
    with open(tmp_path / "b" / "EA_ActualCost_Small.csv", "a", encoding="utf-8") as handle:
        handle.write("\n")
    assert fetch(tmp_path / "b")[0].source_hash == first
    text = EA_SAMPLE.read_text(encoding="utf-8-sig").replace(",2.64,", ",2.65,", 1)
    (tmp_path / "b" / "EA_ActualCost_Small.csv").write_text(text, encoding="utf-8")
    assert fetch(tmp_path / "b")[0].source_hash != first


def test_each_period_names_and_hashes_only_its_own_files(tmp_path):
    write_csv(tmp_path / "oct.csv", [mca_row(date="2026-10-03")])
    write_csv(tmp_path / "nov.csv", [mca_row(date="2026-11-03")])
    october, november = fetch(tmp_path)
    assert october.source.endswith("oct.csv") and november.source.endswith("nov.csv")
    assert october.source_hash != november.source_hash


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


def test_missing_required_columns_are_all_named(tmp_path):
    header = [h for h in MCA_HEADER if h not in {"subscriptionId", "chargeType", "date"}]
    write_csv(tmp_path / "bad.csv", [{h: mca_row()[h] for h in header}], header)
    message = fetch_error(tmp_path)
    assert "bad.csv" in message and "line 1" in message
    for name in ("SubscriptionId", "ChargeType", "Date"):
        assert name in message
    assert "MeterCategory" not in message.split(";")[0]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{}, {"costInBillingCurrency": "12,50"}],
         ["bad.csv: line 3, column costInBillingCurrency is '12,50'", "decimal number"]),
        ([{}, {}, {"date": "03.10.2026"}],
         ["bad.csv: line 4, column date is '03.10.2026'", "MM/DD/YYYY", "2023-09-21"]),
        ([{"date": "2026-02-30"}], ["line 2, column date is '2026-02-30'"]),
        # an empty cost is an error, not a zero
        ([{"costInBillingCurrency": ""}], ["line 2, column costInBillingCurrency is empty"]),
        ([{"billingCurrency": "usd"}], ["line 2, column billingCurrency is 'usd'"]),
    ],
    ids=["cost", "date-format", "impossible-date", "empty-cost", "currency"],
)  # fmt: skip
def test_bad_value_names_file_line_column_and_value(tmp_path, rows, expected):
    write_csv(tmp_path / "bad.csv", [mca_row(**values) for values in rows])
    message = fetch_error(tmp_path)
    for part in expected:
        assert part in message


def test_row_with_too_many_fields_names_its_line(tmp_path):
    path = write_csv(tmp_path / "bad.csv", [mca_row()])
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(",".join(["x"] * (len(MCA_HEADER) + 2)) + "\r\n")
    assert "bad.csv: line 3 has" in fetch_error(tmp_path)


def test_ea_sample_bad_value_uses_its_own_column_name(tmp_path):
    text = EA_SAMPLE.read_text(encoding="utf-8-sig").replace(",2.64,", ",two,", 1)
    (tmp_path / "ea.csv").write_text(text, encoding="utf-8")
    message = fetch_error(tmp_path)
    assert "ea.csv: line 5, column Cost is 'two'" in message


def test_text_that_is_not_an_export_is_reported(tmp_path):
    (tmp_path / "notes.csv").write_text("a,b,c\n1,2,3\n")
    assert "not an Azure cost-details header" in fetch_error(tmp_path)
