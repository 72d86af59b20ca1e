"""The two context plans: aggregate by account and context, then name the contexts.

Grouping millions of rows on thirteen keys costs DuckDB more than reading the file:
each row's keys are hashed and, on a match, compared one by one. Most of those keys
are what many groups share (period, payer, line item type, product, usage type,
seller, currency, invoice): a *context*, of which a CUR has a few thousand. So for
Parquet files, which are cheap to scan twice, the groups are made in two scans:

1. ``context_keys``: each distinct context with its first row and the counts that
   show empty values (:func:`contexts_sql`); a small hash table, so this scan is quick;
2. ``account_groups``: the sums per usage account and the hash of the context keys
   that vary (:func:`varying_keys`), two keys instead of thirteen
   (:func:`account_groups_sql`).

Two different contexts with the same 64-bit hash would merge their groups; the first
table shows it exactly (two of its rows with one hash), and then the one-scan plan runs
instead.

The product's name is not a key here: it is read from each context's first row, a
lookup of a few rows instead of a value per row (in CUR 2.0 it is a key of the
``product`` MAP column, which is expensive to read row by row). If AWS renames a product
within a period, the period's charges of that product carry the first name.

A CSV file is costly to read twice (a gzip stream is decompressed on one core), so
:func:`create_charge_groups_in_one_scan` makes both tables in one scan, as two grouping
sets of one ``GROUP BY``: the contexts by all their keys (the product's name among
them), and the sums per usage account and hash of every context key. On thirteen keys
the groups took about 900 bytes each, and a 20,000,000-row CUR of 1,000,000 groups
spilled past the scan's memory cap (``plugin_kit.scratch``): 47 s, against 7.4 s for a
quarter of it. The two sets peak at about half of that and take 34 s (both figures
under the 512 MB cap, on this project's benchmark data).

Two different contexts with the same 64-bit hash would merge their groups; the
context tables show it exactly (two of their rows with one hash), and then the
one-scan plan of thirteen keys (``scan_sql.aggregation_sql``) runs instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from connector.contracts import BillingPeriod
from connector.plugin_kit.sql import literal
from connector_aws.columns import Header
from connector_aws.scan_sql import (
    COUNTS,
    GRAIN,
    ROW_BITS,
    SUMS,
    file_masks_sql,
    product_name_sql,
    rows_sql,
)

# The billing period and the grain, but the usage account and the product name.
CONTEXT_KEYS = (
    "period_start",
    "period_end",
    *(key for key in GRAIN if key not in ("usage_account", "product_name")),
)


def context_hash(keys: Sequence[str], table: str = "") -> str:
    """SQL for a context's hash over ``keys`` (columns of ``table`` if given; a constant
    when no key is given)."""
    prefix = f"{table}." if table else ""
    return f"hash({', '.join(prefix + key for key in keys)})" if keys else "0::UBIGINT"


def contexts_sql(headers: Sequence[Header], period: BillingPeriod | None) -> str:
    return f"""
    SELECT {", ".join(CONTEXT_KEYS)}, min(row_ref) AS first_row, {COUNTS}
    FROM ({rows_sql(headers, period, row_ref=True)}) AS rows
    GROUP BY ALL
    """


def account_groups_sql(
    headers: Sequence[Header], period: BillingPeriod | None, keys: Sequence[str]
) -> str:
    return f"""
    SELECT {context_hash(keys)} AS context, usage_account, {SUMS} {file_masks_sql(headers)}
    FROM ({rows_sql(headers, period, row_ref=True)}) AS rows
    GROUP BY ALL
    """


# Every key of a context when it is read with the sums (the product's name included).
ALL_CONTEXT_KEYS = ("period_start", "period_end", *(key for key in GRAIN if key != "usage_account"))


def grouping_sets_sql(headers: Sequence[Header], period: BillingPeriod | None) -> str:
    """The contexts (``by_context = 1``) and the sums per context hash and usage account
    (``by_context = 0``), from one scan of ``headers``' files."""
    keys = ", ".join(ALL_CONTEXT_KEYS)
    return f"""
    SELECT grouping(usage_account) AS by_context, {keys}, usage_account, context,
           {SUMS}, {COUNTS} {file_masks_sql(headers)}
    FROM (SELECT *, {context_hash(ALL_CONTEXT_KEYS)} AS context
          FROM ({rows_sql(headers, period)}) AS cur) AS rows
    GROUP BY GROUPING SETS ((context, usage_account), (context, {keys}))
    """


