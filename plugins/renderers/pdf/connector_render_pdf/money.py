"""Amounts and dates as printed on a statement, formatted without float.

With no locale (documents built before the tenant's locale was recorded, and third
parties' documents) amounts print as ``1,234.50`` and dates as ISO 8601; with one,
babel formats them the way the tenant's country writes them (``£1,234.50`` and
``31 October 2026`` in en_GB, ``1.234,50 €`` in de_DE).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def places(amount: Decimal) -> int:
    """Decimal places the quantized ``amount`` carries (JPY 0, USD 2, BHD 3)."""
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_amount(amount: Decimal, locale: str | None = None) -> str:
    """``amount`` with thousands separators and exactly its own decimal places.

    Decimal formatting is exact, so ``Decimal("1234567.85")`` prints ``1,234,567.85``
    (``1.234.567,85`` in de_DE); negative zero prints without its sign.
    """
    if amount.is_zero():
        amount = abs(amount)
    if locale is None:
        return f"{amount:,.{places(amount)}f}"
    from babel import Locale
    from babel.numbers import parse_pattern

    pattern = parse_pattern(Locale.parse(locale).decimal_formats[None].pattern)
    return _apply(pattern, amount, locale)


def format_money(amount: Decimal, currency: str, locale: str | None = None) -> str:
    """``amount`` with its currency: ``1,234.50 USD`` without a locale, else the locale's
    currency pattern and symbol (``£1,234.50``, ``1.234,50 €``).

    The places are the amount's own (ISO 4217's minor unit, as the statement was built),
    not CLDR's display digits, which differ for some currencies (HUF, IDR, IQD).
    """
    if amount.is_zero():
        amount = abs(amount)
    if locale is None:
        return f"{format_amount(amount)} {currency}"
    from babel import Locale
    from babel.numbers import parse_pattern

    pattern = parse_pattern(Locale.parse(locale).currency_formats["standard"].pattern)
    return _apply(pattern, amount, locale, currency)


def _apply(pattern, amount: Decimal, locale: str, currency: str | None = None) -> str:  # noqa: ANN001
    # The amount's own places, exactly: no rounding to the pattern's digits.
    digits = places(amount)
    pattern.frac_prec = (digits, digits)
    return pattern.apply(amount, locale, currency=currency, currency_digits=False)


def format_date(day: dt.date, locale: str | None = None) -> str:
    """ISO 8601 without a locale (unambiguous, independent of the process locale);
    else the locale's long date (``31 October 2026``, ``October 31, 2026``)."""
    if locale is None:
        return day.isoformat()
    from babel.dates import format_date as babel_date

    return babel_date(day, format="long", locale=locale)


def period_text(start: dt.date, end: dt.date, locale: str | None = None) -> str:
    """A half-open period ``[start, end)`` as the first and last day it covers."""
    last = end - dt.timedelta(days=1)
    return f"{format_date(start, locale)} to {format_date(last, locale)}"
