"""The one DuckDB pass that reads the exports and aggregates them to the charge grain.

Every file is scanned once with all columns as text; ours are checked and converted in
SQL (DECIMAL(38,12) money, DATE dates) and the rows grouped by file, day and charge grain
into a temporary table. Periods are assigned to the (few) distinct days in Python
(:func:`connector_azure.periods.period_of`) and joined back: the files are not read again.
A row breaking a rule sets ``bad`` on its group; Python then finds and names the line.
A row only an amortized-cost export has sets ``amortized`` the same way.

A period's content hash is taken from its day groups, not from the files' bytes: the same
rows give the same hash in any order and however the export split them into files.

A period's charges (its day groups summed per grain) become a table of their own, whose
rows the core reads a chunk at a time as it stores them (:meth:`CostAggregate.period_charges`):
Python never holds a month of charges.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from connector.contracts import BillingPeriod
from connector.plugin_kit.charge_tables import StreamedCharges, period_table
from connector.plugin_kit.scratch import QueryAggregate
from connector.plugin_kit.sql import read_csv_text
from connector_azure.amortized import sql_amortized_row
from connector_azure.charges import context_fields
from connector_azure.columns import COLUMNS, Header
from connector_azure.periods import ONE_DAY
from connector_azure.values import sql_currency_ok, sql_date, sql_decimal

GRAIN = (
    "billing_account",
    "subscription",
    "charge_type",
    "service",
    "sku",
    "currency",
    "publisher_type",
    "publisher_name",
    "invoice_id",
)
# Changing how the content hash is made changes every stored hash: keep it as it is.
HASH_VERSION = "azure-cost/1"
LOW_64 = (1 << 64) - 1


def _text(alias: str) -> str:
    return f"coalesce(trim({alias}), '')"


def _scan(header: Header, file_no: int) -> str:
    """One file's rows: grain columns as trimmed text, amounts and date typed, ``bad``."""
    raw = {c.alias: (c.alias if header.has(c.alias) else "NULL::VARCHAR") for c in COLUMNS}
    if header.has("payg_cost"):  # MCA: the pay-as-you-go cost itself
        list_row = sql_decimal(raw["payg_cost"])
    elif header.has("payg_price"):  # EA: the pay-as-you-go unit price times the quantity
        list_row = (
            f"CAST(({sql_decimal(raw['payg_price'])}) * "
            f"({sql_decimal(raw['quantity'])}) AS DECIMAL(38,12))"
        )
    else:
        list_row = "NULL::DECIMAL(38,12)"
    checks = [f"{_text(raw[c.alias])} = ''" for c in COLUMNS if c.not_empty]
    for alias in ("cost", "quantity", "payg_price", "payg_cost"):
        if header.has(alias):
            checks.append(f"({_text(alias)} <> '' AND ({sql_decimal(alias)}) IS NULL)")
    checks.append(f"({_text(raw['charge_date'])} <> '' AND ({sql_date('charge_date')}) IS NULL)")
    checks.append(f"NOT coalesce({sql_currency_ok(raw['currency'])}, false)")
    sub, name, part = raw["meter_subcategory"], raw["meter_name"], raw["part_number"]
    sku = f"""CASE
        WHEN {_text(sub)} <> '' AND {_text(name)} <> '' THEN {_text(sub)} || ' / ' || {_text(name)}
        WHEN {_text(sub)} <> '' OR {_text(name)} <> '' THEN {_text(sub)} || {_text(name)}
        ELSE {_text(part)} END"""
    service = f"coalesce(nullif({_text(raw['meter_category'])}, ''), {_text(raw['product'])})"
    amortized = (
        sql_amortized_row(
            _text(raw["charge_type"]), _text(raw["pricing_model"]), sql_decimal(raw["cost"])
        )
        if header.has("pricing_model")
        else "false"
    )
    return f"""
    SELECT {file_no} AS file_no,
        {sql_date(raw["charge_date"])} AS charge_date,
        {_text(raw["billing_account"])} AS billing_account,
        {_text(raw["subscription"])} AS subscription,
        {_text(raw["charge_type"])} AS charge_type,
        {service} AS service,
        {sku} AS sku,
        {_text(raw["currency"])} AS currency,
        {_text(raw["publisher_type"])} AS publisher_type,
        {_text(raw["publisher_name"])} AS publisher_name,
        {_text(raw["invoice_id"])} AS invoice_id,
        {sql_decimal(raw["cost"])} AS cost,
        {list_row} AS list_row,
        {sql_decimal(raw["quantity"])} AS quantity,
        ({" OR ".join(checks)}) AS bad,
        {amortized} AS amortized
    FROM {read_csv_text(header.path, len(header.names), header.positions)}"""


def aggregation_sql(headers: Sequence[Header]) -> str:
    """Rows grouped by file, day and grain, summed exactly."""
    scans = "\nUNION ALL\n".join(_scan(h, n) for n, h in enumerate(headers))
    return f"""
    SELECT file_no, charge_date, {", ".join(GRAIN)},
        sum(cost) AS billed_cost,
        -- No pay-as-you-go figure (or zero, as on reservation purchases): the cost itself.
        sum(CASE WHEN list_row IS NULL OR list_row = 0 THEN cost ELSE list_row END)
            AS list_cost,
        coalesce(sum(quantity), 0) AS quantity,
        count(*) AS row_count,
        bool_or(bad) AS bad,
        bool_or(amortized) AS amortized
    FROM ({scans}) AS rows
    GROUP BY ALL
    """


