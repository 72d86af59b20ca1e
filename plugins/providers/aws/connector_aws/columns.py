"""The legacy CUR columns this plugin reads, and the checks on a file's header line."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from connector.contracts import SourceDataError

DECIMAL = "DECIMAL(38,12)"  # 12 places: CUR costs carry up to 10, both survive exactly
# Only the date of a CUR date-time is used (2026-10-01T00:00:00Z -> 2026-10-01), and
# casting to DATE is cheaper than to TIMESTAMP on millions of rows.
DATE = "DATE"
VARCHAR = "VARCHAR"


@dataclass(frozen=True, slots=True)
class Column:
    """One CUR column: its name in the file, its alias in SQL and its DuckDB type.

    A required column must be in every file's header, and have a value on every row
    except ``lineItem/ProductCode`` and ``lineItem/UsageType``, which AWS leaves empty
    on some lines.
    """

    name: str
    alias: str
    type: str = VARCHAR
    required: bool = True


COLUMNS: tuple[Column, ...] = (
    Column("bill/BillingPeriodStartDate", "period_start", DATE),
    Column("bill/BillingPeriodEndDate", "period_end", DATE),
    Column("bill/PayerAccountId", "payer_account"),
    Column("lineItem/UsageAccountId", "usage_account"),
    Column("lineItem/LineItemType", "line_item_type"),
    Column("lineItem/ProductCode", "product_code"),
    Column("lineItem/UsageType", "usage_type"),
    Column("lineItem/UnblendedCost", "unblended_cost", DECIMAL),
    Column("lineItem/CurrencyCode", "currency"),
    Column("lineItem/UsageStartDate", "usage_start", DATE),
    Column("lineItem/UsageEndDate", "usage_end", DATE, required=False),
    Column("lineItem/UsageAmount", "usage_amount", DECIMAL, required=False),
    Column("pricing/publicOnDemandCost", "public_cost", DECIMAL, required=False),
    Column("product/ProductName", "product_name", required=False),
    Column("bill/BillingEntity", "billing_entity", required=False),
    Column("lineItem/LegalEntity", "legal_entity", required=False),
    Column("bill/InvoiceId", "invoice_id", required=False),
)
BY_ALIAS = {c.alias: c for c in COLUMNS}
REQUIRED = tuple(c.name for c in COLUMNS if c.required)

# CUR 2.0 (AWS Data Exports) and the Parquet flavour of CUR name columns like this.
_CUR2_MARKERS = ("line_item_line_item_type", "line_item_usage_account_id", "bill_payer_account_id")


@dataclass(frozen=True, slots=True)
class Header:
    """A CUR file's header: every column's name, and where each column we read is."""

    path: Path
    names: tuple[str, ...]
    positions: dict[str, int]  # alias -> 0-based position; absent optional columns missing

    def has(self, alias: str) -> bool:
        return alias in self.positions


def parse_header(path: Path, names: Sequence[str]) -> Header:
    """Check a header line and locate the columns read, or raise :class:`SourceDataError`.

    Raises for a CUR 2.0 / Data Exports file, for a header with no CUR columns at all
    (not a CUR file), and for missing required columns (all of them named at once).
    """
    names = tuple(n.strip() for n in names)
    if any(n in _CUR2_MARKERS for n in names):
        raise SourceDataError(
            f"{path}: this is a CUR 2.0 (AWS Data Exports) file: its columns are snake_case "
            f"(line_item_line_item_type ...). This version of the aws provider reads only "
            f"legacy Cost and Usage Reports, whose columns look like lineItem/LineItemType; "
            f"deliver a legacy CUR (CSV or CSV.gz) to this folder instead"
        )
    positions: dict[str, int] = {}
    first_position = {}
    for index, name in enumerate(names):
        # A real CUR can repeat a column (resource tags differing only by case); the first wins.
        first_position.setdefault(name, index)
    for column in COLUMNS:
        if column.name in first_position:
            positions[column.alias] = first_position[column.name]
    missing = [name for name in REQUIRED if name not in first_position]
    if len(missing) == len(REQUIRED):
        shown = ",".join(names[:3]) + ("..." if len(names) > 3 else "")
        raise SourceDataError(
            f"{path}: line 1 is not a legacy CUR header (it starts {shown!r}); a legacy "
            f"Cost and Usage Report CSV starts with columns such as "
            f"identity/LineItemId,bill/PayerAccountId,lineItem/UsageAccountId"
        )
    if missing:
        raise SourceDataError(
            f"{path}: line 1 (the header) lacks the required column(s) {', '.join(missing)}; "
            f"a legacy CUR must have all of {', '.join(REQUIRED)}"
        )
    return Header(path=path, names=names, positions=positions)
