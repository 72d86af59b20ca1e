"""The export ledger ``.pushed.json``: which statement revision went into which file.

An entry is written ``pending`` (naming its file) before the file, and marked
``exported`` after it. A crash in between leaves a pending entry; the next push settles
it by looking for the file, which exists only complete because it is written atomically.
So a statement is never exported twice and never lost, wherever the process stops.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from connector.contracts import PluginError
from connector_erp_csv.files import atomic_write

LEDGER_NAME = ".pushed.json"
LEDGER_FORMAT = 1
PENDING = "pending"
EXPORTED = "exported"


@dataclass(slots=True)
class Export:
    """One statement revision in one import file."""

    file: str
    invoice_number: str
    statement_id: str
    state: str = PENDING


class ExportLedger:
    """Entries by idempotency key, loaded from and saved to ``directory``."""

    def __init__(self, directory: Path, entries: dict[str, Export] | None = None) -> None:
        self.directory = directory
        self.entries: dict[str, Export] = entries or {}

    @property
    def path(self) -> Path:
        return self.directory / LEDGER_NAME

    @classmethod
    def load(cls, directory: Path) -> ExportLedger:
        """The ledger in ``directory``; empty when there is none yet.

        An unreadable ledger raises instead of being started afresh, which would export
        every statement again.
        """
        path = directory / LEDGER_NAME
        if not path.exists():
            return cls(directory)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            entries = {key: Export(**value) for key, value in data["exports"].items()}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PluginError(
                f"export ledger {path} is unreadable ({exc}); restore it from a backup "
                "rather than deleting it, or every statement will be exported again"
            ) from exc
        return cls(directory, entries)

    def save(self) -> None:
        """Write the ledger atomically; sorted, so the file diffs cleanly."""
        data = {
            "format": LEDGER_FORMAT,
            "exports": {key: asdict(self.entries[key]) for key in sorted(self.entries)},
        }
        atomic_write(self.path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))

    def settle_pending(self) -> bool:
        """Confirm pending entries whose file exists, forget those whose file does not.

        Returns whether anything changed (so the caller knows to save).
        """
        changed = False
        for key, entry in list(self.entries.items()):
            if entry.state != PENDING:
                continue
            if (self.directory / entry.file).exists():
                entry.state = EXPORTED
            else:
                del self.entries[key]
            changed = True
        return changed

    def exported(self, key: str) -> Export | None:
        """The confirmed export of ``key``, if any."""
        entry = self.entries.get(key)
        return entry if entry is not None and entry.state == EXPORTED else None

    def by_invoice_number(self, number: str) -> tuple[str, Export] | None:
        """The key and entry that already used invoice ``number``, if any."""
        for key, entry in self.entries.items():
            if entry.invoice_number == number:
                return key, entry
        return None

    def files(self) -> set[str]:
        """Every file name the ledger refers to."""
        return {entry.file for entry in self.entries.values()}

    def add_pending(self, key: str, export: Export) -> None:
        self.entries[key] = export

    def confirm(self, keys: list[str]) -> None:
        for key in keys:
            self.entries[key].state = EXPORTED

    def discard(self, keys: list[str]) -> None:
        for key in keys:
            self.entries.pop(key, None)
