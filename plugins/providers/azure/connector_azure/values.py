"""The value rules shared by the DuckDB scan and the Python diagnosis, kept side by side.

The happy path checks values in SQL; only when a check fails does Python re-read the
files to name the first offending line. Both must agree, so both are defined here.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

# A decimal number: DuckDB's DECIMAL cast also takes "1_000", which a cost never is.
DECIMAL_PATTERN = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
# EA writes MM/DD/YYYY; MCA writes YYYY-MM-DD, possibly followed by a time (ISO 8601).
US_DATE_PATTERN = r"\d{1,2}/\d{1,2}/\d{4}"
ISO_DATE_PATTERN = r"\d{4}-\d{2}-\d{2}([T ].*)?"
CURRENCY_PATTERN = r"[A-Z]{3}"
MAX_INTEGER = Decimal(10) ** 26  # DECIMAL(38,12)

_DECIMAL = re.compile(DECIMAL_PATTERN)
_US_DATE = re.compile(US_DATE_PATTERN)
_ISO_DATE = re.compile(ISO_DATE_PATTERN)
_CURRENCY = re.compile(CURRENCY_PATTERN)

EXPECTED_DECIMAL = "a decimal number like 12.3456"
EXPECTED_DATE = "a date like 09/21/2023 (EA, MM/DD/YYYY) or 2023-09-21 (MCA, ISO 8601)"
EXPECTED_CURRENCY = "a three-letter ISO 4217 currency code in capitals like USD"


def sql_decimal(raw: str) -> str:
    """SQL turning VARCHAR ``raw`` into DECIMAL(38,12), NULL when it is not a number."""
    return (
        f"CASE WHEN regexp_full_match(trim({raw}), '{DECIMAL_PATTERN}') "
        f"THEN TRY_CAST(trim({raw}) AS DECIMAL(38,12)) END"
    )


def sql_date(raw: str) -> str:
    """SQL turning VARCHAR ``raw`` into DATE (EA or ISO form), NULL otherwise."""
    return (
        f"CASE WHEN regexp_full_match(trim({raw}), '{US_DATE_PATTERN}') "
        f"THEN CAST(try_strptime(trim({raw}), '%m/%d/%Y') AS DATE) "
        f"WHEN regexp_full_match(trim({raw}), '{ISO_DATE_PATTERN}') "
        f"THEN TRY_CAST(substr(trim({raw}), 1, 10) AS DATE) END"
    )


def sql_currency_ok(raw: str) -> str:
    return f"regexp_full_match(trim({raw}), '{CURRENCY_PATTERN}')"


def valid_decimal(value: str) -> bool:
    text = value.strip()
    if not _DECIMAL.fullmatch(text):
        return False
    try:
        return abs(Decimal(text)) < MAX_INTEGER
    except InvalidOperation:
        return False


def parse_date(value: str) -> dt.date | None:
    """The date of an EA (MM/DD/YYYY) or MCA (YYYY-MM-DD[T...]) value, else ``None``."""
    text = value.strip()
    try:
        if _US_DATE.fullmatch(text):
            month, day, year = (int(part) for part in text.split("/"))
            return dt.date(year, month, day)
        if _ISO_DATE.fullmatch(text):
            return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None
    return None


def valid_currency(value: str) -> bool:
    return bool(_CURRENCY.fullmatch(value.strip()))
