"""A statement shown in another currency at render time (pure: values in, values out).

The statement itself stays in the customer's invoice currency; a converted copy is
only a view of it. Each line is converted and rounded to the new currency's minor
unit once, and subtotal, tax and total are the sums of the converted lines, so the
copy adds up the way the original does (converting the total alone could differ
from the sum of the lines by a cent). Detail rows keep full precision.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from connector.contracts import DetailRow, StatementDocument, StatementLine
from connector.domain.money import round_money, total


def conversion_note(document: StatementDocument, currency: str, rate: Decimal) -> str:
    """What the reader of the copy is told about the rate it was made with."""
    shown = format(rate.normalize(), "f")
    return (
        f"Shown in {currency} at the {document.period.key} rate 1 {document.currency} = "
        f"{shown} {currency}; the statement is issued in {document.currency} "
        f"(total {document.total:f} {document.currency})."
    )


def _line(line: StatementLine, currency: str, rate: Decimal, mode: str) -> StatementLine:
    return replace(
        line, amount=round_money(line.amount * rate, currency, mode), cost=line.cost * rate
    )


def _detail(row: DetailRow, currency: str, rate: Decimal, mode: str) -> DetailRow:
    return row._replace(
        cost=row.cost * rate,
        price=row.price * rate,
        price_rounded=round_money(row.price_rounded * rate, currency, mode),
    )


def convert_document(
    document: StatementDocument, currency: str, rate: Decimal, mode: str = "half_up"
) -> StatementDocument:
    """``document`` in ``currency``, 1 unit of its currency being ``rate`` units.

    The copy names the original currency as its ``billing_currency`` with ``rate`` as
    its ``exchange_rate``, so renderers print the conversion, and its notes say which
    rate was used and what the statement's own total is.
    """
    if rate <= 0:
        raise ValueError(f"an exchange rate must be positive, not {rate}")
    if currency == document.currency:
        return document
    lines = [_line(line, currency, rate, mode) for line in document.lines]
    tax = total(line.amount for line in lines if line.kind == "tax")
    subtotal = total(line.amount for line in lines if line.kind not in ("credit", "tax"))
    note = conversion_note(document, currency, rate)
    return replace(
        document,
        currency=currency,
        lines=lines,
        details=[_detail(row, currency, rate, mode) for row in document.details],
        subtotal=subtotal,
        tax=tax,
        total=total(line.amount for line in lines),
        billing_currency=document.currency,
        exchange_rate=rate,
        notes=f"{note}\n{document.notes}" if document.notes else note,
    )
