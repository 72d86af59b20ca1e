"""Re-reading an export row by row to find the line behind bad data ("find the bad line").

A provider's happy path never reads a row in Python: DuckDB scans and checks the files.
Only when DuckDB refuses a file, or a check flags a row, does the provider re-read the
files here to name the first offending line: :func:`csv_rows` gives each data row of a
CSV file with the physical line it starts on (the header being line 1),
:func:`parquet_rows` each row of a Parquet file with its number (the first being row 1),
and :func:`bad_value` words the message. Rows that are not CSV at all (a wrong number of
fields, broken quoting, bytes that are not UTF-8, damaged gzip data) raise
:class:`SourceDataError` as they are met.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

from connector.contracts import SourceDataError
from connector.plugin_kit.files import GZIP_ERRORS, Wording, is_gzip, open_binary
from connector.plugin_kit.sql import identifier

PARQUET_BATCH = 10_000


def damaged_gzip(
    path: Path, exc: BaseException, wording: Wording, after_line: int | None = None, shown: str = ""
) -> SourceDataError:
    """The error for a ``.gz`` file that is cut off or corrupt (after ``after_line``)."""
    where = f"after line {after_line} " if after_line is not None else ""
    message = wording.damaged_gzip.format(where=where, error=exc)
    return SourceDataError(f"{shown or path}: {message}")


def check_gzip_whole(path: Path, wording: Wording, shown: str = "") -> None:
    """Raise the damage of a ``.gz`` file whose stream does not read to its end (a plain
    file passes)."""
    if not is_gzip(path):
        return
    try:
        with open_binary(path) as raw:
            while raw.read(1 << 20):
                pass
    except GZIP_ERRORS as exc:
        raise damaged_gzip(path, exc, wording, shown=shown) from None


def _damage_first(path: Path, wording: Wording, shown: str) -> None:
    if wording.damage_first:
        check_gzip_whole(path, wording, shown)


def _lines(path: Path, wording: Wording, shown: str) -> Iterator[str]:
    """The file's physical lines, decoded one at a time so a bad byte has a line number."""
    with open_binary(path) as raw:
        for number, line in enumerate(raw, start=1):
            try:
                yield line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                _damage_first(path, wording, shown)
                raise SourceDataError(
                    f"{shown}: line {number} is not UTF-8 text (byte {exc.start + 1} of the "
                    f"line); {wording.encoding}"
                ) from None


def csv_rows(
    path: Path, width: int, wording: Wording, shown: str = ""
) -> Iterator[tuple[int, list[str]]]:
    """``(line, row)`` for every data row of a CSV file, ``line`` being where it starts.

    Raises :class:`SourceDataError` for a row whose number of fields is not the header's
    ``width``, broken quoting, a line that is not UTF-8 text and gzip data that fails.

    :param shown: how messages name the file (default: its path).
    """
    shown = shown or str(path)
    reader = csv.reader(_lines(path, wording, shown), strict=True)
    previous_end = 0
    try:
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if start == 1:
                continue  # the header, already checked
            if len(row) != width:
                _damage_first(path, wording, shown)
                raise SourceDataError(
                    f"{shown}: line {start} has {len(row)} fields but the header has "
                    f"{width}; every {wording.row} needs one value per column (quote values "
                    f"that contain commas)"
                )
            yield start, row
    except csv.Error as exc:
        _damage_first(path, wording, shown)
        raise SourceDataError(
            f"{shown}: line {previous_end + 1} is not valid CSV ({exc}); values with commas, "
            f"quotes or line breaks must be enclosed in double quotes"
        ) from None
    except GZIP_ERRORS as exc:
        raise damaged_gzip(path, exc, wording, previous_end, shown) from None


def parquet_rows(
    path: Path, columns: Sequence[str]
) -> Iterator[tuple[int, tuple[str | None, ...]]]:
    """``(row, values)`` for every row of a Parquet file: its 1-based number and the
    ``columns`` (names as the file spells them) as text, ``None`` for null.

    Values are DuckDB's text of the column's type, time stamps with a time zone in UTC
    (the zone the providers' scans read them in).
    """
    import duckdb  # only the plugins that read files depend on DuckDB

    selected = ", ".join(f"CAST({identifier(name)} AS VARCHAR)" for name in columns)
    with duckdb.connect(":memory:") as con:
        con.execute("SET TimeZone = 'UTC'")
        result = con.execute(
            f"SELECT file_row_number, {selected} "
            f"FROM read_parquet(?, file_row_number = true) ORDER BY file_row_number",
            [str(path)],
        )
        while batch := result.fetchmany(PARQUET_BATCH):
            for number, *values in batch:
                yield number + 1, tuple(values)


def bad_value(shown: str, where: str, column: str, raw: str | None, expected: str) -> str:
    """The standard message for a bad value: file, line (or row), column, the value, and
    what would be valid, e.g. ``cur.csv: line 7, column lineItem/UnblendedCost is
    '12,5'; it must be a decimal number like 12.3456``."""
    value = "empty" if raw is None or not raw.strip() else repr(raw)
    return f"{shown}: {where}, column {column} is {value}; it must be {expected}"
