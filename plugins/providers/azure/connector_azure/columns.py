"""The cost-details columns this plugin reads (EA and MCA spellings) and the header check."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from connector.plugin_kit.columns import Column, Expected, match_header
from connector.plugin_kit.columns import FileHeader as Header
from connector.plugin_kit.file_formats import AZURE_COST

DECIMAL = "DECIMAL(38,12)"
DATE = "DATE"

# Names are matched case-insensitively, so the EA spelling (``CostInBillingCurrency``)
# and the MCA one (``costInBillingCurrency``) are the same column; the first name found
# wins. ``required`` columns must be in every file's header; ``not_empty`` ones must
# also have a value on every row.
COLUMNS: tuple[Column, ...] = (
    Column(("BillingAccountId",), "billing_account", required=True, not_empty=True),
    Column(("SubscriptionId",), "subscription", required=True),
    Column(("Date",), "charge_date", DATE, required=True, not_empty=True),
    Column(("MeterCategory",), "meter_category", required=True),
    # The EA v2 sample names the cost "Cost" and the currency "BillingCurrency".
    Column(("CostInBillingCurrency", "Cost"), "cost", DECIMAL, required=True, not_empty=True),
    Column(("BillingCurrencyCode", "BillingCurrency"), "currency", required=True, not_empty=True),
    Column(("ChargeType",), "charge_type", required=True, not_empty=True),
    Column(("MeterSubCategory",), "meter_subcategory"),
    Column(("MeterName",), "meter_name"),
    Column(("PartNumber",), "part_number"),
    Column(("ProductName", "Product"), "product"),
    Column(("Quantity",), "quantity", DECIMAL),
    Column(("PayGPrice",), "payg_price", DECIMAL),
    Column(("PaygCostInBillingCurrency",), "payg_cost", DECIMAL),
    Column(("PublisherType",), "publisher_type"),
    Column(("PublisherName",), "publisher_name"),
    # MCA: filled once the invoice exists (finality, the charge's invoice id).
    Column(("InvoiceId",), "invoice_id"),
    # Reservation / SavingsPlan usage with a cost marks an amortized-cost export.
    Column(("PricingModel",), "pricing_model"),
)
BY_ALIAS = {c.alias: c for c in COLUMNS}

EXPECTED_EXPORT = Expected(
    format=AZURE_COST,
    export="an Azure EA / MCA cost-details export",
    header="an Azure cost-details header",
    example="an EA or MCA actual-cost export",
    provider="azure",
    must="an Azure cost-details export",
    header_where="line 1",
)


def parse_header(path: Path, names: Sequence[str]) -> Header:
    """Locate the columns read, or raise :class:`SourceDataError` naming every missing one."""
    return match_header(path, names, COLUMNS, EXPECTED_EXPORT)
