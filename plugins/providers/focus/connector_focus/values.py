"""The value rules shared by the DuckDB scan and the Python diagnosis, kept side by side.

Real FOCUS files are not spec-clean: empty values and the literal text ``NULL`` both
mean null, and ChargeCategory / ChargeFrequency / ChargeClass come in any case and with
or without the hyphen (``Usage-Based``, ``Usage-based``, ``usagebased``). The happy path
checks values in SQL; only when a check fails does Python re-read the file to name the
first offending row. Both must agree, so both are defined here.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from connector.contracts import ChargeCategory
from connector_focus.columns import CATEGORY, CHARGE_CLASS, CURRENCY, DATE, DECIMAL, FREQUENCY

# 16 places keep what clouds write (Azure: up to 16) exactly; 22 integer digits suffice.
SQL_DECIMAL = "DECIMAL(38,16)"
MAX_INTEGER = Decimal(10) ** 22
DECIMAL_PATTERN = r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?"
# FOCUS date-times are ISO 8601 (2024-10-01T00:00:00Z); only the date is used.
DATE_PATTERN = r"\d{4}-\d{2}-\d{2}([T ].*)?"
CURRENCY_PATTERN = r"[A-Z]{3}"

CATEGORIES = {c.value.casefold(): c.value for c in ChargeCategory}
FREQUENCIES = {"onetime": "One-Time", "recurring": "Recurring", "usagebased": "Usage-Based"}
CHARGE_CLASSES = {"correction": "Correction"}
CHOICES = {CATEGORY: CATEGORIES, FREQUENCY: FREQUENCIES, CHARGE_CLASS: CHARGE_CLASSES}

EXPECTED = {
    DECIMAL: "a decimal number like 12.3456",
    DATE: "an ISO 8601 date-time like 2024-10-01T00:00:00Z",
    CURRENCY: "a three-letter ISO 4217 currency code in capitals like USD",
    CATEGORY: "one of " + ", ".join(CATEGORIES.values()) + " (any case)",
    FREQUENCY: "one of " + ", ".join(FREQUENCIES.values()) + " (any case)",
    CHARGE_CLASS: "Correction or null",
}

_DECIMAL = re.compile(DECIMAL_PATTERN)
_DATE = re.compile(DATE_PATTERN)
_CURRENCY = re.compile(CURRENCY_PATTERN)
_NOT_LETTERS = re.compile(r"[^a-z]")


def sql_text(raw: str) -> str:
    """SQL: trimmed VARCHAR, NULL for empty and for the literal ``NULL`` (any case)."""
    return f"CASE WHEN upper(trim({raw})) IN ('', 'NULL') THEN NULL ELSE trim({raw}) END"


def sql_decimal(text: str) -> str:
    """SQL: DECIMAL from cleaned text, NULL when it is not a number."""
    return (
        f"CASE WHEN regexp_full_match({text}, '{DECIMAL_PATTERN}') "
        f"THEN TRY_CAST({text} AS {SQL_DECIMAL}) END"
    )


def sql_date(text: str) -> str:
    return (
        f"CASE WHEN regexp_full_match({text}, '{DATE_PATTERN}') "
        f"THEN TRY_CAST(substr({text}, 1, 10) AS DATE) END"
    )


def sql_choice(text: str, kind: str) -> str:
    """SQL: the canonical spelling of a category / frequency / class, NULL if unknown."""
    folded = f"regexp_replace(lower({text}), '[^a-z]', '', 'g')"
    cases = " ".join(f"WHEN '{key}' THEN '{value}'" for key, value in CHOICES[kind].items())
    return f"CASE {folded} {cases} END"


def sql_currency_ok(text: str) -> str:
    return f"regexp_full_match({text}, '{CURRENCY_PATTERN}')"


def clean(value: str | None) -> str | None:
    """Python twin of :func:`sql_text`."""
    if value is None:
        return None
    text = value.strip()
    return None if text.upper() in ("", "NULL") else text


def valid(kind: str, text: str) -> bool:
    """Whether a cleaned, non-null value of ``kind`` is acceptable (twin of the SQL)."""
    if kind == DECIMAL:
        if not _DECIMAL.fullmatch(text):
            return False
        try:
            return abs(Decimal(text)) < MAX_INTEGER
        except InvalidOperation:
            return False
    if kind == DATE:
        if not _DATE.fullmatch(text):
            return False
        try:
            dt.date.fromisoformat(text[:10])
        except ValueError:
            return False
        return True
    if kind == CURRENCY:
        return bool(_CURRENCY.fullmatch(text))
    if kind in CHOICES:
        return _NOT_LETTERS.sub("", text.lower()) in CHOICES[kind]
    return True
