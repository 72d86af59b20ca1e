"""The DuckDB pass that aggregates CUR files to the charge grain, and what is read from it.

CSV files are scanned once, Parquet files twice (see :mod:`connector_aws.context_plan`
and :mod:`connector_aws.scan_sql`). Empty required values are counted and reported
instead of being skipped or summed as zero. The groups land in a temporary table; the
checks on them, the per-period summary and the charge rows are small queries over that
table. Python never sees a CUR row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import duckdb

from connector.contracts import BillingPeriod
from connector.plugin_kit.charge_tables import QueryRows
from connector.plugin_kit.scratch import ScratchAggregate
from connector.progress import BYTES, NO_PROGRESS, Progress, polled
from connector_aws import context_plan
from connector_aws.columns import PARQUET, Header
from connector_aws.scan_sql import GRAIN, MASK_BITS, aggregation_sql, mask_count

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

# What many charges of a period share (the grain but the usage account); see
# CurAggregate.charge_rows.
CONTEXT = tuple(key for key in GRAIN if key != "usage_account")

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


class CurAggregate(ScratchAggregate):
    """The aggregated groups of one fetch, held in a DuckDB temporary table.

    Use as a context manager; entering runs the scan and raises DuckDB's error when a
    file cannot be read as typed. ``progress`` follows the scan by the bytes of the
    files read (DuckDB's own estimate of the query's progress, polled).
    """

    prefix = "connector-aws-"
    # Parquet CURs hold TIMESTAMP WITH TIME ZONE: their date is the UTC date.
    utc = True
    table = "charge_groups"

    def __init__(
        self,
        headers: Sequence[Header],
        period: BillingPeriod | None,
        progress: Progress = NO_PROGRESS,
    ) -> None:
        super().__init__()
        self.headers = headers
        self.period = period
        self.progress = progress
        self._period_tables = 0  # charge_rows calls: numbers each period's dictionary tables

    def fill(self, con: duckdb.DuckDBPyConnection) -> None:
        params = None
        if self.period is not None:
            params = {"start": self.period.start, "end": self.period.end}
        parquet = all(h.kind == PARQUET for h in self.headers)
        plan = (
            context_plan.create_charge_groups
            if parquet
            else context_plan.create_charge_groups_in_one_scan
        )
        with self._scan_progress(passes=2 if parquet else 1):
            if not plan(con, self.headers, self.period, params):
                con.execute(
                    "CREATE TEMP TABLE charge_groups AS "
                    + aggregation_sql(self.headers, self.period),
                    params,
                )

    def _scan_progress(self, passes: int) -> AbstractContextManager[None]:
        """Report the scan as bytes of the files read, from DuckDB's progress estimate.

        Polled from another thread four times a second; DuckDB tracks progress anyway
        (only its printing is off), so the scan is not slowed. A Parquet read takes
        ``passes`` queries (see :mod:`connector_aws.context_plan`), each 0..100 %.
        """
        if self.progress is NO_PROGRESS:
            return nullcontext()
        names = [h.shown.rsplit("/", 1)[-1] for h in self.headers]
        what = names[0] if len(names) == 1 else f"{len(names)} CUR files"
        size = sum(h.path.stat().st_size for h in self.headers)
        self.progress.stage(f"reading {what}", total=size, unit=BYTES)
        con = self.con
        con.execute("SET enable_progress_bar = true")  # tracked, never printed:
        con.execute("SET enable_progress_bar_print = false")
        con.execute("SET progress_bar_time = 0")
        share = _ScanShare(con, passes)
        return polled(self.progress, share, size)

    def rows_read(self) -> tuple[int, int]:
        """``(CUR rows read, charge groups)`` of the scan."""
        rows, groups = self.con.execute(
            "SELECT coalesce(sum(row_count), 0), count(*) FROM charge_groups"
        ).fetchone()  # type: ignore[misc]
        return int(rows), int(groups)

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

    def charge_rows(
        self, period: BillingPeriod
    ) -> tuple[list[tuple], list[str], dict[int, dt.date], QueryRows]:
        """The groups of ``period`` as ``(contexts, accounts, dates, rows)``.

        What many charges share is fetched once: a context is a distinct combination of
        :data:`CONTEXT` (payer, line item type, product, usage type, seller, currency,
        invoice), and accounts are the distinct usage accounts. Each row is
        ``(context index, account index, billed, list, quantity, first day, last day)``,
        the days as numbers from the period's start (``dates`` maps each to its date:
        DuckDB's date conversion costs more than the few distinct dates made once here).
        Python then converts small integers instead of a dozen strings and two dates per
        group, which more than halves the fetch. Money comes back as its exact text, what
        :class:`~connector.contracts.ChargeTable` holds: several times faster than the
        driver's own DECIMAL conversion. Rows come by account (accounts are numbered in
        the order of their ids): the charges table's index is then built from rows
        already in its order (three times faster on PostgreSQL), and a customer's
        charges lie together.

        The rows are not fetched here: they stream from DuckDB, a chunk at a time, when
        read (:class:`~connector.plugin_kit.charge_tables.QueryRows`), so a month is never
        held in Python at once. The dictionaries are tables of the period's own
        (``contexts_<n>``, ``accounts_<n>``), so the rows of every period can be read
        after all were asked for.
        """
        params = {"start": period.start, "end": period.end}
        self._period_tables += 1
        contexts_table = f"contexts_{self._period_tables}"
        accounts_table = f"accounts_{self._period_tables}"
        contexts = self._dictionary(contexts_table, CONTEXT, params)
        numbered = self._dictionary(accounts_table, ("usage_account",), params, ordered=True)
        accounts = [account for (account,) in numbered]
        same_context = " AND ".join(f"g.{c} IS NOT DISTINCT FROM x.{c}" for c in CONTEXT)
        sql = f"""
            SELECT x.id, a.id,
                   CAST(g.billed_cost AS VARCHAR), CAST(g.list_cost AS VARCHAR),
                   CAST(g.quantity AS VARCHAR),
                   g.usage_start - $start, g.usage_end - $start
            FROM charge_groups AS g
            JOIN {contexts_table} AS x ON {same_context}
            JOIN {accounts_table} AS a ON g.usage_account = a.usage_account
            WHERE g.period_start = $start AND g.period_end = $end
            ORDER BY a.id
            """
        count, first, last = self.con.execute(
            "SELECT count(*), least(min(usage_start), min(usage_end)) - $start, "
            "greatest(max(usage_start), max(usage_end)) - $start FROM charge_groups "
            "WHERE period_start = $start AND period_end = $end",
            params,
        ).fetchone()  # type: ignore[misc]
        dates = {day: period.start + dt.timedelta(days=day) for day in range(first, last + 1)}
        return contexts, accounts, dates, QueryRows(self.con, sql, params, count, "CUR")

    def _dictionary(
        self, table: str, columns: Sequence[str], params: dict, ordered: bool = False
    ) -> list[tuple]:
        """Number the distinct ``columns`` of a period's groups into ``table`` (``id``
        from 0, in the order of their values if ``ordered``) and return them in that
        order."""
        names = ", ".join(columns)
        order = f"ORDER BY {names}" if ordered else ""
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE {table} AS
            SELECT row_number() OVER ({order}) - 1 AS id, *
            FROM (SELECT DISTINCT {names} FROM charge_groups
                  WHERE period_start = $start AND period_end = $end)
            """,
            params,
        )
        return self.con.execute(f"SELECT {names} FROM {table} ORDER BY id").fetchall()


class _ScanShare:
    """The share (0..1) of a scan of ``passes`` queries done, from DuckDB's per-query
    percentage: a drop means the next query began."""

    def __init__(self, con: duckdb.DuckDBPyConnection, passes: int) -> None:
        self.con = con
        self.passes = passes
        self.finished = 0
        self.last = 0.0

    def __call__(self) -> float | None:
        percent = self.con.query_progress()
        if percent < 0:  # no query running, or not measured yet
            return None
        if percent + 1 < self.last:
            self.finished = min(self.passes - 1, self.finished + 1)
        self.last = percent
        return (self.finished + percent / 100) / self.passes
