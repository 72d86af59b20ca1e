"""The one DuckDB pass that reads legacy CUR files and aggregates them to the charge grain.

Every file is scanned once by DuckDB's CSV reader with the columns we read cast in the
scan (DECIMAL(38,12) money, DATE dates), so a malformed value fails the query; empty
required values are counted and reported instead of being skipped or summed as zero.
The groups land in a temporary table; the checks on them, the per-period summary and
the charge rows are small queries over that table. Python never sees a CUR row.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from connector.contracts import BillingPeriod
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

# The daemon shares its host with the database and other tenants: cap what one ingest
# may take. 512 MB holds hundreds of thousands of groups; DuckDB spills beyond it.
MEMORY_LIMIT = "512MB"
THREADS = min(4, os.cpu_count() or 1)

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

# Required columns whose empty values (NULL) stay visible in the groups.
REQUIRED_KEYS = (
    "period_start",
    "period_end",
    "payer_account",
    "usage_account",
    "line_item_type",
    "currency",
)
# Required value columns with the count that shows an empty one: (alias, count column).
REQUIRED_VALUES = (("unblended_cost", "rows_with_cost"), ("usage_start", "rows_with_start"))

# What many charges of a period share; see CurAggregate.charge_rows.
CONTEXT = (
    "payer_account",
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

# DuckDB's DATE reads "26-10-01" as the year 26: dates outside these years are refused.
PLAUSIBLE_YEARS = (2000, 2199)
DATE_COLUMNS = ("period_start", "period_end", "usage_start", "usage_end")


@dataclass(frozen=True, slots=True)
class PeriodSummary:
    """One billing period found in the files."""

    period: BillingPeriod
    final: bool
    files: tuple[int, ...]  # indexes into the headers, in scan order


@dataclass(frozen=True, slots=True)
class GroupProblem:
    """A group that breaks a rule the typed read cannot enforce (one field is set)."""

    empty: tuple[str, ...] = ()  # aliases of required text columns with no value
    currency: str | None = None  # a currency code of the wrong shape
    date: tuple[str, dt.date] | None = None  # (alias, value) of an implausible date
    period: tuple[dt.date, dt.date] | None = None  # (start, end) with end not after start


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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


def _product_name(header: Header) -> str:
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
    return _quoted(header.names[header.positions[alias]])


def _projection(header: Header, file_no: int, mask_count: int) -> list[str]:
    """Our aliases from one file, cast to their types; absent optional columns as NULL."""
    projection = []
    for column in COLUMNS:
        alias = column.alias
        if alias == "product_name":
            projection.append(f"{_product_name(header)} AS product_name")
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


def _scan(header: Header, file_no: int, mask_count: int) -> str:
    """``SELECT`` over one file's ``read_csv`` / ``read_parquet`` giving our aliases."""
    projection = _projection(header, file_no, mask_count)
    if header.kind == PARQUET:
        # Parquet is typed: the columns are read by name and cast from their own types.
        return f"SELECT {', '.join(projection)} FROM read_parquet({_literal(str(header.path))})"
    # Every CSV column is declared VARCHAR and ours are cast in SQL; DuckDB pushes those
    # casts into the reader, which parses the values in place (for a DATE it reads the
    # date and ignores what follows it, so only 2026-10-01 of 2026-10-01T00:00:00Z is
    # checked: all we use). Only the columns we read get names; the rest are positional
    # placeholders, so real CURs with hundreds of columns (and tag columns whose names
    # clash case-insensitively) read fine.
    alias_at = {position: alias for alias, position in header.positions.items()}
    spec = ", ".join(
        f"{_literal(alias_at.get(i, f'c{i}'))}: 'VARCHAR'" for i in range(len(header.names))
    )
    compression = "gzip" if header.path.name.lower().endswith(".gz") else "none"
    return (
        f"SELECT {', '.join(projection)} FROM read_csv({_literal(str(header.path))}, "
        f"header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        f"compression = {_literal(compression)}, columns = {{{spec}}})"
    )


def mask_count(headers: Sequence[Header]) -> int:
    """How many file masks the aggregation carries (none for a single file)."""
    return (len(headers) + MASK_BITS - 1) // MASK_BITS if len(headers) > 1 else 0


def aggregation_sql(headers: Sequence[Header], period: BillingPeriod | None) -> str:
    """The aggregation over all ``headers``' files, filtered to ``period`` when given."""
    masks = mask_count(headers)
    scans = "\nUNION ALL\n".join(
        _scan(header, file_no, masks) for file_no, header in enumerate(headers)
    )
    grain = ", ".join(g for g in GRAIN if g != "reservation_fee")
    file_masks = "".join(f", bit_or(file_mask_{m}) AS file_mask_{m}" for m in range(masks))
    where = "WHERE period_start = $start AND period_end = $end" if period is not None else ""
    return f"""
    SELECT
        period_start, period_end, {grain},
        -- A Fee row naming a reservation is its upfront purchase: it must stay apart from
        -- other fees of the same usage type (see line_items.charge_frequency).
        (line_item_type = 'Fee' AND coalesce(trim(reservation_arn), '') <> '') AS reservation_fee,
        sum(unblended_cost) AS billed_cost,
        sum(coalesce(public_cost, unblended_cost)) AS list_cost,
        coalesce(sum(usage_amount), 0) AS quantity,
        min(usage_start) AS usage_start,
        max(coalesce(usage_end, usage_start)) AS usage_end,
        -- An empty value reads as NULL, which sum() and min() would skip: count them.
        count(*) AS row_count,
        count(unblended_cost) AS rows_with_cost,
        count(usage_start) AS rows_with_start
        {file_masks}
    FROM ({scans}) AS cur
    {where}
    GROUP BY ALL
    """


