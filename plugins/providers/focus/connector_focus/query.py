"""The one DuckDB pass that reads FOCUS files and aggregates them to the charge grain.

Every file is scanned once, all columns read as text (Parquet columns cast to VARCHAR,
so a DOUBLE cost becomes its shortest exact decimal text, never a binary fraction), then
cleaned, checked and typed in SQL (DECIMAL(38,16) money, DATE dates). Rows are grouped by
file, billing period and charge grain into a temporary table. A row breaking a rule sets
``bad`` on its group; Python then finds and names the row. A period's charges become a
table of their own, whose rows the core reads a chunk at a time as it stores them
(:meth:`FocusAggregate.period_charges`): Python never holds a month of charges.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from connector.contracts import BillingPeriod, ChargeCategory
from connector.plugin_kit.charge_tables import StreamedCharges, period_table
from connector.plugin_kit.scratch import QueryAggregate
from connector.plugin_kit.sql import identifier, literal, read_csv_text
from connector.plugin_kit.values import sql_currency_ok
from connector_focus.columns import (
    CATEGORY,
    CHARGE_CLASS,
    COLUMNS,
    CURRENCY,
    DATE,
    DECIMAL,
    FREQUENCY,
    Header,
)
from connector_focus.values import sql_choice, sql_date, sql_decimal, sql_text

GRAIN = (
    "billing_account",
    "sub_account",
    "category",
    "charge_class",
    "frequency",
    "service_name",
    "service_category",
    "sku",
    "currency",
    "publisher",
    "is_marketplace",
    "invoice_id",
)


def _source(header: Header) -> str:
    """``SELECT`` of one file's columns read, as raw VARCHAR under their aliases."""
    if header.parquet:
        raw = [
            f"CAST({identifier(header.names[header.positions[c.alias]])} AS VARCHAR) AS {c.alias}"
            for c in COLUMNS
            if header.has(c.alias)
        ]
        return f"SELECT {', '.join(raw)} FROM read_parquet({literal(str(header.path))})"
    # Only the columns read get names, so headers with columns whose names clash
    # case-insensitively (tags, x_ columns) still read.
    return (
        f"SELECT {', '.join(header.positions)} "
        f"FROM {read_csv_text(header.path, len(header.names), header.positions)}"
    )


def _scan(header: Header, file_no: int) -> str:
    """One file's rows: grain as text, amounts and dates typed, ``bad`` when a rule breaks."""
    cleaned = ", ".join(
        f"{sql_text(c.alias)} AS {c.alias}"
        if header.has(c.alias)
        else f"NULL::VARCHAR AS {c.alias}"
        for c in COLUMNS
    )
    checks = [f"{c.alias} IS NULL" for c in COLUMNS if c.not_empty]
    for c in COLUMNS:
        if c.kind == DECIMAL:
            checks.append(f"({c.alias} IS NOT NULL AND ({sql_decimal(c.alias)}) IS NULL)")
        elif c.kind == DATE:
            checks.append(f"({c.alias} IS NOT NULL AND ({sql_date(c.alias)}) IS NULL)")
        elif c.kind == CURRENCY:
            checks.append(f"({c.alias} IS NOT NULL AND NOT {sql_currency_ok(c.alias)})")
        elif c.kind in (CATEGORY, FREQUENCY, CHARGE_CLASS):
            checks.append(f"({c.alias} IS NOT NULL AND ({sql_choice(c.alias, c.kind)}) IS NULL)")
    checks.append(f"({sql_date('period_end')}) <= ({sql_date('period_start')})")
    # FOCUS 1.2 names who sold the service ServiceProviderName and the platform it runs
    # on HostProviderName (the deprecated ProviderName where that is null); 1.0 / 1.1 name
    # them PublisherName and ProviderName.
    if header.has("service_provider_name"):
        publisher = "coalesce(service_provider_name, publisher_name)"
        platform = "coalesce(host_provider_name, provider_name)"
    else:
        publisher, platform = "coalesce(publisher_name, provider_name)", "provider_name"
    # Marketplace: the publisher is neither the invoice issuer nor the cloud it runs on.
    # Comparing with the platform as well keeps a reseller-issued invoice (CSP: issuer is
    # the partner, publisher Microsoft) from turning every charge into marketplace.
    marketplace = f"""coalesce(
        {publisher} IS NOT NULL
        AND (invoice_issuer_name IS NOT NULL OR {platform} IS NOT NULL)
        AND lower({publisher}) IS DISTINCT FROM lower(coalesce(invoice_issuer_name, {platform}))
        AND lower({publisher}) IS DISTINCT FROM lower(coalesce({platform}, invoice_issuer_name)),
        false)"""
    return f"""
    SELECT {file_no} AS file_no,
        {sql_date("period_start")} AS period_start,
        {sql_date("period_end")} AS period_end,
        billing_account,
        coalesce(sub_account, '') AS sub_account,
        {sql_choice("category", CATEGORY)} AS category,
        {sql_choice("charge_class", CHARGE_CLASS)} AS charge_class,
        {sql_choice("frequency", FREQUENCY)} AS frequency,
        coalesce(service_name, '') AS service_name,
        coalesce(service_category, service_name, '') AS service_category,
        coalesce(sku_id, sku_price_id, '') AS sku,
        currency,
        coalesce({publisher}, invoice_issuer_name, '') AS publisher,
        {marketplace} AS is_marketplace,
        invoice_id,
        {sql_decimal("billed_cost")} AS billed,
        coalesce({sql_decimal("list_cost")}, {sql_decimal("billed_cost")}) AS listed,
        coalesce({sql_decimal("pricing_quantity")}, {sql_decimal("consumed_quantity")}) AS quantity,
        {sql_date("charge_start")} AS charge_start,
        {sql_date("charge_end")} AS charge_end,
        coalesce({" OR ".join(checks)}, false) AS bad
    FROM (SELECT {cleaned} FROM ({_source(header)}))"""


