"""Finding the line behind bad export data, for an error message a person can act on.

Runs only after DuckDB rejected a file or flagged a row: the happy path never reads a row
in Python. Lines are physical lines of the file, the header being line 1.

Damaged gzip data can decompress to garbage before the stream fails its check; a bad row
in a ``.gz`` file is therefore reported as the damage it comes from when the stream does
not read to its end.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from connector.contracts import SourceDataError
from connector_azure.columns import BY_ALIAS, COLUMNS, DATE, DECIMAL, Header
from connector_azure.files import GZIP_ERRORS, is_gzip, open_binary
from connector_azure.values import (
    EXPECTED_CURRENCY,
    EXPECTED_DATE,
    EXPECTED_DECIMAL,
    parse_date,
    valid_currency,
    valid_decimal,
)

EXPECTED_TEXT = {
    "billing_account": "the billing account id (EA enrollment or MCA billing account)",
    "charge_type": "a charge type such as Usage, Purchase, Refund or Tax",
    "currency": EXPECTED_CURRENCY,
}


def damaged_gzip(path: Path, exc: BaseException, after_line: int | None = None) -> SourceDataError:
    """The error for a ``.gz`` file that is cut off or corrupt (after ``after_line``)."""
    where = f"after line {after_line} " if after_line is not None else ""
    return SourceDataError(
        f"{path}: truncated or corrupt gzip file: the data is cut off or damaged {where}"
        f"({exc}); nothing was ingested: download the export again"
    )


def check_gzip_whole(path: Path) -> None:
    """Raise the damage of a ``.gz`` file whose stream does not read to its end."""
    if not is_gzip(path):
        return
    try:
        with open_binary(path) as raw:
            while raw.read(1 << 20):
                pass
    except GZIP_ERRORS as exc:
        raise damaged_gzip(path, exc) from None


def _lines(path: Path) -> Iterator[str]:
    with open_binary(path) as raw:
        for number, line in enumerate(raw, start=1):
            try:
                yield line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                check_gzip_whole(path)
                raise SourceDataError(
                    f"{path}: line {number} is not UTF-8 text (byte {exc.start + 1} of the "
                    f"line); Azure cost-details exports are UTF-8 CSV"
                ) from None


def rows(header: Header) -> Iterator[tuple[int, list[str]]]:
    """``(line, row)`` for every data row, ``line`` being where the row starts."""
    path = header.path
    reader = csv.reader(_lines(path), strict=True)
    previous_end = 0
    try:
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if start == 1:
                continue
            if len(row) != len(header.names):
                check_gzip_whole(path)
                raise SourceDataError(
                    f"{path}: line {start} has {len(row)} fields but the header has "
                    f"{len(header.names)}; every row needs one value per column "
                    f"(quote values that contain commas)"
                )
            yield start, row
    except csv.Error as exc:
        check_gzip_whole(path)
        raise SourceDataError(
            f"{path}: line {previous_end + 1} is not valid CSV ({exc}); values with commas, "
            f"quotes or line breaks must be enclosed in double quotes"
        ) from None
    except GZIP_ERRORS as exc:
        raise damaged_gzip(path, exc, after_line=previous_end) from None


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
                check_gzip_whole(header.path)
                alias, value, what = problem
                shown = "empty" if not value.strip() else repr(value)
                return (
                    f"{header.path}: line {line}, column {header.column_name(alias)} is "
                    f"{shown}; it must be {what}"
                )
    return None
