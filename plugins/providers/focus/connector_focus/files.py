"""Finding FOCUS files, reading their headers (CSV, CSV.gz, Parquet), hashing their bytes."""

from __future__ import annotations

import csv
import gzip
import zlib
from pathlib import Path
from typing import BinaryIO

from connector.contracts import SourceDataError
from connector.file_formats import check_csv_end, check_has_data_row
from connector_focus.columns import Header, parse_header

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIX = ".parquet"
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
MAX_HEADER_BYTES = 1 << 22
WHAT = "a FOCUS export"


def is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(PARQUET_SUFFIX)


def is_gzip(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def find_files(folder: Path, pattern: str) -> list[Path]:
    """The ``.csv`` / ``.csv.gz`` / ``.parquet`` files below ``folder`` matching ``pattern``."""
    if not folder.is_dir():
        raise SourceDataError(
            f"{folder}: the focus provider's path is not a folder; set "
            f"providers.<key>.settings.path to the folder the FOCUS exports are delivered to"
        )
    found = [
        path
        for path in folder.glob(pattern)
        if path.is_file() and path.name.lower().endswith((*CSV_SUFFIXES, PARQUET_SUFFIX))
    ]
    return sorted(found, key=lambda p: p.as_posix())


def open_binary(path: Path) -> BinaryIO:
    """Open a CSV file's bytes, decompressing ``.gz`` files."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # type: ignore[return-value]  # noqa: SIM115


def read_header(path: Path) -> Header:
    """Read and check one file's column names."""
    if path.stat().st_size == 0:
        raise SourceDataError(
            f"{path}: the file is empty (0 bytes); a FOCUS export is a CSV file with a header "
            f"line (BillingAccountId,BillingAccountName,...) or a Parquet file"
        )
    return _parquet_header(path) if is_parquet(path) else _csv_header(path)


def _csv_header(path: Path) -> Header:
    no_rows: SourceDataError | None = None
    try:
        with open_binary(path) as raw:
            first = raw.readline(MAX_HEADER_BYTES)
            if is_gzip(path):
                try:  # a plain file's end is checked below, from its last bytes
                    check_has_data_row(raw, str(path), WHAT)
                except SourceDataError as exc:
                    no_rows = exc
        names = next(csv.reader([first.decode("utf-8-sig")], strict=True), None)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise SourceDataError(
            f"{path}: the gzip data is cut off or corrupt before the end of line 1 ({exc}); "
            f"a .csv.gz export must be gzip-compressed CSV: download it again"
        ) from None
    except UnicodeDecodeError:
        raise SourceDataError(f"{path}: {_not_text_reason(path)}") from None
    except csv.Error as exc:
        raise SourceDataError(f"{path}: line 1 is not CSV ({exc})") from None
    if not names or not any(n.strip() for n in names):
        raise SourceDataError(
            f"{path}: the file is empty; a FOCUS CSV export starts with a header line such "
            f"as BillingAccountId,BillingAccountName,BilledCost,..."
        )
    header = parse_header(path, names, parquet=False)
    if no_rows is not None:
        raise no_rows
    if not is_gzip(path):  # a .gz file's trailer proves it whole; DuckDB checks it
        check_csv_end(path, len(names), WHAT)
    return header


def _parquet_header(path: Path) -> Header:
    import duckdb

    try:
        with duckdb.connect(":memory:") as con:
            rows = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
            (count,) = con.execute(  # the footer's row count: still no row read
                "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(?)", [str(path)]
            ).fetchone()  # type: ignore[misc]
    except duckdb.Error as exc:
        detail = str(exc).splitlines()[0]
        raise SourceDataError(
            f"{path}: not a readable Parquet file ({detail}); it may be cut off or corrupt: "
            f"download it again"
        ) from None
    header = parse_header(path, [row[0] for row in rows], parquet=True)
    if not count:  # a schema and no row group: the Parquet form of a header-only export
        raise SourceDataError(
            f"no data rows in {path}: the Parquet file holds its schema and no row, but "
            f"{WHAT} has at least one; the export is incomplete or failed: export it again"
        )
    return header


def _not_text_reason(path: Path) -> str:
    with open(path, "rb") as raw:
        start = raw.read(4)
    if start.startswith(GZIP_MAGIC) and not is_gzip(path):
        return "the file is gzip-compressed but its name does not end in .gz; rename it"
    if start == PARQUET_MAGIC:
        return "this is a Parquet file but its name does not end in .parquet; rename it"
    return "line 1 is not UTF-8 text; a FOCUS export is UTF-8 CSV, CSV.gz or Parquet"
