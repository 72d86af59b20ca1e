"""The value rules shared by the DuckDB scan and the Python diagnosis, kept side by side.

The happy path checks values in SQL; only when a check fails does Python re-read the
files to name the first offending line. Both must agree, so both come from
:mod:`connector.plugin_kit.values`, with what cost-details exports write: EA dates as
MM/DD/YYYY, MCA dates as YYYY-MM-DD (possibly followed by a time), money in
DECIMAL(38,12). The SQL functions take a raw VARCHAR column and trim it.
"""

from __future__ import annotations

import datetime as dt

from connector.plugin_kit import values

SQL_DECIMAL = "DECIMAL(38,12)"
INTEGER_DIGITS = 26

EXPECTED_DATE = "a date like 09/21/2023 (EA, MM/DD/YYYY) or 2023-09-21 (MCA, ISO 8601)"


def sql_decimal(raw: str) -> str:
    """SQL turning VARCHAR ``raw`` into DECIMAL(38,12), NULL when it is not a number."""
    return values.sql_decimal(f"trim({raw})", SQL_DECIMAL)


def sql_date(raw: str) -> str:
    """SQL turning VARCHAR ``raw`` into DATE (EA or ISO form), NULL otherwise."""
    return values.sql_date(f"trim({raw})", us_dates=True)


def sql_currency_ok(raw: str) -> str:
    return values.sql_currency_ok(f"trim({raw})")


def valid_decimal(value: str) -> bool:
    return values.valid_decimal(value, INTEGER_DIGITS)


def parse_date(value: str) -> dt.date | None:
    """The date of an EA (MM/DD/YYYY) or MCA (YYYY-MM-DD[T...]) value, else ``None``."""
    return values.parse_date(value, us_dates=True)