class CostAggregate(QueryAggregate):
    """The grouped rows of one fetch, in a DuckDB temporary table (a context manager)."""

    prefix = "connector-azure-"
    table = "day_groups"
    headers: Sequence[Header]

    def scan_sql(self) -> str:
        return aggregation_sql(self.headers)

    def amortized_files(self) -> list[int]:
        """The files holding a row only an amortized-cost export has."""
        rows = self.con.execute(
            "SELECT DISTINCT file_no FROM day_groups WHERE amortized ORDER BY file_no"
        ).fetchall()
        return [row[0] for row in rows]

    def days(self) -> list[dt.date]:
        rows = self.con.execute("SELECT DISTINCT charge_date FROM day_groups").fetchall()
        return sorted(row[0] for row in rows)

    def assign_periods(self, periods: dict[dt.date, BillingPeriod]) -> None:
        """Record which period each day belongs to (days left out are not read further)."""
        self.con.execute(
            "CREATE TEMP TABLE day_periods (charge_date DATE, period_start DATE, period_end DATE)"
        )
        if periods:
            self.con.executemany(
                "INSERT INTO day_periods VALUES (?, ?, ?)",
                [(day, p.start, p.end) for day, p in periods.items()],
            )

    def files_by_period(self) -> dict[dt.date, list[int]]:
        rows = self.con.execute("""
            SELECT DISTINCT p.period_start, g.file_no
            FROM day_groups g JOIN day_periods p USING (charge_date)
            ORDER BY p.period_start, g.file_no
        """).fetchall()
        found: dict[dt.date, list[int]] = {}
        for start, file_no in rows:
            found.setdefault(start, []).append(file_no)
        return found

    def periods(self) -> list[BillingPeriod]:
        """The periods assigned to the days read, by start."""
        rows = self.con.execute(
            "SELECT DISTINCT period_start, period_end FROM day_periods ORDER BY ALL"
        ).fetchall()
        return [BillingPeriod(start, end) for start, end in rows]

    def period_charges(self, number: int, period: BillingPeriod) -> StreamedCharges:
        """The charges of ``period`` (the ``number``-th asked for), one per grain: its
        sums, first day and the day after its last; their rows stream when read
        (:func:`~connector.plugin_kit.charge_tables.period_table`), by grain."""
        return period_table(
            self.con,
            f"""SELECT {", ".join(GRAIN)}, sum(billed_cost) AS billed,
                    sum(list_cost) AS listed, sum(quantity) AS quantity,
                    min(charge_date) AS first_day, max(charge_date) AS last_day
                FROM day_groups g JOIN day_periods p USING (charge_date)
                WHERE p.period_start = $start AND p.period_end = $end
                GROUP BY ALL""",
            {"start": period.start, "end": period.end},
            number=number,
            grain=GRAIN,
            account="subscription",
            fields=context_fields,
            span=lambda first, last: (first, last + ONE_DAY),
            what="Azure cost",
        )

    def period_contents(self) -> dict[dt.date, PeriodContent]:
        """Per period (by start): its content hash and whether every row has an invoice id.

        The hash sums a 128-bit digest (md5) of each day group of the period, all files
        merged: day, grain, sums and row count. Sums do not depend on order, so rows
        reordered or split into other files give the same hash; any change to what is
        ingested (a cost, a day, an invoice id, a row more or less) changes it. Columns
        the plugin does not read (tags, resource ids) do not count.
        """
        grain = ", ".join(GRAIN)
        if len(self.headers) == 1:  # one file: its day groups are already merged
            days = f"""SELECT p.period_start, charge_date, {grain}, billed_cost, list_cost,
                    quantity, row_count
                FROM day_groups g JOIN day_periods p USING (charge_date)"""
        else:
            days = f"""SELECT p.period_start, charge_date, {grain},
                    sum(billed_cost) AS billed_cost, sum(list_cost) AS list_cost,
                    sum(quantity) AS quantity, sum(row_count) AS row_count
                FROM day_groups g JOIN day_periods p USING (charge_date)
                GROUP BY ALL"""
        key = ", ".join(
            ["charge_date::VARCHAR", *GRAIN, "billed_cost::VARCHAR", "list_cost::VARCHAR",
             "quantity::VARCHAR", "row_count::VARCHAR"]
        )  # fmt: skip
        # The two 64-bit halves are summed apart: a sum of 128-bit numbers could overflow.
        rows = self.con.execute(f"""
            WITH days AS ({days}),
            keyed AS (
                SELECT period_start, invoice_id, md5_number(concat_ws(chr(31), {key})) AS h
                FROM days
            )
            SELECT period_start, count(*), sum((h >> 64)::UBIGINT),
                sum((h & {LOW_64})::UBIGINT), bool_and(invoice_id <> '')
            FROM keyed
            GROUP BY period_start
        """).fetchall()
        return {
            start: PeriodContent(
                content_hash=hashlib.sha256(
                    f"{HASH_VERSION}:{groups}:{high}:{low}".encode("ascii")
                ).hexdigest(),
                invoiced=bool(invoiced),
            )
            for start, groups, high, low, invoiced in rows
        }


@dataclass(frozen=True, slots=True)
class PeriodContent:
    """What a period's rows say beyond its charges."""

    content_hash: str  # the same for the same rows, in any order or split
    invoiced: bool  # every row carries an invoice id (MCA, once invoiced)
