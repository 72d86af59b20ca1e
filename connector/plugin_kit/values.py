"""Value rules a provider checks twice: in SQL on the happy path, in Python to name a line.

A provider's DuckDB scan checks and converts values in SQL; only when a check fails does
Python re-read the file to name the first offending line. Both must agree on what a
valid value is, so each rule is given here as an SQL expression and its Python twin:
decimal numbers (:func:`sql_decimal`, :func:`valid_decimal`), dates in ISO 8601 (a
date-time with an offset gives its UTC date) and,
where an export writes them, US ``MM/DD/YYYY`` (:func:`sql_date`, :func:`parse_date`),
and currency codes (:func:`sql_currency_ok`, :func:`valid_currency`).

The SQL functions take an SQL expression of type VARCHAR: pass ``trim(col)`` where the
text is not trimmed yet. The Python ones strip the text themselves.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

# A decimal number: DuckDB's DECIMAL cast also takes "1_000", which a cost never is.
DECIMAL_PATTERN = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
# ISO 8601, possibly followed by a time (only the date is used).
ISO_DATE_PATTERN = r"\d{4}-\d{2}-\d{2}([T ].*)?"
# A date-time with a numeric time zone offset: the same instant is its UTC date (a
# FOCUS date-time is UTC; a local-time re-export writes 2026-09-30T19:00:00-05:00 for
# 2026-10-01T00:00:00Z). "Z" needs no conversion, and no offset means as written.
OFFSET_DATE_PATTERN = r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?[+-]\d{2}(:?\d{2})?"
US_DATE_PATTERN = r"\d{1,2}/\d{1,2}/\d{4}"
CURRENCY_PATTERN = r"[A-Z]{3}"

EXPECTED_DECIMAL = "a decimal number like 12.3456"
EXPECTED_CURRENCY = "a three-letter ISO 4217 currency code in capitals like USD"

_DECIMAL = re.compile(DECIMAL_PATTERN)
_ISO_DATE = re.compile(ISO_DATE_PATTERN)
_OFFSET_DATE = re.compile(OFFSET_DATE_PATTERN)
_US_DATE = re.compile(US_DATE_PATTERN)
_CURRENCY = re.compile(CURRENCY_PATTERN)


def sql_decimal(text: str, sql_type: str) -> str:
    """SQL turning VARCHAR ``text`` into ``sql_type`` (e.g. ``DECIMAL(38,12)``), NULL when
    it is not a decimal number or does not fit."""
    return (
        f"CASE WHEN regexp_full_match({text}, '{DECIMAL_PATTERN}') "
        f"THEN TRY_CAST({text} AS {sql_type}) END"
    )


def sql_date(text: str, *, us_dates: bool = False) -> str:
    """SQL turning VARCHAR ``text`` into DATE, NULL otherwise: the date of an ISO 8601
    value (the UTC date of one with a numeric offset) and, with ``us_dates``, of
    ``MM/DD/YYYY``."""
    us = (
        f"WHEN regexp_full_match({text}, '{US_DATE_PATTERN}') "
        f"THEN CAST(try_strptime({text}, '%m/%d/%Y') AS DATE) "
        if us_dates
        else ""
    )
    # Cheap tests first: most date-times end in "Z", have no time, or, as a UTC session's
    # TIMESTAMPTZ text ("2026-10-01 00:00:00+00"), a zero offset.
    offset = (
        f"WHEN length({text}) > 19 AND NOT suffix({text}, 'Z') "
        f"AND NOT suffix({text}, '+00') AND NOT suffix({text}, '+00:00') "
        f"AND regexp_full_match({text}, '{OFFSET_DATE_PATTERN}') "
        f"THEN CAST(timezone('UTC', TRY_CAST({text} AS TIMESTAMPTZ)) AS DATE) "
    )
    return (
        f"CASE {us}{offset}WHEN regexp_full_match({text}, '{ISO_DATE_PATTERN}') "
        f"THEN TRY_CAST(substr({text}, 1, 10) AS DATE) END"
    )


def sql_currency_ok(text: str) -> str:
    """SQL true when VARCHAR ``text`` is three capital letters."""
    return f"regexp_full_match({text}, '{CURRENCY_PATTERN}')"


def valid_decimal(value: str, integer_digits: int) -> bool:
    """Whether ``value`` is a decimal number of at most ``integer_digits`` integer digits
    (twin of :func:`sql_decimal` for ``DECIMAL(p, p - integer_digits)``)."""
    text = value.strip()
    if not _DECIMAL.fullmatch(text):
        return False
    try:
        return abs(Decimal(text)) < Decimal(10) ** integer_digits
    except InvalidOperation:
        return False


def parse_date(value: str, *, us_dates: bool = False) -> dt.date | None:
    """The date of an ISO 8601 value (the UTC date of one with a numeric offset; or, with
    ``us_dates``, ``MM/DD/YYYY``), else ``None`` (twin of :func:`sql_date`)."""
    text = value.strip()
    try:
        if us_dates and _US_DATE.fullmatch(text):
            month, day, year = (int(part) for part in text.split("/"))
            return dt.date(year, month, day)
        if _OFFSET_DATE.fullmatch(text):
            return dt.datetime.fromisoformat(text).astimezone(dt.UTC).date()
        if _ISO_DATE.fullmatch(text):
            return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None
    return None


def valid_currency(value: str) -> bool:
    """Whether ``value`` is three capital letters (twin of :func:`sql_currency_ok`)."""
    return bool(_CURRENCY.fullmatch(value.strip()))