def create_charge_groups_in_one_scan(
    con: duckdb.DuckDBPyConnection,
    headers: Sequence[Header],
    period: BillingPeriod | None,
    params: dict | None,
) -> bool:
    """Make the ``charge_groups`` table of :class:`~connector_aws.query.CurAggregate`,
    its columns as ``scan_sql.aggregation_sql`` gives them, in one scan of any
    ``headers``; ``False`` (and no table) if two contexts share a hash."""
    con.execute("CREATE TEMP TABLE grouped AS " + grouping_sets_sql(headers, period), params)
    if con.execute(
        "SELECT 1 FROM grouped WHERE by_context = 1 GROUP BY context HAVING count(*) > 1 LIMIT 1"
    ).fetchone():
        con.execute("DROP TABLE grouped")
        return False
    context = ", ".join(
        f"a.{key}" if key == "usage_account" else f"c.{key}"
        for key in ("period_start", "period_end", *GRAIN)
    )
    con.execute(f"""
        CREATE TEMP TABLE charge_groups AS
        SELECT {context},
               a.* EXCLUDE (by_context, {", ".join(ALL_CONTEXT_KEYS)}, usage_account, context)
        FROM grouped AS a
        JOIN grouped AS c ON c.context = a.context AND c.by_context = 1
        WHERE a.by_context = 0
    """)
    con.execute("DROP TABLE grouped")
    return True


def varying_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The context keys with more than one value (an empty one counts) among the
    contexts. A key with the same value on every row cannot tell contexts apart, so the
    per-row hash leaves it out: a CUR's period, payer, currency and invoice rarely vary."""
    counts = ", ".join(
        f"count(DISTINCT {key}) + (count(*) > count({key}))::INTEGER" for key in CONTEXT_KEYS
    )
    found = con.execute(f"SELECT {counts} FROM context_keys").fetchone() or ()
    return [key for key, count in zip(CONTEXT_KEYS, found, strict=True) if count > 1]


def _names_sql(header: Header, file_no: int, rows: Sequence[int]) -> str:
    """The product name on the given rows of one file, by ``row_ref``."""
    wanted = ", ".join(str(row) for row in rows)
    return (
        f"SELECT ({file_no}::BIGINT << {ROW_BITS}) + file_row_number AS row_ref, "
        f"{product_name_sql(header)} AS product_name "
        f"FROM read_parquet({literal(str(header.path))}, file_row_number = true) "
        f"WHERE file_row_number IN ({wanted})"
    )


def create_charge_groups(
    con: duckdb.DuckDBPyConnection,
    headers: Sequence[Header],
    period: BillingPeriod | None,
    params: dict | None,
) -> bool:
    """Make the ``charge_groups`` table of :class:`~connector_aws.query.CurAggregate`
    from Parquet ``headers``; ``False`` (and no table) if two contexts share a hash."""
    con.execute("CREATE TEMP TABLE context_keys AS " + contexts_sql(headers, period), params)
    keys = varying_keys(con)
    if con.execute(
        f"SELECT 1 FROM context_keys GROUP BY {context_hash(keys)} HAVING count(*) > 1 LIMIT 1"
    ).fetchone():
        con.execute("DROP TABLE context_keys")
        return False
    con.execute(
        "CREATE TEMP TABLE account_groups AS " + account_groups_sql(headers, period, keys),
        params,
    )
    first_rows: dict[int, list[int]] = {}
    mask = (1 << ROW_BITS) - 1
    for (row_ref,) in con.execute("SELECT first_row FROM context_keys").fetchall():
        first_rows.setdefault(row_ref >> ROW_BITS, []).append(row_ref & mask)
    names = (
        "\nUNION ALL\n".join(
            _names_sql(headers[file_no], file_no, rows) for file_no, rows in first_rows.items()
        )
        or "SELECT NULL::BIGINT AS row_ref, NULL::VARCHAR AS product_name WHERE false"
    )
    con.execute(f"CREATE TEMP TABLE first_names AS {names}")
    con.execute(f"""
        CREATE TEMP TABLE charge_groups AS
        SELECT c.period_start, c.period_end, c.payer_account, a.usage_account,
               c.line_item_type, c.product_code, n.product_name, c.usage_type,
               c.billing_entity, c.legal_entity, c.currency, c.invoice_id,
               c.reservation_fee, a.* EXCLUDE (context, usage_account),
               c.row_count, c.rows_with_cost, c.rows_with_start
        FROM account_groups AS a
        JOIN context_keys AS c ON a.context = {context_hash(keys, "c")}
        LEFT JOIN first_names AS n ON n.row_ref = c.first_row
    """)
    con.execute("DROP TABLE account_groups")
    con.execute("DROP TABLE first_names")
    con.execute("DROP TABLE context_keys")
    return True
