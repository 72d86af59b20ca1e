"""Small Azure cost-details exports for the azure provider's tests, written with csv."""

from __future__ import annotations

from pathlib import Path

from tests.providers.export_files import copy, csv_writer, read_csv, row_maker

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "azure"
EA_SAMPLE = FIXTURES / "EA_ActualCost_Small.csv"

# An MCA actual-cost export's columns (camelCase), in a typical order.
MCA_HEADER = [
    "invoiceId",
    "billingAccountId",
    "billingAccountName",
    "billingProfileId",
    "subscriptionId",
    "subscriptionName",
    "date",
    "productName",
    "meterCategory",
    "meterSubCategory",
    "meterName",
    "quantity",
    "effectivePrice",
    "costInBillingCurrency",
    "paygCostInBillingCurrency",
    "billingCurrency",
    "chargeType",
    "publisherType",
    "publisherName",
    "pricingModel",
]

MCA_DEFAULTS = {
    "invoiceId": "",
    "billingAccountId": "ba-1:mca_2019",
    "billingAccountName": "Contoso",
    "billingProfileId": "bp-1",
    "subscriptionId": "sub-aaaa",
    "subscriptionName": "Production",
    "date": "2026-10-03",
    "productName": "Virtual Machines D2 v3",
    "meterCategory": "Virtual Machines",
    "meterSubCategory": "Dv3/DSv3 Series",
    "meterName": "D2 v3/D2s v3",
    "quantity": "1",
    "effectivePrice": "0.1",
    "costInBillingCurrency": "0.1",
    "paygCostInBillingCurrency": "0.12",
    "billingCurrency": "EUR",
    "chargeType": "Usage",
    "publisherType": "Azure",
    "publisherName": "Microsoft",
    "pricingModel": "OnDemand",
}


mca_row = row_maker(MCA_DEFAULTS, "MCA columns")
write_csv = csv_writer(MCA_HEADER)  # (path, rows, header=None): MCA by default


def copy_ea_sample(folder: Path, name: str = "EA_ActualCost_Small.csv") -> Path:
    return copy(EA_SAMPLE, folder, name)


def read_ea_sample() -> tuple[list[str], list[dict[str, str]]]:
    """The EA sample's header and rows, read with the csv module (BOM stripped)."""
    return read_csv(EA_SAMPLE, "utf-8-sig")
