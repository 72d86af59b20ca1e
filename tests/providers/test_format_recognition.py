"""Issue 18, defect 3: a file is named by columns only its format has.

An Oracle Cloud (OCI) cost report names its columns lineItem/..., product/... and
cost/...; it is not an AWS Cost and Usage Report, and a header no known export has is
"not a recognised export", with the expected format's missing columns listed.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from connector_aws import AwsCurProvider
from connector_azure import AzureCostProvider, AzureCspProvider
from connector_focus import FocusProvider

from connector.contracts import SourceDataError
from connector.plugin_kit.file_formats import AWS_CUR, OCI_COST, looks_like

OCI_HEADER = [
    "lineItem/referenceNo", "lineItem/tenantId", "lineItem/intervalUsageStart",
    "lineItem/intervalUsageEnd", "product/service", "product/compartmentId",
    "product/compartmentName", "product/region", "product/availabilityDomain",
    "product/resourceId", "usage/billedQuantity", "usage/billedQuantityOverage",
    "cost/subscriptionId", "cost/productSku", "product/Description", "cost/unitPrice",
    "cost/unitPriceOverage", "cost/myCost", "cost/myCostOverage", "cost/currencyCode",
    "cost/billingUnitReadable", "cost/overageFlag", "lineItem/isCorrection",
    "lineItem/backreferenceNo",
]  # fmt: skip
PROVIDERS = {
    "aws": AwsCurProvider,
    "azure": AzureCostProvider,
    "azure-csp": AzureCspProvider,
    "focus": FocusProvider,
}


def write(path: Path, header: list[str]) -> None:
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerow(["1"] * len(header))


def refusal(name: str, folder: Path) -> str:
    with pytest.raises(SourceDataError) as caught:
        list(PROVIDERS[name]({"path": str(folder)}, folder).fetch())
    return str(caught.value)


def test_an_oci_cost_report_is_named_as_one_not_as_aws():
    assert looks_like(OCI_HEADER) == OCI_COST


def test_a_lineitem_prefix_alone_is_not_aws():
    assert looks_like(["lineItem/Something", "bill/Other"]) is None
    assert looks_like(["identity/LineItemId", "lineItem/UnblendedCost"]) == AWS_CUR


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_every_provider_names_an_oci_cost_report_as_oracle_cloud(tmp_path, provider):
    write(tmp_path / "oci.csv", OCI_HEADER)
    message = refusal(provider, tmp_path)
    assert str(tmp_path / "oci.csv") in message
    assert "Oracle Cloud (OCI) cost report" in message
    assert "AWS Cost and Usage Report (legacy" not in message


@pytest.mark.parametrize(
    ("provider", "missing"),
    [
        ("aws", "bill/BillingPeriodStartDate, bill/BillingPeriodEndDate, bill/PayerAccountId"),
        ("azure", "BillingAccountId, SubscriptionId, Date, MeterCategory"),
        ("azure-csp", "PartnerId, CustomerId"),
        ("focus", "BillingAccountId, SubAccountId, ChargeCategory"),
    ],
)
def test_an_unknown_header_is_not_a_recognised_export_listing_the_missing_columns(
    tmp_path, provider, missing
):
    write(tmp_path / "ledger.csv", ["posted", "amount", "customer", "memo"])
    message = refusal(provider, tmp_path)
    assert message.startswith(str(tmp_path / "ledger.csv"))
    assert "not a recognised export (it starts 'posted,amount,customer...')" in message
    assert missing in message
