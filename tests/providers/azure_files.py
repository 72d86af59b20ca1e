"""Small Azure cost-details exports for the azure provider's tests, written with csv."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path

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


def mca_row(**values: str) -> dict[str, str]:
    unknown = set(values) - set(MCA_DEFAULTS)
    assert not unknown, f"unknown MCA columns {unknown}"
    return {**MCA_DEFAULTS, **values}


def write_csv(
    path: Path, rows: Iterable[Mapping[str, str]], header: list[str] | None = None
) -> Path:
    """Write rows (dicts) under ``header`` (MCA by default) as a CSV file."""
    header = header or MCA_HEADER
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def copy_ea_sample(folder: Path, name: str = "EA_ActualCost_Small.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(EA_SAMPLE, folder / name))


def read_ea_sample() -> tuple[list[str], list[dict[str, str]]]:
    """The EA sample's header and rows, read with the csv module (BOM stripped)."""
    with open(EA_SAMPLE, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows
