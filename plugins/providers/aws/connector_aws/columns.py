"""The CUR columns this plugin reads, in both spellings, and the checks on a file's header.

A legacy Cost and Usage Report names its columns ``lineItem/UnblendedCost``; CUR 2.0
(AWS Data Exports) and the Parquet flavour of the legacy CUR name them in snake_case,
``line_item_unblended_cost``. Both carry the same values for the columns read here, so
one table maps each column's two spellings to one SQL alias.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from connector.contracts import SourceDataError
from connector.plugin_kit.columns import first_positions
from connector.plugin_kit.file_formats import looks_like, unrecognised

DECIMAL = "DECIMAL(38,12)"  # 12 places: CUR costs carry up to 10, both survive exactly
# Only the date of a CUR date-time is used (2026-10-01T00:00:00Z -> 2026-10-01), and
# casting to DATE is cheaper than to TIMESTAMP on millions of rows.
DATE = "DATE"
VARCHAR = "VARCHAR"

LEGACY = "legacy CUR"
CUR2 = "CUR 2.0"
CSV = "csv"
PARQUET = "parquet"


@dataclass(frozen=True, slots=True)
class Column:
    """One CUR column: its legacy and snake_case names, its alias in SQL, its DuckDB type.

    A required column must be in every file's header, and have a value on every row
    except the product code and usage type, which AWS leaves empty on some lines.
    """

    name: str
    snake: str
    alias: str
    type: str = VARCHAR
    required: bool = True


COLUMNS: tuple[Column, ...] = (
    Column("bill/BillingPeriodStartDate", "bill_billing_period_start_date", "period_start", DATE),
    Column("bill/BillingPeriodEndDate", "bill_billing_period_end_date", "period_end", DATE),
    Column("bill/PayerAccountId", "bill_payer_account_id", "payer_account"),
    Column("lineItem/UsageAccountId", "line_item_usage_account_id", "usage_account"),
    Column("lineItem/LineItemType", "line_item_line_item_type", "line_item_type"),
    Column("lineItem/ProductCode", "line_item_product_code", "product_code"),
    Column("lineItem/UsageType", "line_item_usage_type", "usage_type"),
    Column("lineItem/UnblendedCost", "line_item_unblended_cost", "unblended_cost", DECIMAL),
    Column("lineItem/CurrencyCode", "line_item_currency_code", "currency"),
    Column("lineItem/UsageStartDate", "line_item_usage_start_date", "usage_start", DATE),
    Column("lineItem/UsageEndDate", "line_item_usage_end_date", "usage_end", DATE, False),
    Column("lineItem/UsageAmount", "line_item_usage_amount", "usage_amount", DECIMAL, False),
    Column(
        "pricing/publicOnDemandCost", "pricing_public_on_demand_cost", "public_cost", DECIMAL, False
    ),
    Column("product/ProductName", "product_product_name", "product_name", required=False),
    Column("bill/BillingEntity", "bill_billing_entity", "billing_entity", required=False),
    Column("lineItem/LegalEntity", "line_item_legal_entity", "legal_entity", required=False),
    Column("bill/InvoiceId", "bill_invoice_id", "invoice_id", required=False),
    Column(
        "reservation/ReservationARN",
        "reservation_reservation_a_r_n",
        "reservation_arn",
        required=False,
    ),
)
BY_ALIAS = {c.alias: c for c in COLUMNS}
REQUIRED = tuple(c.name for c in COLUMNS if c.required)
REQUIRED_SNAKE = tuple(c.snake for c in COLUMNS if c.required)

# CUR 2.0 has no product_product_name column: the product's attributes are one MAP column
# (a JSON object in CSV), and the name is its "product_name" key.
PRODUCT_MAP = "product"
PRODUCT_MAP_ALIAS = "product_map"
PRODUCT_NAME_KEY = "product_name"

# Columns that give other providers' exports away, for a message that says what the file is.
_FOCUS_MARKERS = {"BilledCost", "ChargeCategory", "ChargePeriodStart", "BillingPeriodStart"}
_AZURE_MARKERS = {
    "costinbillingcurrency",
    "metercategory",
    "subscriptionid",
    "meterid",
    "resourcegroup",
    "pretaxcost",
}


@dataclass(frozen=True, slots=True)
class Header:
    """A CUR file's header: every column's name, and where each column we read is.

    :param label: how messages name the file (``s3://bucket/key`` for a downloaded one).
    :param flavour: :data:`LEGACY` (``lineItem/...`` names) or :data:`CUR2` (snake_case).
    :param kind: :data:`CSV` (also .csv.gz) or :data:`PARQUET`.
    :param types: DuckDB type of every column we read, by alias (Parquet only).
    """

    path: Path
    names: tuple[str, ...]
    positions: dict[str, int]  # alias -> 0-based position; absent optional columns missing
    label: str = ""
    flavour: str = LEGACY
    kind: str = CSV
    types: Mapping[str, str] = field(default_factory=dict)

    def has(self, alias: str) -> bool:
        return alias in self.positions

    @property
    def shown(self) -> str:
        """The file's name in messages."""
        return self.label or str(self.path)

    def column_name(self, alias: str) -> str:
        """The column's name as this file spells it."""
        if alias == PRODUCT_MAP_ALIAS:
            return PRODUCT_MAP
        column = BY_ALIAS[alias]
        return column.name if self.flavour == LEGACY else column.snake

    def where(self, line: int) -> str:
        """``line 7`` of a CSV file (the header is line 1), ``row 6`` of a Parquet file."""
        return f"row {line}" if self.kind == PARQUET else f"line {line}"


def other_format(names: Sequence[str]) -> str | None:
    """What a header that is not a CUR looks like, e.g. ``a FOCUS export``, if we can tell."""
    if len(_FOCUS_MARKERS.intersection(names)) >= 2:
        return "a FOCUS cost and usage export (columns like BilledCost, ChargePeriodStart)"
    if len(_AZURE_MARKERS.intersection(n.lower() for n in names)) >= 2:
        return (
            "an Azure cost export (columns like SubscriptionId, MeterCategory, "
            "CostInBillingCurrency); configure it under the azure provider"
        )
    return None


def parse_header(
    path: Path,
    names: Sequence[str],
    *,
    label: str = "",
    kind: str = CSV,
    types: Mapping[str, str] | None = None,
) -> Header:
    """Check a header and locate the columns read, or raise :class:`SourceDataError`.

    Accepts the legacy spelling and the snake_case one (CUR 2.0, Parquet). Raises for a
    header with no CUR columns at all (saying which other format it looks like, when it
    does) and for missing required columns (all of them named at once).
    """
    names = tuple(n.strip() for n in names)
    shown = label or str(path)
    where = "the schema" if kind == PARQUET else "line 1 (the header)"
    # Names match exactly: a real CUR repeats columns differing only by case (resource
    # tags), and the first of the same name wins.
    first = first_positions(names, fold=False)
    missing_legacy = [n for n in REQUIRED if n not in first]
    missing_snake = [n for n in REQUIRED_SNAKE if n not in first]
    flavour = LEGACY if len(missing_legacy) <= len(missing_snake) else CUR2
    missing, required = (
        (missing_legacy, REQUIRED) if flavour == LEGACY else (missing_snake, REQUIRED_SNAKE)
    )
    if len(missing) == len(required):
        other = other_format(names) or looks_like(names)
        what = f"it looks like {other}" if other else unrecognised(names, f"a {flavour}", missing)
        raise SourceDataError(
            f"{shown}: {where} is not an AWS Cost and Usage Report header ({what}); a legacy "
            f"CUR has columns such as bill/PayerAccountId,lineItem/UsageAccountId and a "
            f"CUR 2.0 export bill_payer_account_id,line_item_usage_account_id"
        )
    if missing:
        raise SourceDataError(
            f"{shown}: {where} lacks the required column(s) {', '.join(missing)}; a {flavour} "
            f"file must have all of {', '.join(required)}"
        )
    positions: dict[str, int] = {}
    for column in COLUMNS:
        name = column.name if flavour == LEGACY else column.snake
        if name in first:
            positions[column.alias] = first[name]
    if flavour == CUR2 and "product_name" not in positions and PRODUCT_MAP in first:
        positions[PRODUCT_MAP_ALIAS] = first[PRODUCT_MAP]
    typed = {alias: (types or {}).get(names[pos], VARCHAR) for alias, pos in positions.items()}
    return Header(
        path=path,
        names=names,
        positions=positions,
        label=label,
        flavour=flavour,
        kind=kind,
        types=typed if kind == PARQUET else {},
    )
