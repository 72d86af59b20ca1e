"""Finding the row behind bad FOCUS data, for an error message a person can act on.

Runs only after DuckDB rejected a file or flagged a row: the happy path never reads a row
in Python. CSV rows are named by physical line (the header being line 1), Parquet rows
by row number (the first row being row 1); the files are re-read with
:mod:`connector.plugin_kit.rows`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from connector.plugin_kit.rows import bad_value, csv_rows, parquet_rows
from connector_focus.columns import COLUMNS, DATE, Header
from connector_focus.files import WORDING
from connector_focus.values import EXPECTED, clean, valid


def _problem(header: Header, where: str, row: dict[str, str | None]) -> str | None:
    """The message for the first bad value of ``row`` (at ``where``), else ``None``."""
    shown = str(header.path)
    for column in COLUMNS:
        if not header.has(column.alias):
            continue
        raw = row[column.alias]
        value = clean(raw)
        name = header.column_name(column.alias)
        if value is None:
            if column.not_empty:
                what = EXPECTED.get(column.kind, f"a {column.name}")
                return bad_value(shown, where, name, raw, what)
            continue
        if not valid(column.kind, value):
            return bad_value(shown, where, name, raw, EXPECTED[column.kind])
    start, end = clean(row.get("period_start")), clean(row.get("period_end"))
    dates_valid = start and end and valid(DATE, start) and valid(DATE, end)
    if dates_valid and dt.date.fromisoformat(end[:10]) <= dt.date.fromisoformat(start[:10]):
        return (
            f"{shown}: {where}, column {header.column_name('period_end')} is {end!r}, not "
            f"after {header.column_name('period_start')} {start!r}; a billing period ends "
            f"after it starts"
        )
    return None


def rows(header: Header) -> Iterator[tuple[str, dict[str, str | None]]]:
    """``("line 7" / "row 6", {alias: raw value})`` for every data row of one file.

    Raises :class:`SourceDataError` itself for rows that are not CSV at all.
    """
    aliases = list(header.positions)
    if header.parquet:
        names = [header.names[header.positions[alias]] for alias in aliases]
        for number, values in parquet_rows(header.path, names):
            yield f"row {number}", dict(zip(aliases, values, strict=True))
        return
    for line, row in csv_rows(header.path, len(header.names), WORDING):
        yield f"line {line}", {alias: row[p] for alias, p in header.positions.items()}


def find_bad_value(headers: Sequence[Header]) -> str | None:
    """The message for the first bad value over all files, or ``None`` if none is found.

    Raises :class:`SourceDataError` itself for rows that are not CSV at all.
    """
    for header in headers:
        for where, row in rows(header):
            problem = _problem(header, where, row)
            if problem is not None:
                return problem
    return None
