"""Amounts and dates as printed on a statement, formatted without float.

The same rules as the PDF renderer's (a separate distribution, so not imported from it):
with no locale, ``1,234.50`` and ISO 8601 dates; with one, babel's formats for it
(``£1,234.50`` and ``31 October 2026`` in en_GB, ``1.234,50 €`` in de_DE).
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

log = logging.getLogger(__name__)


def places(amount: Decimal) -> int:
    """Decimal places the quantized ``amount`` carries (JPY 0, USD 2, BHD 3)."""
    exponent = amount.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def format_amount(amount: Decimal, locale: str | None = None) -> str:
    """``amount`` with thousands separators and its own decimal places; never ``-0.00``."""
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
    currency pattern and symbol; the places are the amount's own (ISO 4217's), not
    CLDR's display digits."""
    if amount.is_zero():
        amount = abs(amount)
    if locale is None:
        return f"{format_amount(amount)} {currency}"
    from babel import Locale
    from babel.numbers import parse_pattern

    pattern = parse_pattern(Locale.parse(locale).currency_formats["standard"].pattern)
    return _apply(pattern, amount, locale, currency)


def _apply(pattern: Any, amount: Decimal, locale: str, currency: str | None = None) -> str:
    digits = places(amount)
    pattern.frac_prec = (digits, digits)
    return pattern.apply(amount, locale, currency=currency, currency_digits=False)


def locale_of(locale: str | None, country: str | None) -> str | None:
    """``locale``, else the usual one of ``country`` (CLDR likely subtags: GB -> en_GB),
    else None."""
    from babel import Locale, UnknownLocaleError

    if locale:
        try:
            return str(Locale.parse(locale))
        except (ValueError, UnknownLocaleError):
            # A locale CLDR lacks must not stop a statement going out.
            log.warning("locale %r is unknown to babel; using the country's", locale)
    if not country:
        return None
    try:
        return str(Locale.parse(f"und_{country.upper()}"))
    except (ValueError, UnknownLocaleError):
        return None


def format_date(day: dt.date, locale: str | None = None) -> str:
    """ISO 8601 without a locale (independent of the process locale); else the locale's
    long date (``31 October 2026``)."""
    if locale is None:
        return day.isoformat()
    from babel.dates import format_date as babel_date

    return babel_date(day, format="long", locale=locale)


def period_text(start: dt.date, end: dt.date, locale: str | None = None) -> str:
    """A half-open period ``[start, end)`` as the first and last day it covers."""
    last = end - dt.timedelta(days=1)
    return f"{format_date(start, locale)} to {format_date(last, locale)}"


def format_rate(rate: Decimal) -> str:
    """A tax rate as a percentage without trailing zeros (``0.0825`` -> ``8.25%``)."""
    return f"{format((rate * 100).normalize(), 'f')}%"