def aggregation_sql(headers: Sequence[Header]) -> str:
    scans = "\nUNION ALL\n".join(_scan(h, n) for n, h in enumerate(headers))
    return f"""
    SELECT file_no, period_start, period_end, {", ".join(GRAIN)},
        sum(billed) AS billed, sum(listed) AS listed, coalesce(sum(quantity), 0) AS quantity,
        min(charge_start) AS charge_start, max(charge_end) AS charge_end,
        bool_or(bad) AS bad, count(*) AS row_count
    FROM ({scans}) AS focus_rows
    GROUP BY ALL
    """


class FocusAggregate(QueryAggregate):
    """The grouped rows of one fetch, in a DuckDB temporary table (a context manager)."""

    prefix = "connector-focus-"
    # Parquet TIMESTAMP WITH TIME ZONE becomes text in this zone: FOCUS uses UTC.
    utc = True
    table = "focus_groups"
    headers: Sequence[Header]

    def scan_sql(self) -> str:
        return aggregation_sql(self.headers)

    def periods(self) -> list[tuple]:
        """``(start, end, final, [file numbers])`` of every billing period, by start."""
        return self.con.execute("""
            SELECT period_start, period_end, bool_and(invoice_id IS NOT NULL),
                   list(DISTINCT file_no ORDER BY file_no)
            FROM focus_groups GROUP BY ALL ORDER BY period_start, period_end
        """).fetchall()

    def period_charges(
        self, number: int, period: BillingPeriod, span: Callable[[dt.date, dt.date], tuple]
    ) -> StreamedCharges:
        """The charges of ``period`` (the ``number``-th asked for), one per grain: its
        sums, and its dates as ``span(first ChargePeriodStart, last ChargePeriodEnd)``
        gives them; their rows stream when read
        (:func:`~connector.plugin_kit.charge_tables.period_table`), by grain."""
        return period_table(
            self.con,
            f"""SELECT {", ".join(GRAIN)}, sum(billed) AS billed, sum(listed) AS listed,
                    sum(quantity) AS quantity, min(charge_start) AS first_day,
                    max(charge_end) AS last_day
                FROM focus_groups WHERE period_start = $start AND period_end = $end
                GROUP BY ALL""",
            {"start": period.start, "end": period.end},
            number=number,
            grain=GRAIN,
            account="sub_account",
            fields=context_fields,
            span=span,
            what="FOCUS",
        )


def context_fields(context: tuple) -> tuple:
    """The :data:`~connector.contracts.CHARGE_CONTEXT_FIELDS` values of one context: what
    many charges of a period share, the :data:`GRAIN` but the sub-account, in its order."""
    (account, category, charge_class, frequency, service, service_category, sku, currency,
     publisher, is_marketplace, invoice_id) = context  # fmt: skip
    line_item_type = f"{category} ({charge_class})" if charge_class else category
    return (account, ChargeCategory(category), charge_class, service, service_category, sku,
            currency, publisher or None, bool(is_marketplace), invoice_id, line_item_type,
            frequency)  # fmt: skip
