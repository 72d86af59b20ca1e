"""Small legacy CUR files for the aws provider's tests, written with csv and gzip."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from tests.providers.export_files import csv_bytes, gzip_by_name, with_defaults, write_bytes

# Short names for the columns a test sets, so rows read like the bill they describe.
COLUMNS = {
    "line_item_id": "identity/LineItemId",
    "invoice": "bill/InvoiceId",
    "entity": "bill/BillingEntity",
    "payer": "bill/PayerAccountId",
    "period_start": "bill/BillingPeriodStartDate",
    "period_end": "bill/BillingPeriodEndDate",
    "account": "lineItem/UsageAccountId",
    "type": "lineItem/LineItemType",
    "start": "lineItem/UsageStartDate",
    "end": "lineItem/UsageEndDate",
    "product": "lineItem/ProductCode",
    "usage_type": "lineItem/UsageType",
    "amount": "lineItem/UsageAmount",
    "currency": "lineItem/CurrencyCode",
    "cost": "lineItem/UnblendedCost",
    "legal": "lineItem/LegalEntity",
    "product_name": "product/ProductName",
    "public_cost": "pricing/publicOnDemandCost",
}
HEADER = list(COLUMNS.values())

DEFAULTS = {
    "line_item_id": "li-1",
    "invoice": "EUINUS26-000001",
    "entity": "AWS",
    "payer": "900000000001",
    "period_start": "2026-10-01T00:00:00Z",
    "period_end": "2026-11-01T00:00:00Z",
    "account": "111111111111",
    "type": "Usage",
    "start": "2026-10-03T00:00:00Z",
    "end": "2026-10-03T01:00:00Z",
    "product": "AmazonEC2",
    "usage_type": "USE1-BoxUsage:m5.large",
    "amount": "1",
    "currency": "USD",
    "cost": "1.0000000000",
    "legal": "Amazon Web Services, Inc.",
    "product_name": "Amazon Elastic Compute Cloud",
    "public_cost": "",
}

NOVEMBER = {
    "period_start": "2026-11-01T00:00:00Z",
    "period_end": "2026-12-01T00:00:00Z",
    "start": "2026-11-05T00:00:00Z",
    "end": "2026-11-05T01:00:00Z",
}


def row(**values: str) -> dict[str, str]:
    """A CUR row (full column names) from the defaults overridden by short names."""
    merged = with_defaults(DEFAULTS, values, "short column names")
    return {COLUMNS[key]: value for key, value in merged.items()}


def write_cur(
    path: Path, rows: Iterable[Mapping[str, str]], header: Sequence[str] = HEADER
) -> Path:
    """Write ``rows`` under ``header`` as CSV, gzip-compressed when ``path`` ends in .gz."""
    return write_bytes(path, gzip_by_name(path, csv_bytes(header, rows, extras="ignore")))
