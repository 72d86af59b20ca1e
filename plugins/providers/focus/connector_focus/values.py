"""The value rules shared by the DuckDB scan and the Python diagnosis, kept side by side.

Real FOCUS files are not spec-clean: empty values and the literal text ``NULL`` both
mean null, and ChargeCategory / ChargeFrequency / ChargeClass come in any case and with
or without the hyphen (``Usage-Based``, ``Usage-based``, ``usagebased``). The happy path
checks values in SQL; only when a check fails does Python re-read the file to name the
first offending row. Both must agree, so both are defined here.
"""

from __future__ import annotations

import re

from connector.contracts import ChargeCategory
from connector.plugin_kit import values
from connector.plugin_kit.values import EXPECTED_CURRENCY, EXPECTED_DECIMAL
from connector_focus.columns import CATEGORY, CHARGE_CLASS, CURRENCY, DATE, DECIMAL, FREQUENCY

# 16 places keep what clouds write (Azure: up to 16) exactly; 22 integer digits suffice.
SQL_DECIMAL = "DECIMAL(38,16)"
INTEGER_DIGITS = 22

CATEGORIES = {c.value.casefold(): c.value for c in ChargeCategory}
FREQUENCIES = {"onetime": "One-Time", "recurring": "Recurring", "usagebased": "Usage-Based"}
CHARGE_CLASSES = {"correction": "Correction"}
CHOICES = {CATEGORY: CATEGORIES, FREQUENCY: FREQUENCIES, CHARGE_CLASS: CHARGE_CLASSES}

EXPECTED = {
    DECIMAL: EXPECTED_DECIMAL,
    # FOCUS date-times are ISO 8601 (2024-10-01T00:00:00Z); only the date is used.
    DATE: "an ISO 8601 date-time like 2024-10-01T00:00:00Z",
    CURRENCY: EXPECTED_CURRENCY,
    CATEGORY: "one of " + ", ".join(CATEGORIES.values()) + " (any case)",
    FREQUENCY: "one of " + ", ".join(FREQUENCIES.values()) + " (any case)",
    CHARGE_CLASS: "Correction or null",
}

_NOT_LETTERS = re.compile(r"[^a-z]")


def sql_text(raw: str) -> str:
    """SQL: trimmed VARCHAR, NULL for empty and for the literal ``NULL`` (any case)."""
    return f"CASE WHEN upper(trim({raw})) IN ('', 'NULL') THEN NULL ELSE trim({raw}) END"


def sql_decimal(text: str) -> str:
    """SQL: DECIMAL from cleaned text, NULL when it is not a number."""
    return values.sql_decimal(text, SQL_DECIMAL)


def sql_date(text: str) -> str:
    """SQL: the DATE of cleaned ISO 8601 text, NULL otherwise."""
    return values.sql_date(text)


def sql_choice(text: str, kind: str) -> str:
    """SQL: the canonical spelling of a category / frequency / class, NULL if unknown."""
    folded = f"regexp_replace(lower({text}), '[^a-z]', '', 'g')"
    cases = " ".join(f"WHEN '{key}' THEN '{value}'" for key, value in CHOICES[kind].items())
    return f"CASE {folded} {cases} END"


def clean(value: str | None) -> str | None:
    """Python twin of :func:`sql_text`."""
    if value is None:
        return None
    text = value.strip()
    return None if text.upper() in ("", "NULL") else text


def valid(kind: str, text: str) -> bool:
    """Whether a cleaned, non-null value of ``kind`` is acceptable (twin of the SQL)."""
    if kind == DECIMAL:
        return values.valid_decimal(text, INTEGER_DIGITS)
    if kind == DATE:
        return values.parse_date(text) is not None
    if kind == CURRENCY:
        return values.valid_currency(text)
    if kind in CHOICES:
        return _NOT_LETTERS.sub("", text.lower()) in CHOICES[kind]
    return True
