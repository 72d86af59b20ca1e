"""Finding the line behind bad export data, for an error message a person can act on.

Runs only after DuckDB rejected a file or flagged a row: the happy path never reads a row
in Python. Lines are physical lines of the file, the header being line 1; the files are
re-read with :mod:`connector.plugin_kit.rows`.

Damaged gzip data can decompress to garbage before the stream fails its check; a bad row
in a ``.gz`` file is therefore reported as the damage it comes from when the stream does
not read to its end (``damage_first`` in the export's wording).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from connector.plugin_kit.rows import bad_value, check_gzip_whole, csv_rows
from connector.plugin_kit.values import EXPECTED_CURRENCY, EXPECTED_DECIMAL, valid_currency
from connector_azure.columns import BY_ALIAS, COLUMNS, DATE, DECIMAL, Header
from connector_azure.files import WORDING
from connector_azure.values import EXPECTED_DATE, parse_date, valid_decimal

EXPECTED_TEXT = {
    "billing_account": "the billing account id (EA enrollment or MCA billing account)",
    "charge_type": "a charge type such as Usage, Purchase, Refund or Tax",
    "currency": EXPECTED_CURRENCY,
}


def rows(header: Header) -> Iterator[tuple[int, list[str]]]:
    """``(line, row)`` for every data row, ``line`` being where the row starts.

    Raises :class:`SourceDataError` itself for rows that are not CSV at all.
    """
    return csv_rows(header.path, len(header.names), WORDING)


def _problem(header: Header, row: list[str]) -> tuple[str, str, str] | None:
    """``(alias, value, expected)`` for the first bad value of ``row``, else ``None``."""
    for column in COLUMNS:
        position = header.positions.get(column.alias)
        if position is None:
            continue
        value = row[position]
        if not value.strip():
            if column.not_empty:
                return column.alias, value, expected(column.alias)
            continue
        if column.kind == DECIMAL and not valid_decimal(value):
            return column.alias, value, EXPECTED_DECIMAL
        if column.kind == DATE and parse_date(value) is None:
            return column.alias, value, EXPECTED_DATE
        if column.alias == "currency" and not valid_currency(value):
            return column.alias, value, EXPECTED_CURRENCY
    return None


def expected(alias: str) -> str:
    column = BY_ALIAS[alias]
    if column.kind == DECIMAL:
        return EXPECTED_DECIMAL
    if column.kind == DATE:
        return EXPECTED_DATE
    return EXPECTED_TEXT.get(alias, f"a value for {column.label}")


def find_bad_value(headers: Sequence[Header]) -> str | None:
    """The message for the first bad value over all files, or ``None`` if none is found.

    Raises :class:`SourceDataError` itself for rows that are not CSV at all.
    """
    for header in headers:
        for line, row in rows(header):
            problem = _problem(header, row)
            if problem is not None:
                check_gzip_whole(header.path, WORDING)
                alias, value, what = problem
                column = header.column_name(alias)
                return bad_value(str(header.path), f"line {line}", column, value, what)
    return None
