"""The two CSV tables of a statement: one row per statement line, one per detail row.

Pure functions from a :class:`StatementDocument` to rows of strings; writing them out is
:func:`to_csv_bytes`. Amounts are written from the Decimal itself, never through float.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from connector.contracts import StatementDocument

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

# A cell starting with one of these is run as a formula by spreadsheet programs; service
# and marketplace product names come from third parties, so text cells are defused.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

DRAFT_NUMBER = "DRAFT"


def plain_decimal(value: Decimal) -> str:
    """``value`` in fixed-point notation with its own exponent (``0E-10`` -> ``0.0000000000``).

    Negative zero is written without its sign, so a $0.00 line never reads ``-0.00``.
    """
    if value.is_zero():
        value = abs(value)
    return format(value, "f")


def spreadsheet_safe(text: str | None) -> str:
    """``text`` with a leading quote when a spreadsheet would otherwise run it as a formula."""
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def last_day(period_end: dt.date) -> str:
    """The last day a half-open period covers: what a customer reads as "period end"."""
    return (period_end - dt.timedelta(days=1)).isoformat()


def invoice_number(document: StatementDocument) -> str:
    """The statement's number, or ``DRAFT`` before approval has assigned one."""
    return document.number or DRAFT_NUMBER


def statement_rows(document: StatementDocument) -> list[tuple[str, ...]]:
    """One row per statement line, in position order (credit, tax, rounding included).

    The amounts therefore add up to ``document.total``.
    """
    number = invoice_number(document)
    start = document.period.start.isoformat()
    end = last_day(document.period.end)
    customer_name = spreadsheet_safe(document.customer.name)
    return [
        (
            number,
            start,
            end,
            document.customer_id,
            customer_name,
            document.currency,
            str(line.position),
            line.kind,
            spreadsheet_safe(line.description),
            line.account_id or "",
            spreadsheet_safe(line.service_category),
            plain_decimal(line.amount),
        )
        for line in sorted(document.lines, key=lambda line: line.position)
    ]


def detail_rows(document: StatementDocument) -> list[tuple[str, ...]]:
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
            spreadsheet_safe(row.service_category),
            spreadsheet_safe(row.service_name),
            spreadsheet_safe(row.sku),
            spreadsheet_safe(row.line_item_type),
            "yes" if row.is_marketplace else "no",
            plain_decimal(row.quantity),
            plain_decimal(row.cost),
            plain_decimal(row.price),
            plain_decimal(row.price_rounded),
        )
        for row in document.details
    ]


def to_csv_bytes(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    """UTF-8 CSV with ``\\n`` line endings and minimal quoting: the same rows, the same bytes."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
