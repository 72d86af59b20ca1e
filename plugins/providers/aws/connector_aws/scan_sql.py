"""The SQL that reads CUR files into our column aliases and sums them to the charge grain.

Every file is scanned by DuckDB's CSV or Parquet reader with the columns we read cast
in the scan (DECIMAL(38,12) money, DATE dates), so a malformed value fails the query.
"""

from __future__ import annotations

from collections.abc import Sequence

from connector.contracts import BillingPeriod
from connector.plugin_kit.sql import identifier, literal, read_csv_text
from connector_aws.columns import (
    COLUMNS,
    CSV,
    DECIMAL,
    PARQUET,
    PRODUCT_MAP_ALIAS,
    PRODUCT_NAME_KEY,
    VARCHAR,
    Header,
)

# The charge grain.
GRAIN = (
    "payer_account",
    "usage_account",
    "line_item_type",
    "product_code",
    "product_name",
    "usage_type",
    "billing_entity",
    "legal_entity",
    "currency",
    "invoice_id",
    "reservation_fee",
)

# Which files feed which period is tracked per group in 63-bit masks (bit_or), without a
# second scan; 63 keeps every mask a positive BIGINT.
MASK_BITS = 63
# A Parquet row's ``row_ref`` is its file's number above its row number in the file.
ROW_BITS = 40


def _money(source: str) -> str:
    """SQL for a money column as DECIMAL(38,12), whatever type the file holds it in.

    Text (CSV, or VARCHAR in Parquet) and DECIMAL are cast exactly. Real CUR 2.0 Parquet
    exports hold costs as DOUBLE, which are cast directly, never through VARCHAR: DuckDB's
    CAST(DOUBLE AS DECIMAL(38,12)) rounds the binary double to the nearest 12th decimal
    place, which is what AWS's own console shows for these values. Below 4,096 the
    double's spacing is under 1e-12, so this gives back exactly the (at most 10) decimal
    places AWS computed; above it the 12th place can carry the double's own error (a few
    1e-12 per row), far below a cent and never a float in Python.
    """
    return f"CAST({source} AS {DECIMAL})"


def product_name_sql(header: Header) -> str:
    """SQL for the product's name: its own column, or the CUR 2.0 product map's key."""
    if header.has("product_name"):
        source = "product_name" if header.kind == CSV else _parquet_column(header, "product_name")
        return (
            source
            if header.types.get("product_name", VARCHAR) == VARCHAR
            else (f"CAST({source} AS VARCHAR)")
        )
    if not header.has(PRODUCT_MAP_ALIAS):
        return "NULL::VARCHAR"
    key = f"'{PRODUCT_NAME_KEY}'"
    if header.kind == PARQUET and header.types.get(PRODUCT_MAP_ALIAS, "").startswith("MAP("):
        return f"CAST({_parquet_column(header, PRODUCT_MAP_ALIAS)}[{key}] AS VARCHAR)"
    source = PRODUCT_MAP_ALIAS if header.kind == CSV else _parquet_column(header, PRODUCT_MAP_ALIAS)
    # In CSV the map is a JSON object; a value that is not one gives no name rather than
    # failing the report over a column we read only for a label.
    return (
        f"CASE WHEN json_valid({source}) "
        f"THEN json_extract_string({source}, '$.{PRODUCT_NAME_KEY}') END"
    )


def _parquet_column(header: Header, alias: str) -> str:
    return identifier(header.names[header.positions[alias]])


def _projection(header: Header, file_no: int, mask_count: int, row_ref: bool) -> list[str]:
    """Our aliases from one file, cast to their types; absent optional columns as NULL.

    With ``row_ref`` (Parquet only), the product's name is left out and ``row_ref``
    says where each row is instead: the file's number above its row number in
    the file, in the lower :data:`ROW_BITS` (see :mod:`connector_aws.context_plan`).
    """
    projection = []
    for column in COLUMNS:
        alias = column.alias
        if alias == "product_name":
            if row_ref:
                projection.append(f"({file_no}::BIGINT << {ROW_BITS}) + file_row_number AS row_ref")
            else:
                projection.append(f"{product_name_sql(header)} AS product_name")
            continue
        if not header.has(alias):
            projection.append(f"NULL::{column.type} AS {alias}")
            continue
        source = alias if header.kind == CSV else _parquet_column(header, alias)
        source_type = header.types.get(alias, VARCHAR)
        if column.type == DECIMAL:
            projection.append(f"{_money(source)} AS {alias}")
        elif column.type != source_type:
            projection.append(f"CAST({source} AS {column.type}) AS {alias}")
        else:
            projection.append(f"{source} AS {alias}")
    for mask in range(mask_count):
        bit = 1 << (file_no % MASK_BITS) if file_no // MASK_BITS == mask else 0
        projection.append(f"{bit}::BIGINT AS file_mask_{mask}")
    return projection


