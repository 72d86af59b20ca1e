"""Amounts and dates as printed on a statement, formatted without float.

The same rules as the PDF renderer's (a separate distribution, so not imported from it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def places(amount: Decimal) -> int:
    """Decimal places the quantized ``amount`` carries (JPY 0, USD 2, BHD 3)."""
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_amount(amount: Decimal) -> str:
    """``amount`` with thousands separators and its own decimal places; never ``-0.00``."""
    if amount.is_zero():
        amount = abs(amount)
    return f"{amount:,.{places(amount)}f}"


def format_date(day: dt.date) -> str:
    """ISO 8601: unambiguous in every country and independent of the process locale."""
    return day.isoformat()


def period_text(start: dt.date, end: dt.date) -> str:
    """A half-open period ``[start, end)`` as the first and last day it covers."""
    return f"{format_date(start)} to {format_date(end - dt.timedelta(days=1))}"


def format_rate(rate: Decimal) -> str:
    """A tax rate as a percentage without trailing zeros (``0.0825`` -> ``8.25%``)."""
    return f"{format((rate * 100).normalize(), 'f')}%"
