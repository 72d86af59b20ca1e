"""Finding CUR files and reading their headers (CSV, CSV.gz, Parquet)."""

from __future__ import annotations

from pathlib import Path

from connector.contracts import SourceDataError
from connector.plugin_kit import files
from connector.plugin_kit.files import PARQUET_MAGIC, Wording, is_parquet
from connector_aws.columns import CSV, PARQUET, Header, parse_header

READ_SUFFIXES = (".csv", ".csv.gz", ".parquet")
WHAT = "a Cost and Usage Report file"
WORDING = Wording(
    what=WHAT,
    empty=(
        "a CUR CSV starts with a header line such as identity/LineItemId,"
        "bill/PayerAccountId,... (legacy) or bill_payer_account_id,... (CUR 2.0)"
    ),
    encoding="CUR files are UTF-8 CSV",
    not_text="not a CSV text file (it is not UTF-8 text); a CUR file is CSV, CSV.gz or Parquet",
    header_gzip=(
        "not a gzip file or cut off ({error}); a .csv.gz CUR file must be complete "
        "gzip-compressed CSV: download it again"
    ),
    damaged_gzip=(
        "the gzip data is cut off or corrupt {where}({error}); download the report file again"
    ),
    row="CUR row",
    parquet_misnamed="this is a Parquet file; name it .parquet so that it is read as Parquet",
    parquet_unreadable="the Parquet file is cut off or corrupt ({detail}); download it again",
)


def find_cur_files(folder: Path, pattern: str) -> list[Path]:
    """The ``.csv`` / ``.csv.gz`` / ``.parquet`` files below ``folder`` matching ``pattern``,
    sorted by path.

    A matching ``.csv.zip`` raises: skipping it would silently drop charges; so do two
    files with the same bytes (the keep-versions layout's current copy beside its
    assembly folder's), which would bill every row twice.
    """
    found = files.find_files(
        folder,
        pattern,
        READ_SUFFIXES,
        not_a_folder=(
            "the aws provider's path is not a folder; set providers.aws.path to the folder "
            "the Cost and Usage Report is delivered to"
        ),
        refused={
            ".csv.zip": (
                "ZIP-compressed CUR files are not read; set the report's compression to GZIP "
                "(or unzip it next to the others)"
            )
        },
    )
    files.refuse_identical_copies(found, WHAT)
    return found


def read_header(path: Path, label: str = "") -> Header:
    """Read and check the header (CSV) or schema (Parquet) of one CUR file.

    :param label: how messages name the file, when not by its path (a downloaded one).
    Raises :class:`SourceDataError` for an empty file, a file that is neither (gzip) CSV
    text nor Parquet, another provider's export, or missing required columns. A plain
    CSV cut exactly at a line end cannot be told from a whole one: no local evidence
    exists for that (the legacy manifest lists report keys without sizes or row counts).
    """
    if is_parquet(path):
        return read_parquet_schema(path, label)
    return files.read_csv_header(
        path, lambda names: parse_header(path, names, label=label, kind=CSV), WORDING, label
    )


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
    return files.read_parquet_header(
        path,
        lambda names, types: parse_header(path, names, label=label, kind=PARQUET, types=types),
        WORDING,
        label,
    )
