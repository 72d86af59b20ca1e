"""The FOCUS columns this plugin reads (1.0 to 1.2) and the header check."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from connector.plugin_kit.columns import Column, Expected, match_header
from connector.plugin_kit.columns import FileHeader as Header
from connector.plugin_kit.file_formats import FOCUS

TEXT, DECIMAL, DATE, CURRENCY = "text", "decimal", "date", "currency"
CATEGORY, CHARGE_CLASS, FREQUENCY = "category", "class", "frequency"

# ``required`` columns must be in every file; ``not_empty`` ones must also have a value
# (not empty, not the literal ``NULL``) on every row.
COLUMNS: tuple[Column, ...] = (
    Column(("BillingAccountId",), "billing_account", required=True, not_empty=True),
    Column(("SubAccountId",), "sub_account", required=True),
    Column(("ChargeCategory",), "category", CATEGORY, required=True, not_empty=True),
    Column(("ChargeClass",), "charge_class", CHARGE_CLASS),
    Column(("ChargeFrequency",), "frequency", FREQUENCY),
    Column(("ServiceName",), "service_name", required=True),
    Column(("ServiceCategory",), "service_category"),
    Column(("SkuId",), "sku_id"),
    Column(("SkuPriceId",), "sku_price_id"),
    Column(("BilledCost",), "billed_cost", DECIMAL, required=True, not_empty=True),
    Column(("ListCost",), "list_cost", DECIMAL),
    Column(("BillingCurrency",), "currency", CURRENCY, required=True, not_empty=True),
    Column(("ChargePeriodStart",), "charge_start", DATE, required=True, not_empty=True),
    Column(("ChargePeriodEnd",), "charge_end", DATE, required=True, not_empty=True),
    Column(("BillingPeriodStart",), "period_start", DATE, required=True, not_empty=True),
    Column(("BillingPeriodEnd",), "period_end", DATE, required=True, not_empty=True),
    Column(("PricingQuantity",), "pricing_quantity", DECIMAL),
    Column(("ConsumedQuantity",), "consumed_quantity", DECIMAL),
    Column(("PublisherName",), "publisher_name"),  # 1.0, 1.1
    Column(("ProviderName",), "provider_name"),  # 1.0, 1.1 (deprecated in 1.2)
    Column(("ServiceProviderName",), "service_provider_name"),  # 1.2
    Column(("HostProviderName",), "host_provider_name"),  # 1.2
    Column(("InvoiceIssuerName",), "invoice_issuer_name"),
    Column(("InvoiceId",), "invoice_id"),  # 1.2
)

EXPECTED_EXPORT = Expected(
    format=FOCUS,
    export="a FOCUS export",
    header="a FOCUS header",
    example="a FOCUS 1.0-1.2 export",
    provider="focus",
)


def parse_header(path: Path, names: Sequence[str]) -> Header:
    """Locate the columns read (in a CSV header line or a Parquet schema), or raise
    :class:`SourceDataError` naming every missing one."""
    return match_header(path, names, COLUMNS, EXPECTED_EXPORT)
