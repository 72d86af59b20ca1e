"""Finding CUR files, opening them (gzip-aware), reading headers, hashing their bytes."""

from __future__ import annotations

import csv
import gzip
import zlib
from pathlib import Path
from typing import BinaryIO

import duckdb

from connector.contracts import SourceDataError
from connector.file_formats import check_csv_end, check_has_data_row
from connector_aws.columns import CSV, PARQUET, Header, parse_header

READ_SUFFIXES = (".csv", ".csv.gz", ".parquet")
PARQUET_MAGIC = b"PAR1"
GZIP_MAGIC = b"\x1f\x8b"
MAX_HEADER_BYTES = 1 << 22
WHAT = "a Cost and Usage Report file"  # real CUR headers with every tag column stay far below 4 MiB


def is_gzip(path: Path) -> bool:
    """Whether ``path`` is read as gzip: decided by its name, as DuckDB does."""
    return path.name.lower().endswith(".gz")


def is_parquet(path: Path) -> bool:
    """Whether ``path`` is read as Parquet: decided by its name."""
    return path.name.lower().endswith(".parquet")


def find_cur_files(folder: Path, pattern: str) -> list[Path]:
    """The ``.csv`` / ``.csv.gz`` / ``.parquet`` files below ``folder`` matching ``pattern``,
    sorted by path.

    A matching ``.csv.zip`` raises: skipping it would silently drop charges.
    """
    if not folder.is_dir():
        raise SourceDataError(
            f"{folder}: the aws provider's path is not a folder; set providers.aws.path to "
            f"the folder the Cost and Usage Report is delivered to"
        )
    found = []
    for path in folder.glob(pattern):
        name = path.name.lower()
        if not path.is_file():
            continue
        if name.endswith(".csv.zip"):
            raise SourceDataError(
                f"{path}: ZIP-compressed CUR files are not read; set the report's "
                f"compression to GZIP (or unzip it next to the others)"
            )
        if name.endswith(READ_SUFFIXES):
            found.append(path)
    return sorted(found, key=lambda p: p.as_posix())


def open_binary(path: Path) -> BinaryIO:
    """Open a CUR file's bytes, decompressing ``.gz`` files."""
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")  # noqa: SIM115


def read_header(path: Path, label: str = "") -> Header:
    """Read and check the header (CSV) or schema (Parquet) of one CUR file.

    :param label: how messages name the file, when not by its path (a downloaded one).
    Raises :class:`SourceDataError` for an empty file, a file that is neither (gzip) CSV
    text nor Parquet, another provider's export, or missing required columns.
    """
    if is_parquet(path):
        return read_parquet_schema(path, label)
    shown = label or str(path)
    no_rows: SourceDataError | None = None
    try:
        with open_binary(path) as raw:
            # Only the first line is decoded, so a bad byte further down is reported by
            # the row checks with its own line number, not blamed on the header.
            first = raw.readline(MAX_HEADER_BYTES)
            if is_gzip(path):
                try:  # a plain file's end is checked below, from its last bytes
                    check_has_data_row(raw, shown, WHAT)
                except SourceDataError as exc:
                    no_rows = exc
        names = next(csv.reader([first.decode("utf-8-sig")], strict=True), None)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise SourceDataError(
            f"{shown}: not a gzip file or cut off ({exc}); a .csv.gz CUR file must be "
            f"complete gzip-compressed CSV: download it again"
        ) from None
    except UnicodeDecodeError:
        raise SourceDataError(f"{shown}: {_not_text_reason(path)}") from None
    except csv.Error as exc:
        raise SourceDataError(f"{shown}: line 1 is not CSV ({exc})") from None
    if not names or not any(n.strip() for n in names):
        raise SourceDataError(
            f"{shown}: the file is empty; a CUR CSV starts with a header line such as "
            f"identity/LineItemId,bill/PayerAccountId,... (legacy) or "
            f"bill_payer_account_id,... (CUR 2.0)"
        )
    header = parse_header(path, names, label=label, kind=CSV)
    if no_rows is not None:
        raise no_rows
    if not is_gzip(path):
        # A .gz file's trailer proves it whole (DuckDB checks it); a plain file's end
        # is the evidence. A file cut exactly at a line end cannot be told from a whole
        # one: no local evidence exists for that (the legacy manifest lists report keys
        # without sizes or row counts).
        check_csv_end(path, len(names), WHAT, shown)
    return header


def read_parquet_schema(path: Path, label: str = "") -> Header:
    """Read and check the schema of one Parquet CUR file (its footer, not its rows)."""
    shown = label or str(path)
    if path.stat().st_size == 0:
        raise SourceDataError(
            f"{shown}: the file is empty; a Parquet CUR file holds a schema and row groups"
        )
    with open(path, "rb") as raw:
        start = raw.read(4)
    if start != PARQUET_MAGIC:
        raise SourceDataError(
            f"{shown}: not a Parquet file (it does not start with PAR1); a .parquet CUR "
            f"file must be Parquet: download it again, or name a CSV file .csv / .csv.gz"
        )
    try:
        with duckdb.connect(":memory:") as con:
            # DESCRIBE reads the footer only; a cut-off file has no footer and fails here.
            described = con.execute(
                "DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]
            ).fetchall()
            (rows,) = con.execute(  # the footer's row count: still no row read
                "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(?)", [str(path)]
            ).fetchone()  # type: ignore[misc]
    except duckdb.Error as exc:
        detail = " ".join(str(exc).splitlines()[:2])
        raise SourceDataError(
            f"{shown}: the Parquet file is cut off or corrupt ({detail}); download it again"
        ) from None
    names = [row[0] for row in described]
    types = {row[0]: row[1] for row in described}
    header = parse_header(path, names, label=label, kind=PARQUET, types=types)
    if not rows:  # a schema and no row group: the Parquet form of a header-only export
        raise SourceDataError(
            f"no data rows in {shown}: the Parquet file holds its schema and no row, but "
            f"{WHAT} has at least one; the export is incomplete or failed: export it again"
        )
    return header


def _not_text_reason(path: Path) -> str:
    with open(path, "rb") as raw:
        start = raw.read(4)
    if start.startswith(GZIP_MAGIC) and not is_gzip(path):
        return "the file is gzip-compressed but its name does not end in .gz; rename it"
    if start == PARQUET_MAGIC:
        return "this is a Parquet file; name it .parquet so that it is read as Parquet"
    return "not a CSV text file (it is not UTF-8 text); a CUR file is CSV, CSV.gz or Parquet"
