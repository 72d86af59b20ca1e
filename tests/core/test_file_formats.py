"""connector.plugin_kit.file_formats names a billing file's format from its columns."""

from __future__ import annotations

import pytest

from connector.plugin_kit.file_formats import (
    AWS_CUR,
    AWS_CUR2,
    AZURE_COST,
    AZURE_CSP,
    FOCUS,
    looks_like,
)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["identity/LineItemId", "lineItem/UnblendedCost", "bill/PayerAccountId"], AWS_CUR),
        (["line_item_line_item_type", "line_item_unblended_cost", "product"], AWS_CUR2),
        (["BilledCost", "ChargeCategory", "ChargePeriodStart"], FOCUS),
        (["PartnerId", "CustomerId", "ChargeType", "Subtotal", "Total"], AZURE_CSP),
        (["SubscriptionId", "MeterCategory", "CostInBillingCurrency"], AZURE_COST),
        ([" metercategory ", "Cost"], AZURE_COST),  # spaces and case do not matter
        (["date", "amount", "customer"], None),
        ([], None),
    ],
)
def test_a_file_is_named_by_its_columns(names: list[str], expected: str | None) -> None:
    assert looks_like(names) == expected


def test_partial_markers_are_not_enough() -> None:
    assert looks_like(["BilledCost"]) is None  # FOCUS needs ChargeCategory too
    assert looks_like(["MeterCategory"]) is None  # Azure needs a cost column