def _scan(header: Header, file_no: int, mask_count: int, row_ref: bool = False) -> str:
    """``SELECT`` over one file's ``read_csv`` / ``read_parquet`` giving our aliases."""
    projection = _projection(header, file_no, mask_count, row_ref)
    if header.kind == PARQUET:
        # Parquet is typed: the columns are read by name and cast from their own types.
        numbered = ", file_row_number = true" if row_ref else ""
        return (
            f"SELECT {', '.join(projection)} "
            f"FROM read_parquet({literal(str(header.path))}{numbered})"
        )
    # Every CSV column is declared VARCHAR and ours are cast in SQL; DuckDB pushes those
    # casts into the reader, which parses the values in place (for a DATE it reads the
    # date and ignores what follows it, so only 2026-10-01 of 2026-10-01T00:00:00Z is
    # checked: all we use). Only the columns we read get names; the rest are positional
    # placeholders, so real CURs with hundreds of columns (and tag columns whose names
    # clash case-insensitively) read fine.
    return (
        f"SELECT {', '.join(projection)} "
        f"FROM {read_csv_text(header.path, len(header.names), header.positions)}"
    )


def mask_count(headers: Sequence[Header]) -> int:
    """How many file masks the aggregation carries (none for a single file)."""
    return (len(headers) + MASK_BITS - 1) // MASK_BITS if len(headers) > 1 else 0


# A Fee row naming a reservation is its upfront purchase: it must stay apart from other
# fees of the same usage type (see line_items.charge_frequency).
RESERVATION_FEE = "(line_item_type = 'Fee' AND coalesce(trim(reservation_arn), '') <> '')"

# What each group sums, and what it counts: an empty value reads as NULL, which sum()
# and min() would skip, and the counts show them.
SUMS = """
    sum(unblended_cost) AS billed_cost,
    sum(coalesce(public_cost, unblended_cost)) AS list_cost,
    coalesce(sum(usage_amount), 0) AS quantity,
    min(usage_start) AS usage_start,
    max(coalesce(usage_end, usage_start)) AS usage_end
"""
COUNTS = """
    count(*) AS row_count,
    count(unblended_cost) AS rows_with_cost,
    count(usage_start) AS rows_with_start
"""


def rows_sql(headers: Sequence[Header], period: BillingPeriod | None, row_ref: bool = False) -> str:
    """Every file's rows as our aliases plus ``reservation_fee``, in ``period`` if given."""
    masks = mask_count(headers)
    scans = "\nUNION ALL\n".join(
        _scan(header, file_no, masks, row_ref) for file_no, header in enumerate(headers)
    )
    where = "WHERE period_start = $start AND period_end = $end" if period is not None else ""
    return f"SELECT *, {RESERVATION_FEE} AS reservation_fee FROM ({scans}) AS cur {where}"


def file_masks_sql(headers: Sequence[Header]) -> str:
    """The ``bit_or`` of each file mask column, each with a leading comma."""
    return "".join(f", bit_or(file_mask_{m}) AS file_mask_{m}" for m in range(mask_count(headers)))


def aggregation_sql(headers: Sequence[Header], period: BillingPeriod | None) -> str:
    """The aggregation over all ``headers``' files, filtered to ``period`` when given."""
    return f"""
    SELECT period_start, period_end, {", ".join(GRAIN)}, {SUMS}, {COUNTS} {file_masks_sql(headers)}
    FROM ({rows_sql(headers, period)}) AS rows
    GROUP BY ALL
    """
