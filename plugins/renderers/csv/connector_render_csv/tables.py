"""The two CSV tables of a statement: one row per statement line, one per detail row.

Pure functions from a :class:`StatementDocument` to rows of cells (text, and amounts as
the Decimals themselves, never through float); writing them out is :func:`to_csv_bytes`,
which makes every cell with :func:`connector.contracts.csv_cell`: service and
marketplace product names come from third parties, so text a spreadsheet would run as
a formula is quoted there, in the one place every CSV of the connector is escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from connector.contracts import StatementDocument, csv_bytes

STATEMENT_HEADER = (
    "invoice_number",
    "period_start",
    "period_end",
    "customer_id",
    "customer_name",
    "currency",
    "position",
    "kind",
    "description",
    "account_id",
    "service_category",
    "amount",
)

DETAIL_HEADER = (
    "invoice_number",
    "customer_id",
    "account_id",
    "service_category",
    "service_name",
    "usage_type",
    "line_item_type",
    "marketplace",
    "quantity",
    "cost",
    "price",
    "price_rounded",
)

DRAFT_NUMBER = "DRAFT"


def last_day(period_end: dt.date) -> str:
    """The last day a half-open period covers: what a customer reads as "period end"."""
    return (period_end - dt.timedelta(days=1)).isoformat()


def invoice_number(document: StatementDocument) -> str:
    """The statement's number, or ``DRAFT`` before approval has assigned one."""
    return document.number or DRAFT_NUMBER


def statement_rows(document: StatementDocument) -> list[tuple[object, ...]]:
    """One row per statement line, in position order (credit, tax, rounding included).

    The amounts therefore add up to ``document.total``.
    """
    number = invoice_number(document)
    start = document.period.start.isoformat()
    end = last_day(document.period.end)
    return [
        (
            number,
            start,
            end,
            document.customer_id,
            document.customer.name or "",
            document.currency,
            line.position,
            line.kind,
            line.description,
            line.account_id or "",
            line.service_category or "",
            line.amount,
        )
        for line in sorted(document.lines, key=lambda line: line.position)
    ]


def detail_rows(document: StatementDocument) -> list[tuple[object, ...]]:
    """One row per account x service x usage type at full precision, in document order.

    ``price`` keeps every decimal place, so summing it per service category and rounding
    gives the statement line: the customer can reconcile to the penny.
    """
    number = invoice_number(document)
    return [
        (
            number,
            document.customer_id,
            row.account_id,
            row.service_category,
            row.service_name,
            row.sku,
            row.line_item_type,
            "yes" if row.is_marketplace else "no",
            row.quantity,
            row.cost,
            row.price,
            row.price_rounded,
        )
        for row in document.details
    ]


def to_csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 CSV with ``\\n`` line endings and minimal quoting: the same rows, the same bytes.

    Every cell goes through :func:`connector.contracts.csv_cell`, the one escaping of
    every CSV the connector writes: amounts stay numbers, formula-like text is quoted.
    """
    return csv_bytes(header, rows)
