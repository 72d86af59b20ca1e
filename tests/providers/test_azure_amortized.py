"""The azure provider refuses amortized-cost exports, and only them.

In actual cost, usage a reservation or savings plan paid for costs 0 and the commitment is
billed on a Purchase row; in amortized cost that usage carries its share of the
commitment. An amortized file beside the actual one would bill reservations twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from connector_azure import AzureCostProvider

from connector.contracts import BillingPeriod, SourceDataError
from tests.providers.azure_files import FIXTURES, copy_ea_sample, mca_row, write_csv
from tests.providers.fetching import FolderFetch

AMORTIZED_SAMPLE = FIXTURES / "EA_AmortizedCost_Small.csv"
ACTUAL_SAMPLE = FIXTURES / "EA_ActualCost_Small.csv"


fetch = FolderFetch(AzureCostProvider)


def rows_with_lines(path: Path) -> list[tuple[int, dict[str, str]]]:
    """``(line where the row starts, row)`` for each data row, read with the csv module."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        found, previous_end = [], 1
        for row in reader:
            found.append((previous_end + 1, row))
            previous_end = reader.line_num
        return found


def commitment_usage_with_cost(path: Path) -> list[tuple[int, dict[str, str]]]:
    return [
        (line, row)
        for line, row in rows_with_lines(path)
        if row["ChargeType"] == "Usage"
        and row["PricingModel"] in {"Reservation", "SavingsPlan"}
        and Decimal(row["Cost"]) != 0
    ]


def test_the_samples_differ_as_microsoft_documents():
    """What the refusal relies on, checked on Microsoft's own two samples."""
    actual = [row for _, row in rows_with_lines(ACTUAL_SAMPLE)]
    amortized = [row for _, row in rows_with_lines(AMORTIZED_SAMPLE)]
    # Actual cost: the reservation is billed on its Purchase row, no covered usage costs.
    committed = [r for r in actual if r["PricingModel"] != "OnDemand"]
    assert [(r["ChargeType"], r["PricingModel"], r["Cost"]) for r in committed] == [
        ("Purchase", "Reservation", "3.25")
    ]
    assert commitment_usage_with_cost(ACTUAL_SAMPLE) == []
    # Amortized cost: no purchase, and covered usage carries EffectivePrice x Quantity.
    assert not [r for r in amortized if r["ChargeType"] == "Purchase"]
    covered = [row for _, row in commitment_usage_with_cost(AMORTIZED_SAMPLE)]
    assert [(r["PricingModel"], r["Cost"]) for r in covered] == [
        ("Reservation", "0.493152"),
        ("SavingsPlan", "0.006000000468"),
    ]
    assert Decimal("0.061644") * 8 == Decimal(covered[0]["Cost"])  # EffectivePrice x Quantity


def test_ea_amortized_sample_is_refused_naming_the_row_and_what_to_do(tmp_path):
    path = Path(shutil.copyfile(AMORTIZED_SAMPLE, tmp_path / "EA_AmortizedCost_Small.csv"))
    [(line, row), *_] = commitment_usage_with_cost(path)
    assert line == 2  # the first data row is a reservation-covered VM hour

    message = fetch.refusal(tmp_path)

    assert message == (
        f"{path}: this is an amortized-cost export, not actual cost: line {line} is Usage "
        f"with PricingModel {row['PricingModel']} and Cost {row['Cost']}, but in actual cost "
        f"usage paid by a reservation or savings plan costs 0 (the purchase is billed on its "
        f"own Purchase row), so reading it with the actual-cost export would bill "
        f"reservations twice. Export the actual cost (Cost Management export of type "
        f"'Actual cost') into the folder instead, or narrow the azure provider's pattern to "
        f"the actual-cost files"
    )


def test_amortized_beside_actual_is_refused_and_nothing_is_summed(tmp_path):
    copy_ea_sample(tmp_path)
    shutil.copyfile(AMORTIZED_SAMPLE, tmp_path / "EA_AmortizedCost_Small.csv")
    message = fetch.refusal(tmp_path)
    assert message.startswith(f"{tmp_path / 'EA_AmortizedCost_Small.csv'}: this is an amortized")


