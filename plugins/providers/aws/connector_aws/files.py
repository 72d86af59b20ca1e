"""Finding CUR files, opening them (gzip-aware), reading headers, hashing their bytes."""

from __future__ import annotations

import csv
import gzip
import hashlib
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from connector.contracts import SourceDataError
from connector_aws.columns import Header, parse_header

READ_SUFFIXES = (".csv", ".csv.gz")
CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
MAX_HEADER_BYTES = 1 << 22  # real CUR headers with every tag column stay far below 4 MiB


def is_gzip(path: Path) -> bool:
    """Whether ``path`` is read as gzip: decided by its name, as DuckDB does."""
    return path.name.lower().endswith(".gz")


def find_cur_files(folder: Path, pattern: str) -> list[Path]:
    """The ``.csv`` / ``.csv.gz`` files below ``folder`` matching ``pattern``, sorted by path.

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
        if name.endswith(".zip"):
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


def read_header(path: Path) -> Header:
    """Read and check the header line of one CUR file.

    Raises :class:`SourceDataError` for an empty file, a file that is not (gzip) CSV text,
    a CUR 2.0 file, or missing required columns.
    """
    try:
        with open_binary(path) as raw:
            # Only the first line is decoded, so a bad byte further down is reported by
            # the row checks with its own line number, not blamed on the header.
            first = raw.readline(MAX_HEADER_BYTES)
        names = next(csv.reader([first.decode("utf-8-sig")], strict=True), None)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise SourceDataError(
            f"{path}: not a gzip file ({exc}); a .csv.gz CUR file must be gzip-compressed CSV"
        ) from None
    except UnicodeDecodeError:
        raise SourceDataError(f"{path}: {_not_text_reason(path)}") from None
    except csv.Error as exc:
        raise SourceDataError(f"{path}: line 1 is not CSV ({exc})") from None
    if not names or not any(n.strip() for n in names):
        raise SourceDataError(
            f"{path}: the file is empty; a legacy CUR CSV starts with a header line "
            f"such as identity/LineItemId,bill/PayerAccountId,..."
        )
    return parse_header(path, names)


def _not_text_reason(path: Path) -> str:
    with open(path, "rb") as raw:
        start = raw.read(4)
    if start.startswith(GZIP_MAGIC) and not is_gzip(path):
        return "the file is gzip-compressed but its name does not end in .gz; rename it"
    if start == b"PAR1":
        return "this is a Parquet file; only CSV and CSV.gz CUR files are read"
    return "not a CSV text file (it is not UTF-8 text); a CUR file is CSV or CSV.gz"


def file_digest(path: Path) -> str:
    """sha256 of one file's bytes, streamed in chunks (safe for multi-GB reports)."""
    digest = hashlib.sha256()
    with open(path, "rb") as raw:
        # hashlib releases the GIL on large updates, so this runs beside the Python work.
        while chunk := raw.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def combined_digest(digests: Iterable[str]) -> str:
    """One hash for several files: sha256 over their digests in path order.

    Hashing digests rather than concatenated bytes keeps file boundaries significant and
    lets each file be read once even when it feeds several billing periods.
    """
    combined = hashlib.sha256()
    for digest in digests:
        combined.update(digest.encode("ascii"))
    return combined.hexdigest()
