"""Amounts and dates as printed on a statement, formatted without float."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def places(amount: Decimal) -> int:
    """Decimal places the quantized ``amount`` carries (JPY 0, USD 2, BHD 3)."""
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_amount(amount: Decimal) -> str:
    """``amount`` with thousands separators and exactly its own decimal places.

    Decimal formatting is exact, so ``Decimal("1234567.85")`` prints ``1,234,567.85``;
    negative zero prints without its sign.
    """
    if amount.is_zero():
        amount = abs(amount)
    return f"{amount:,.{places(amount)}f}"


def format_date(day: dt.date) -> str:
    """ISO 8601: unambiguous in every country and independent of the process locale."""
    return day.isoformat()


def period_text(start: dt.date, end: dt.date) -> str:
    """A half-open period ``[start, end)`` as the first and last day it covers."""
    return f"{format_date(start)} to {format_date(end - dt.timedelta(days=1))}"
