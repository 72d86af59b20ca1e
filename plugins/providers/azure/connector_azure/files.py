"""Finding export files, opening them (gzip-aware), reading headers, hashing their bytes."""

from __future__ import annotations

import csv
import gzip
import zlib
from pathlib import Path
from typing import BinaryIO

from connector.contracts import SourceDataError
from connector.file_formats import check_csv_end, check_has_data_row
from connector_azure.columns import Header, parse_header

# What reading a cut-off or corrupt .gz file raises.
GZIP_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile)

READ_SUFFIXES = (".csv", ".csv.gz")
MAX_HEADER_BYTES = 1 << 22
WHAT = "an Azure cost-details export"


def is_gzip(path: Path) -> bool:
    """Whether ``path`` is read as gzip: decided by its name, as DuckDB does."""
    return path.name.lower().endswith(".gz")


def find_files(folder: Path, pattern: str) -> list[Path]:
    """The ``.csv`` / ``.csv.gz`` files below ``folder`` matching ``pattern``, by path."""
    if not folder.is_dir():
        raise SourceDataError(
            f"{folder}: the azure provider's path is not a folder; set providers.azure.path "
            f"to the folder the cost-details exports are delivered to"
        )
    found = [
        path
        for path in folder.glob(pattern)
        if path.is_file() and path.name.lower().endswith(READ_SUFFIXES)
    ]
    return sorted(found, key=lambda p: p.as_posix())


def open_binary(path: Path) -> BinaryIO:
    """Open an export's bytes, decompressing ``.gz`` files."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # noqa: SIM115


def read_header(path: Path) -> Header:
    """Read and check the header line of one export file."""
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
    except GZIP_ERRORS as exc:
        raise SourceDataError(
            f"{path}: not a gzip file, or a truncated or corrupt one ({exc}); a .csv.gz "
            f"export must be complete gzip-compressed CSV: download it again"
        ) from None
    except UnicodeDecodeError:
        raise SourceDataError(
            f"{path}: line 1 is not UTF-8 text; Azure cost-details exports are UTF-8 CSV"
        ) from None
    except csv.Error as exc:
        raise SourceDataError(f"{path}: line 1 is not CSV ({exc})") from None
    if not names or not any(n.strip() for n in names):
        raise SourceDataError(
            f"{path}: the file is empty; an Azure cost-details export starts with a header "
            f"line such as BillingAccountId,BillingAccountName,..."
        )
    header = parse_header(path, names)
    if no_rows is not None:
        raise no_rows
    if not is_gzip(path):  # a .gz file's trailer proves it whole; DuckDB checks it
        check_csv_end(path, len(names), WHAT)
    return header