def test_narrowing_the_pattern_to_actual_cost_reads_only_the_actual_file(tmp_path):
    copy_ea_sample(tmp_path)
    shutil.copyfile(AMORTIZED_SAMPLE, tmp_path / "EA_AmortizedCost_Small.csv")
    [batch] = fetch(tmp_path, pattern="*ActualCost*.csv")
    expected = sum(
        (Decimal(row["Cost"]).quantize(Decimal("1E-12")) for _, row in
         rows_with_lines(ACTUAL_SAMPLE)),
        Decimal(0),
    )  # fmt: skip
    assert sum(c.billed_cost for c in batch.charges) == expected == Decimal("8.545007786742")


def test_ea_actual_sample_with_its_reservation_purchase_is_accepted(tmp_path):
    copy_ea_sample(tmp_path)
    [batch] = fetch(tmp_path)
    assert [c.billed_cost for c in batch.charges if c.line_item_type == "Purchase"] == [
        Decimal("3.25")
    ]


@pytest.mark.parametrize("model", ["Reservation", "SavingsPlan", "reservation", "savingsplan"])
def test_mca_actual_cost_with_covered_usage_at_zero_is_accepted(tmp_path, model):
    write_csv(
        tmp_path / "mca.csv",
        [
            mca_row(pricingModel=model, effectivePrice="0", costInBillingCurrency="0",
                    paygCostInBillingCurrency="0.12"),
            mca_row(chargeType="Purchase", pricingModel=model, costInBillingCurrency="730",
                    paygCostInBillingCurrency="0", quantity="1"),
            mca_row(),  # on demand
        ],
    )  # fmt: skip
    [batch] = fetch(tmp_path)
    assert sum(c.billed_cost for c in batch.charges) == Decimal("730.1")  # 0 + 730 + 0.1


@pytest.mark.parametrize(
    "row",
    [
        # Other charge types with a commitment's pricing model are billed in actual cost.
        mca_row(chargeType="Refund", pricingModel="Reservation", costInBillingCurrency="-5"),
        mca_row(chargeType="Purchase", pricingModel="SavingsPlan", costInBillingCurrency="9"),
        # Spot and on-demand usage cost money in both data sets.
        mca_row(pricingModel="Spot", costInBillingCurrency="0.02"),
        mca_row(pricingModel="", costInBillingCurrency="0.02"),
    ],
)
def test_other_priced_rows_do_not_make_a_file_amortized(tmp_path, row):
    write_csv(tmp_path / "mca.csv", [row])
    [batch] = fetch(tmp_path)
    assert [c.billed_cost for c in batch.charges] == [Decimal(row["costInBillingCurrency"])]


def test_mca_amortized_row_is_named_with_the_files_own_column_names(tmp_path):
    path = write_csv(
        tmp_path / "mca-amortized.csv",
        [
            mca_row(),
            mca_row(),
            mca_row(pricingModel="SavingsPlan", effectivePrice="0.0187",
                    quantity="0.32085564", costInBillingCurrency="0.006000000468"),
        ],
    )  # fmt: skip
    message = fetch.refusal(tmp_path)
    assert message.startswith(
        f"{path}: this is an amortized-cost export, not actual cost: line 4 is Usage with "
        f"pricingModel SavingsPlan and costInBillingCurrency 0.006000000468, but in actual cost"
    )


def test_amortized_file_is_refused_even_when_another_period_is_asked_for(tmp_path):
    """The folder is wrong whichever period is read: refusing only some reads would let
    the amortized rows in through the others."""
    write_csv(tmp_path / "sep.csv", [mca_row(date="2026-09-03")])
    write_csv(tmp_path / "oct.csv", [mca_row(pricingModel="Reservation", date="2026-10-03")])
    september = BillingPeriod(dt.date(2026, 9, 1), dt.date(2026, 10, 1))
    provider = AzureCostProvider({"path": str(tmp_path)}, tmp_path)
    with pytest.raises(SourceDataError, match="oct.csv: this is an amortized-cost export"):
        list(provider.fetch(september))


def test_bad_values_are_reported_before_the_amortized_check(tmp_path):
    write_csv(
        tmp_path / "mca.csv",
        [mca_row(pricingModel="Reservation"), mca_row(costInBillingCurrency="x")],
    )
    message, _ = fetch.refused(tmp_path)
    assert "line 3, column costInBillingCurrency is 'x'" in message
