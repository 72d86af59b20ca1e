"""Finding the line behind bad CUR data, for an error message a person can act on.

Runs only after DuckDB rejected a file or the aggregated groups failed a check: the happy
path never reads a row in Python. The csv module re-reads CSV files (gzip-aware), DuckDB
re-reads Parquet ones as text, and the first offending value is reported with its file,
1-based physical line (the header is line 1) or Parquet row, column, value and what
would be valid (the files are re-read with :mod:`connector.plugin_kit.rows`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence

from connector.plugin_kit.rows import bad_value, csv_rows, parquet_rows
from connector_aws.columns import BY_ALIAS, DATE, DECIMAL, PARQUET, Header
from connector_aws.files import WORDING
from connector_aws.query import GroupProblem

DATE_EXAMPLE = "a date and time like 2026-10-01T00:00:00Z"
EXPECTED = {
    DECIMAL: "a decimal number like 12.3456",
    DATE: DATE_EXAMPLE,
}

# What DuckDB's CSV reader accepts as DECIMAL(38,12), and as DATE: a date at the start,
# whatever follows it (2026-10-01T00:00:00Z is 2026-10-01).
_DECIMAL = re.compile(r"\s*[+-]?(?P<int>\d*)(\.(?P<frac>\d*))?(?P<exp>[eE][+-]?\d+)?\s*")
_DATE = re.compile(r"\s*(?P<y>\d{1,4})(?P<sep>[-/])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d)")
MAX_INTEGER_DIGITS = 26  # DECIMAL(38,12)


def valid_decimal(value: str) -> bool:
    """Whether DuckDB can read ``value`` as DECIMAL(38,12)."""
    match = _DECIMAL.fullmatch(value)
    if not match or not (match["int"] or match["frac"]):
        return False
    return match["exp"] is not None or len(match["int"].lstrip("0")) <= MAX_INTEGER_DIGITS


def date_of(value: str) -> dt.date | None:
    """The date DuckDB reads from ``value``, or ``None`` where it finds none."""
    match = _DATE.match(value)
    if not match:
        return None
    try:
        return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None


def valid_date(value: str) -> bool:
    """Whether DuckDB can read ``value`` as DATE (CUR writes 2026-10-01T00:00:00Z)."""
    return date_of(value) is not None


VALIDATORS: dict[str, Callable[[str], bool]] = {DECIMAL: valid_decimal, DATE: valid_date}

Row = list[str]


def rows(header: Header) -> Iterator[tuple[int, Row]]:
    """``(line, row)`` for every data row of ``header``'s file, ``line`` where it starts
    (for Parquet, the 1-based row number; the columns not read are empty there)."""
    if header.kind != PARQUET:
        yield from csv_rows(header.path, len(header.names), WORDING, header.shown)
        return
    aliases = list(header.positions)
    names = [header.names[header.positions[alias]] for alias in aliases]
    for number, values in parquet_rows(header.path, names):
        row = [""] * len(header.names)
        for alias, text in zip(aliases, values, strict=True):
            row[header.positions[alias]] = "" if text is None else text
        yield number, row


def value(header: Header, row: Row, alias: str) -> str:
    """The raw text of column ``alias`` in ``row`` ('' when the file lacks the column)."""
    position = header.positions.get(alias)
    return "" if position is None else row[position]


def first_row(
    headers: Sequence[Header], test: Callable[[Header, Row], bool]
) -> tuple[Header, int, Row] | None:
    """The first row, over all files in order, for which ``test`` is true."""
    for header in headers:
        for line, row in rows(header):
            if test(header, row):
                return header, line, row
    return None


def bad_value_message(header: Header, line: int, alias: str, raw: str, expected: str) -> str:
    """The standard message: file, line, column, value, and what would be valid."""
    return bad_value(header.shown, header.where(line), header.column_name(alias), raw, expected)


def find_unreadable_value(headers: Sequence[Header]) -> str | None:
    """Message for the first value DuckDB's typed read rejects, or ``None`` if none is found.

    Also raises :class:`SourceDataError` itself for rows that are not CSV at all (wrong
    number of fields, broken quoting, bytes that are not UTF-8).
    """
    for header in headers:
        typed = [
            (alias, position, VALIDATORS[BY_ALIAS[alias].type])
            for alias, position in header.positions.items()
            if alias in BY_ALIAS and BY_ALIAS[alias].type in VALIDATORS
        ]
        for line, row in rows(header):
            for alias, position, validator in typed:
                raw = row[position]
                # Empty values read as NULL; required ones are caught in the groups.
                if raw and not validator(raw):
                    return bad_value_message(header, line, alias, raw, expected(alias))
    return None


EXPECTED_TEXT = {
    "payer_account": "the payer's 12-digit AWS account id",
    "usage_account": "the 12-digit AWS account id that used the service",
    "line_item_type": "a line item type such as Usage, Tax or Credit",
    "currency": "a three-letter ISO 4217 currency code in capitals like USD",
}


def expected(alias: str) -> str:
    """What a valid value of column ``alias`` looks like, for messages."""
    return EXPECTED_TEXT.get(alias) or EXPECTED[BY_ALIAS[alias].type]


def problem_message(headers: Sequence[Header], problem: GroupProblem) -> str:
    """The message for a group that failed a check, naming the first line behind it."""
    if problem.empty:

        def is_empty(header: Header, row: Row) -> bool:
            return any(not value(header, row, alias).strip() for alias in problem.empty)

        found = first_row(headers, is_empty)
        if found is not None:
            header, line, row = found
            alias = next(a for a in problem.empty if not value(header, row, a).strip())
            return bad_value_message(header, line, alias, "", expected(alias))
        columns = ", ".join(headers[0].column_name(a) for a in problem.empty)
        return f"{_names(headers)}: a row has no value in {columns}"
    if problem.currency is not None:
        currency = problem.currency
        found = first_row(headers, lambda h, r: value(h, r, "currency") == currency)
        if found is not None:
            return bad_value_message(found[0], found[1], "currency", currency, expected("currency"))
        name = headers[0].column_name("currency")
        return f"{_names(headers)}: {name} {currency!r} is not like USD"
    if problem.date is not None:
        alias, day = problem.date

        def has_date(header: Header, row: Row) -> bool:
            raw = value(header, row, alias) or (
                value(header, row, "usage_start") if alias == "usage_end" else ""
            )
            return date_of(raw) == day

        found = first_row(headers, has_date)
        if found is not None:
            raw = value(found[0], found[2], alias)
            return bad_value_message(found[0], found[1], alias, raw, DATE_EXAMPLE)
        name = headers[0].column_name(alias)
        return f"{_names(headers)}: {name} {day} is not a plausible date"
    assert problem.period is not None
    start, end = problem.period

    def is_reversed(header: Header, row: Row) -> bool:
        return (
            date_of(value(header, row, "period_start")) == start
            and date_of(value(header, row, "period_end")) == end
        )

    found = first_row(headers, is_reversed)
    header = found[0] if found else headers[0]
    where = f"{header.shown}: {header.where(found[1])}" if found else _names(headers)
    return (
        f"{where}: {header.column_name('period_end')} {end} is not after "
        f"{header.column_name('period_start')} {start}; it must be the first day after "
        f"the period, like 2026-11-01T00:00:00Z"
    )


def _names(headers: Sequence[Header]) -> str:
    return ", ".join(h.shown for h in headers)
