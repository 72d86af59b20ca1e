"""Finding cost-details export files and reading their headers (CSV, CSV.gz)."""

from __future__ import annotations

from pathlib import Path

from connector.plugin_kit import files
from connector.plugin_kit.files import ExportFiles, Wording
from connector_azure.columns import Header, parse_header

SUFFIXES = (".csv", ".csv.gz")
WHAT = "an Azure cost-details export"
WORDING = Wording(
    what=WHAT,
    empty=(
        "an Azure cost-details export starts with a header line such as "
        "BillingAccountId,BillingAccountName,..."
    ),
    encoding="Azure cost-details exports are UTF-8 CSV",
    header_gzip=(
        "not a gzip file, or a truncated or corrupt one ({error}); a .csv.gz export must be "
        "complete gzip-compressed CSV: download it again"
    ),
    damaged_gzip=(
        "truncated or corrupt gzip file: the data is cut off or damaged {where}({error}); "
        "nothing was ingested: download the export again"
    ),
    sniff=False,
    damage_first=True,
)
NOT_A_FOLDER = (
    "the azure provider's path is not a folder; set providers.azure.path to the "
    "folder the cost-details exports are delivered to"
)


def read_header(path: Path) -> Header:
    """Read and check the header line of one export file."""
    return files.read_csv_header(path, lambda names: parse_header(path, names), WORDING)


EXPORTS = ExportFiles(SUFFIXES, WHAT, NOT_A_FOLDER, read_header)
