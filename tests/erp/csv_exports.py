"""What the csv sink's tests read back: the export folder, its files and ledger, and the
import templates' header rows as Xero and Intuit publish them (``templates/*.csv``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from connector_erp_csv.ledger import JOURNAL_NAME, LEDGER_NAME

TEMPLATES = Path(__file__).parent / "templates"


def published_header(name: str) -> list[str]:
    """The header row of the import template ``templates/<name>.csv``, copied from the
    ERP's own sample file, never from the plugin."""
    with open(TEMPLATES / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle))


def export_dir(tmp_path: Path) -> Path:
    return tmp_path / "erp"


def csv_files(tmp_path: Path) -> list[str]:
    return sorted(path.name for path in export_dir(tmp_path).glob("*.csv"))


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def ledger(tmp_path: Path) -> dict:  # type: ignore[type-arg]
    """The sink's record of what it exported, by statement: its snapshot with the journal
    of changes since replayed over it, a line of JSON each."""
    directory = export_dir(tmp_path)
    snapshot, journal = directory / LEDGER_NAME, directory / JOURNAL_NAME
    exports = json.loads(snapshot.read_text())["exports"] if snapshot.exists() else {}
    for line in journal.read_text().splitlines() if journal.exists() else []:
        record = json.loads(line)
        key = record.pop("key")
        exports.pop(key, None)
        if not record.get("dropped"):
            exports[key] = record
    return exports
