"""The Partner Center reconciliation fields the ``azure-csp`` provider reads, and their values.

Names match case-insensitively, so the portal's CSV header (``PCToBCExchangeRate``,
``MPNID``) and the reconciliation API's JSON attributes (``pcToBCExchangeRate``,
``mpnId``) are the same field. Values come as CSV text or JSON values; JSON numbers
arrive as ``Decimal`` (the files are parsed with ``parse_float=Decimal``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from connector.plugin_kit import values
from connector.plugin_kit.columns import Column, Expected, check_required, locate
from connector.plugin_kit.file_formats import AZURE_CSP

TEXT, DECIMAL, DATE, CURRENCY = "text", "decimal", "date", "currency"

# The fields read: accepted names (first found wins), alias and kind. ``required`` fields
# must be in every file; ``not_empty`` ones must also have a value on every row.
FIELDS: tuple[Column, ...] = (
    Column(("PartnerId",), "partner", required=True, not_empty=True),
    Column(("CustomerId",), "customer", required=True, not_empty=True),
    # Present (and empty) in unbilled files too: its value is what makes a period final.
    Column(("InvoiceNumber",), "invoice", required=True),
    Column(("ProductName",), "product_name", required=True),
    Column(("ChargeType",), "charge_type", required=True, not_empty=True),
    Column(("Subtotal",), "subtotal", DECIMAL, required=True, not_empty=True),
    Column(("TaxTotal",), "tax", DECIMAL, required=True),
    Column(("Currency", "BillingCurrency"), "currency", CURRENCY, required=True, not_empty=True),
    Column(("ChargeStartDate",), "charge_start", DATE, required=True, not_empty=True),
    Column(("ChargeEndDate",), "charge_end", DATE),
    Column(("OrderDate",), "order_date", DATE),
    Column(("OrderId",), "order_id"),
    Column(("SubscriptionId",), "subscription"),
    Column(("ProductId",), "product_id"),
    Column(("SkuId",), "sku_id"),
    Column(("SkuName",), "sku_name"),
    Column(("AvailabilityId",), "availability_id"),
    Column(("MeterDescription",), "meter_description"),
    Column(("UnitPrice",), "unit_price", DECIMAL),
    Column(("EffectiveUnitPrice",), "effective_unit_price", DECIMAL),
    Column(("Quantity",), "quantity", DECIMAL),
    Column(("BillableQuantity",), "billable_quantity", DECIMAL),
    Column(("PCToBCExchangeRate",), "exchange_rate", DECIMAL),
    Column(("PriceAdjustmentDescription",), "price_adjustment"),
    Column(("PublisherName",), "publisher_name"),
    Column(("BillingFrequency",), "billing_frequency"),
    Column(("ReferenceId",), "reference_id"),
)
BY_ALIAS = {f.alias: f for f in FIELDS}
REQUIRED = tuple(f for f in FIELDS if f.required)

DECIMAL_PATTERN = re.compile(values.DECIMAL_PATTERN)
# M/D/YYYY with a time after it, as the portal writes it (the export's own rule, not the kit's).
US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})( .*)?")
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})([T ].*)?")

EXPECTED = {
    DECIMAL: values.EXPECTED_DECIMAL,
    DATE: "a date like 10/3/2020 (M/D/YYYY) or 2020-10-03 (ISO 8601, time optional)",
    CURRENCY: values.EXPECTED_CURRENCY,
    TEXT: "a value",
}
EXPECTED_FILE = Expected(
    format=AZURE_CSP,
    export="a Partner Center invoice reconciliation file",
    header="a Partner Center invoice reconciliation header",
    example="a reconciliation file",
    provider="azure-csp",
    item="field",
)


@dataclass(frozen=True, slots=True)
class Layout:
    """Where each field read is in one file: alias -> the key (JSON) or position (CSV)."""

    path: Path
    names: tuple[str, ...]
    keys: dict[str, str]  # alias -> the name as the file spells it

    def name(self, alias: str) -> str:
        return self.keys.get(alias, BY_ALIAS[alias].names[0])


def resolve(path: Path, names: Sequence[str], where: str = "line 1 (the header)") -> Layout:
    """Locate the fields read among ``names``, or raise naming every missing required one."""
    names = tuple(str(n).strip() for n in names)
    positions = locate(names, FIELDS)
    check_required(path, names, positions, FIELDS, EXPECTED_FILE, where)
    return Layout(path=path, names=names, keys={alias: names[p] for alias, p in positions.items()})


def as_text(value: object) -> str:
    """A raw CSV or JSON value as stripped text (``None`` -> empty)."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value).strip()


def parse_decimal(value: object) -> Decimal | None:
    """An amount, exactly; ``None`` when the value is not a decimal number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    text = as_text(value)
    if not DECIMAL_PATTERN.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def parse_date(value: object) -> dt.date | None:
    """The date of ``M/D/YYYY[ time]`` or ``YYYY-MM-DD[Ttime]``, else ``None``."""
    text = as_text(value)
    try:
        if match := US_DATE.fullmatch(text):
            month, day, year = (int(match.group(i)) for i in (1, 2, 3))
            return dt.date(year, month, day)
        if match := ISO_DATE.fullmatch(text):
            return dt.date(*(int(match.group(i)) for i in (1, 2, 3)))
    except ValueError:
        return None
    return None


def valid_currency(value: object) -> bool:
    return values.valid_currency(as_text(value))
