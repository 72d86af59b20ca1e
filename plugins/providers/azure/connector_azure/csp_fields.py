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

from connector.contracts import SourceDataError
from connector.file_formats import AZURE_CSP, looks_like, unrecognised

TEXT, DECIMAL, DATE, CURRENCY = "text", "decimal", "date", "currency"


@dataclass(frozen=True, slots=True)
class Field:
    """One field read: its accepted names (first found wins), alias and kind.

    ``required`` fields must be in every file; ``not_empty`` ones must also have a value
    on every row.
    """

    names: tuple[str, ...]
    alias: str
    kind: str = TEXT
    required: bool = False
    not_empty: bool = False

    @property
    def label(self) -> str:
        return " / ".join(self.names)


FIELDS: tuple[Field, ...] = (
    Field(("PartnerId",), "partner", required=True, not_empty=True),
    Field(("CustomerId",), "customer", required=True, not_empty=True),
    # Present (and empty) in unbilled files too: its value is what makes a period final.
    Field(("InvoiceNumber",), "invoice", required=True),
    Field(("ProductName",), "product_name", required=True),
    Field(("ChargeType",), "charge_type", required=True, not_empty=True),
    Field(("Subtotal",), "subtotal", DECIMAL, required=True, not_empty=True),
    Field(("TaxTotal",), "tax", DECIMAL, required=True),
    Field(("Currency", "BillingCurrency"), "currency", CURRENCY, required=True, not_empty=True),
    Field(("ChargeStartDate",), "charge_start", DATE, required=True, not_empty=True),
    Field(("ChargeEndDate",), "charge_end", DATE),
    Field(("OrderDate",), "order_date", DATE),
    Field(("OrderId",), "order_id"),
    Field(("SubscriptionId",), "subscription"),
    Field(("ProductId",), "product_id"),
    Field(("SkuId",), "sku_id"),
    Field(("SkuName",), "sku_name"),
    Field(("AvailabilityId",), "availability_id"),
    Field(("MeterDescription",), "meter_description"),
    Field(("UnitPrice",), "unit_price", DECIMAL),
    Field(("EffectiveUnitPrice",), "effective_unit_price", DECIMAL),
    Field(("Quantity",), "quantity", DECIMAL),
    Field(("BillableQuantity",), "billable_quantity", DECIMAL),
    Field(("PCToBCExchangeRate",), "exchange_rate", DECIMAL),
    Field(("PriceAdjustmentDescription",), "price_adjustment"),
    Field(("PublisherName",), "publisher_name"),
    Field(("BillingFrequency",), "billing_frequency"),
    Field(("ReferenceId",), "reference_id"),
)
BY_ALIAS = {f.alias: f for f in FIELDS}
REQUIRED = tuple(f for f in FIELDS if f.required)

DECIMAL_PATTERN = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})( .*)?")
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})([T ].*)?")
CURRENCY_PATTERN = re.compile(r"[A-Z]{3}")

EXPECTED = {
    DECIMAL: "a decimal number like 12.3456",
    DATE: "a date like 10/3/2020 (M/D/YYYY) or 2020-10-03 (ISO 8601, time optional)",
    CURRENCY: "a three-letter ISO 4217 currency code in capitals like USD",
    TEXT: "a value",
}


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
    first: dict[str, str] = {}
    for name in names:
        first.setdefault(name.casefold(), name)
    keys: dict[str, str] = {}
    for field in FIELDS:
        for candidate in field.names:
            if candidate.casefold() in first:
                keys[field.alias] = first[candidate.casefold()]
                break
    missing = [f.label for f in REQUIRED if f.alias not in keys]
    if missing:
        kind = looks_like(names)
        if kind is not None and kind != AZURE_CSP:
            raise SourceDataError(
                f"{path}: this looks like {kind}, not a Partner Center invoice reconciliation "
                f"file; move it out of the azure-csp provider's folder (or narrow its pattern)"
            )
        if len(missing) == len(REQUIRED):
            raise SourceDataError(
                f"{path}: {where} is not a Partner Center invoice reconciliation header: "
                f"{unrecognised(names, 'a reconciliation file', missing)}"
            )
        raise SourceDataError(
            f"{path}: {where} lacks the required field(s) {', '.join(missing)}; a Partner "
            f"Center invoice reconciliation file must have all of "
            f"{', '.join(f.label for f in REQUIRED)} (names match in any case)"
        )
    return Layout(path=path, names=names, keys=keys)


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
    return bool(CURRENCY_PATTERN.fullmatch(as_text(value)))