class CurAggregate:
    """The aggregated groups of one fetch, held in a DuckDB temporary table.

    Use as a context manager; entering runs the scan and raises DuckDB's error when a
    file cannot be read as typed.
    """

    def __init__(self, headers: Sequence[Header], period: BillingPeriod | None) -> None:
        self.headers = headers
        self.period = period
        self._spill: tempfile.TemporaryDirectory[str] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def __enter__(self) -> CurAggregate:
        self._spill = tempfile.TemporaryDirectory(prefix="connector-aws-")
        config = {
            "memory_limit": MEMORY_LIMIT,
            "threads": str(THREADS),
            "temp_directory": self._spill.name,
            # Order of groups is irrelevant; not keeping it saves memory and time.
            "preserve_insertion_order": "false",
        }
        try:
            self._con = duckdb.connect(":memory:", config=config)
            self._con.execute("SET enable_progress_bar = false")  # a daemon has no terminal
            # Parquet CURs hold TIMESTAMP WITH TIME ZONE: their date is the UTC date.
            self._con.execute("SET TimeZone = 'UTC'")
            params = None
            if self.period is not None:
                params = {"start": self.period.start, "end": self.period.end}
            self._con.execute(
                "CREATE TEMP TABLE charge_groups AS " + aggregation_sql(self.headers, self.period),
                params,
            )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._spill is not None:
            self._spill.cleanup()
            self._spill = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        assert self._con is not None, "use CurAggregate as a context manager"
        return self._con

    def first_problem(self) -> GroupProblem | None:
        """A group with an empty required value, a malformed currency code, an
        implausible date or a billing period that ends before it starts, else ``None``."""
        for alias in REQUIRED_KEYS:
            if self._first(f"SELECT 1 FROM charge_groups WHERE {alias} IS NULL"):
                return GroupProblem(empty=(alias,))
        for alias, count in REQUIRED_VALUES:
            if self._first(f"SELECT 1 FROM charge_groups WHERE {count} < row_count"):
                return GroupProblem(empty=(alias,))
        row = self._first(
            "SELECT currency FROM charge_groups WHERE NOT regexp_full_match(currency, '[A-Z]{3}')"
        )
        if row:
            return GroupProblem(currency=row[0])
        low, high = PLAUSIBLE_YEARS
        for alias in DATE_COLUMNS:
            row = self._first(
                f"SELECT {alias} FROM charge_groups "
                f"WHERE year({alias}) NOT BETWEEN {low} AND {high}"
            )
            if row:
                return GroupProblem(date=(alias, row[0]))
        row = self._first(
            "SELECT period_start, period_end FROM charge_groups WHERE period_end <= period_start"
        )
        if row:
            return GroupProblem(period=(row[0], row[1]))
        return None

    def _first(self, sql: str) -> tuple | None:
        return self.con.execute(sql + " LIMIT 1").fetchone()

    def periods(self) -> list[PeriodSummary]:
        """Every billing period in the groups, by start date, with its files."""
        masks = mask_count(self.headers)
        mask_sums = "".join(f", bit_or(file_mask_{m})" for m in range(masks))
        rows = self.con.execute(f"""
            SELECT period_start, period_end,
                   bool_and(coalesce(trim(invoice_id), '') <> '') {mask_sums}
            FROM charge_groups GROUP BY ALL ORDER BY period_start, period_end
        """).fetchall()
        summaries = []
        for start, end, final, *mask_values in rows:
            if masks:
                bits = sum(mask << (index * MASK_BITS) for index, mask in enumerate(mask_values))
                files = tuple(i for i in range(len(self.headers)) if bits >> i & 1)
            else:
                files = (0,)
            summaries.append(PeriodSummary(BillingPeriod(start, end), bool(final), files))
        return summaries

    def charge_rows(self, period: BillingPeriod) -> tuple[list[tuple], list[str], list[tuple]]:
        """The groups of ``period`` as ``(contexts, accounts, rows)``.

        What many charges share is fetched once: a context is a distinct combination of
        :data:`CONTEXT` (payer, line item type, product, usage type, seller, currency,
        invoice), and accounts are the distinct usage accounts. Each row is
        ``(context index, account index, billed, list, quantity, first day, last day)``.
        Python then converts small integers instead of a dozen strings per group, which
        halves the fetch. Money comes back as text for ``Decimal``: exact, and several
        times faster than the driver's own DECIMAL conversion.
        """
        params = {"start": period.start, "end": period.end}
        contexts = self._dictionary("contexts", CONTEXT, params)
        accounts = [
            account for (account,) in self._dictionary("accounts", ("usage_account",), params)
        ]
        same_context = " AND ".join(f"g.{c} IS NOT DISTINCT FROM x.{c}" for c in CONTEXT)
        rows = self.con.execute(
            f"""
            SELECT x.id, a.id,
                   CAST(g.billed_cost AS VARCHAR), CAST(g.list_cost AS VARCHAR),
                   CAST(g.quantity AS VARCHAR), g.usage_start, g.usage_end
            FROM charge_groups AS g
            JOIN contexts AS x ON {same_context}
            JOIN accounts AS a ON g.usage_account = a.usage_account
            WHERE g.period_start = $start AND g.period_end = $end
            """,
            params,
        ).fetchall()
        return contexts, accounts, rows

    def _dictionary(self, table: str, columns: Sequence[str], params: dict) -> list[tuple]:
        """Number the distinct ``columns`` of a period's groups into ``table`` (``id``
        from 0) and return them in that order."""
        names = ", ".join(columns)
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT row_number() OVER () - 1 AS id, *
            FROM (SELECT DISTINCT {names} FROM charge_groups
                  WHERE period_start = $start AND period_end = $end)
            """,
            params,
        )
        return self.con.execute(f"SELECT {names} FROM {table} ORDER BY id").fetchall()
