"""Finding the row behind bad FOCUS data, for an error message a person can act on.

Runs only after DuckDB rejected a file or flagged a row: the happy path never reads a row
in Python. CSV rows are named by physical line (the header being line 1), Parquet rows
by row number (the first row being row 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import zlib
from collections.abc import Iterator, Sequence

from connector.contracts import SourceDataError
from connector_focus.columns import COLUMNS, DATE, Header
from connector_focus.files import open_binary
from connector_focus.values import EXPECTED, clean, valid

BATCH = 10_000


def _lines(header: Header) -> Iterator[str]:
    with open_binary(header.path) as raw:
        for number, line in enumerate(raw, start=1):
            try:
                yield line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise SourceDataError(
                    f"{header.path}: line {number} is not UTF-8 text (byte {exc.start + 1} of "
                    f"the line); FOCUS CSV exports are UTF-8"
                ) from None


def _csv_rows(header: Header) -> Iterator[tuple[str, dict[str, str | None]]]:
    path = header.path
    reader = csv.reader(_lines(header), strict=True)
    previous_end = 0
    try:
        for row in reader:
            start, previous_end = previous_end + 1, reader.line_num
            if start == 1:
                continue
            if len(row) != len(header.names):
                raise SourceDataError(
                    f"{path}: line {start} has {len(row)} fields but the header has "
                    f"{len(header.names)}; every row needs one value per column (quote values "
                    f"that contain commas)"
                )
            yield f"line {start}", {a: row[p] for a, p in header.positions.items()}
    except csv.Error as exc:
        raise SourceDataError(
            f"{path}: line {previous_end + 1} is not valid CSV ({exc}); values with commas, "
            f"quotes or line breaks must be enclosed in double quotes"
        ) from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise SourceDataError(
            f"{path}: the gzip data is cut off or corrupt after line {previous_end} ({exc}); "
            f"download the export again (nothing from it was ingested)"
        ) from None


def _parquet_rows(header: Header) -> Iterator[tuple[str, dict[str, str | None]]]:
    import duckdb

    aliases = list(header.positions)
    names = ", ".join(
        'CAST("' + header.names[header.positions[a]].replace('"', '""') + '" AS VARCHAR)'
        for a in aliases
    )
    with duckdb.connect(":memory:") as con:
        con.execute("SET TimeZone = 'UTC'")
        cursor = con.execute(f"SELECT {names} FROM read_parquet(?)", [str(header.path)])
        number = 0
        while batch := cursor.fetchmany(BATCH):
            for values in batch:
                number += 1
                yield f"row {number}", dict(zip(aliases, values, strict=True))


def _problem(header: Header, row: dict[str, str | None]) -> str | None:
    for column in COLUMNS:
        if not header.has(column.alias):
            continue
        raw = row[column.alias]
        value = clean(raw)
        if value is None:
            if column.not_empty:
                shown = "empty" if raw is None or not raw.strip() else repr(raw)
                what = EXPECTED.get(column.kind, f"a {column.name}")
                return f"column {header.column_name(column.alias)} is {shown}; it must be {what}"
            continue
        if not valid(column.kind, value):
            return (
                f"column {header.column_name(column.alias)} is {raw!r}; it must be "
                f"{EXPECTED[column.kind]}"
            )
    start, end = clean(row.get("period_start")), clean(row.get("period_end"))
    dates_valid = start and end and valid(DATE, start) and valid(DATE, end)
    if dates_valid and dt.date.fromisoformat(end[:10]) <= dt.date.fromisoformat(start[:10]):
        return (
            f"column {header.column_name('period_end')} is {end!r}, not after "
            f"{header.column_name('period_start')} {start!r}; a billing period ends after "
            f"it starts"
        )
    return None


def rows(header: Header) -> Iterator[tuple[str, dict[str, str | None]]]:
    """``("line 7" / "row 6", {alias: raw value})`` for every data row of one file."""
    return _parquet_rows(header) if header.parquet else _csv_rows(header)


def find_bad_value(headers: Sequence[Header]) -> str | None:
    """The message for the first bad value over all files, or ``None`` if none is found.

    Raises :class:`SourceDataError` itself for rows that are not CSV at all.
    """
    for header in headers:
        rows = _parquet_rows(header) if header.parquet else _csv_rows(header)
        for where, row in rows:
            problem = _problem(header, row)
            if problem is not None:
                return f"{header.path}: {where}, {problem}"
    return None
