"""SQL text for the DuckDB scans of file-reading providers.

A provider's scan is one SQL statement built from the files' headers: paths and names go
in as quoted literals and identifiers (:func:`literal`, :func:`identifier`), and a CSV
file is read with every column as text, so that the provider checks and converts its
own columns in SQL and a bad value in any other column cannot fail the read
(:func:`read_csv_text`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def literal(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier (a column name as a file spells it)."""
    return '"' + name.replace('"', '""') + '"'


def read_csv_text(path: Path, width: int, positions: Mapping[str, int]) -> str:
    """DuckDB's ``read_csv(...)`` of a CSV file (gzip'ed when named ``.gz``), every column
    read as VARCHAR.

    Only the columns read get names, their aliases (``positions``: alias -> 0-based
    position); the other ``width`` columns are placeholders ``c<position>``, so headers
    whose names clash case-insensitively (tags, extension columns) still read. The
    header line is skipped, never sniffed: quotes and escapes are the RFC 4180 ones.
    """
    alias_at = {position: alias for alias, position in positions.items()}
    spec = ", ".join(f"{literal(alias_at.get(i, f'c{i}'))}: 'VARCHAR'" for i in range(width))
    compression = "gzip" if path.name.lower().endswith(".gz") else "none"
    return (
        f"read_csv({literal(str(path))}, "
        f"header = true, auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        f"compression = {literal(compression)}, columns = {{{spec}}})"
    )
