"""Finding FOCUS files and reading their headers (CSV, CSV.gz, Parquet)."""

from __future__ import annotations

from pathlib import Path

from connector.contracts import SourceDataError
from connector.plugin_kit import files
from connector.plugin_kit.files import ExportFiles, Wording, is_parquet
from connector_focus.columns import Header, parse_header

SUFFIXES = (".csv", ".csv.gz", ".parquet")
WHAT = "a FOCUS export"
WORDING = Wording(
    what=WHAT,
    empty=(
        "a FOCUS CSV export starts with a header line such as "
        "BillingAccountId,BillingAccountName,BilledCost,..."
    ),
    encoding="FOCUS CSV exports are UTF-8",
    not_text="line 1 is not UTF-8 text; a FOCUS export is UTF-8 CSV, CSV.gz or Parquet",
)
NOT_A_FOLDER = (
    "the focus provider's path is not a folder; set providers.<key>.settings.path "
    "to the folder the FOCUS exports are delivered to"
)


def read_header(path: Path) -> Header:
    """Read and check one file's column names."""
    if path.stat().st_size == 0:
        raise SourceDataError(
            f"{path}: the file is empty (0 bytes); a FOCUS export is a CSV file with a header "
            f"line (BillingAccountId,BillingAccountName,...) or a Parquet file"
        )
    if is_parquet(path):
        return files.read_parquet_header(
            path, lambda names, _types: parse_header(path, names), WORDING
        )
    return files.read_csv_header(path, lambda names: parse_header(path, names), WORDING)


EXPORTS = ExportFiles(SUFFIXES, WHAT, NOT_A_FOLDER, read_header)
