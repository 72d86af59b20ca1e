"""The export ledger: which statement revision went into which file.

An entry is written ``pending`` (naming its file) before the file, and marked
``exported`` after it. A crash in between leaves a pending entry; the next push settles
it by looking for the file, which exists only complete because it is written atomically.
So a statement is never exported twice and never lost, wherever the process stops.

On disk it is ``.pushed.json``, the entries as of its last rewrite (written atomically),
and ``.pushed.journal``, one JSON line per change since, appended and fsynced before the
caller goes on: a push writes what it changes, not the whole ledger. Once the journal
holds more lines than the snapshot holds entries, the two are folded into a new
snapshot and the journal removed, so each change is rewritten a bounded number of times.
A crash mid-append leaves an unfinished last line, which was never acknowledged and is
ignored (and cut off by the next append); replaying a journal over a snapshot that
already holds it gives the same entries, so a crash while folding loses nothing.

A push reads the ledger only when the files changed since this process last read or
saved them: the last ledger loaded from a folder is kept with the identity (inode, size,
modification and change times) of its two files, and taken again while both are as this
process left them and it holds no unsaved change. Otherwise a long month end would read
the whole month's entries on every push (a sink is made per chunk), each push costing
more than the one before. Another process's push, which changes either file, makes the
next push read them again; ``load`` and ``save`` run under the folder's lock.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

from connector.contracts import PluginError
from connector_erp_csv.files import atomic_write, fsync_directory

LEDGER_NAME = ".pushed.json"
JOURNAL_NAME = ".pushed.journal"
LEDGER_FORMAT = 1
PENDING = "pending"
EXPORTED = "exported"
# The journal is folded into the snapshot once it has this many lines at least (and
# more than the snapshot's entries).
FOLD_AFTER = 1000

#: A file's identity as ``os.stat`` gives it, or None when it is not there.
Identity = tuple[int, int, int, int] | None
# Folder -> the identity of its snapshot and journal when this process last read or saved
# them, and the ledger it read or saved then.
_kept: dict[Path, tuple[tuple[Identity, Identity], ExportLedger]] = {}
_kept_lock = threading.Lock()  # the folder's flock orders processes; this, the dict


def _identity(path: Path) -> Identity:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return (found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)


@dataclass(slots=True)
class Export:
    """One statement revision in one import file."""

    file: str
    invoice_number: str
    statement_id: str
    state: str = PENDING


class ExportLedger:
    """Entries by idempotency key, loaded from and saved to ``directory``; indexed by
    invoice number, file and state so a push's look-ups do not walk the month."""

    def __init__(self, directory: Path, entries: dict[str, Export] | None = None) -> None:
        self.directory = directory
        self.entries: dict[str, Export] = {}
        self._numbers: dict[str, dict[str, None]] = {}  # number -> keys, in entry order
        self._files: dict[str, int] = {}  # file -> how many entries name it
        self._pending: dict[str, None] = {}
        self._changed: dict[str, None] = {}  # keys changed since the last save
        self._journal_lines = 0
        self._journal_end = 0  # where the journal's last complete line ends
        for key, export in (entries or {}).items():
            self._put(key, export)
        self._changed.clear()

    @property
    def path(self) -> Path:
        return self.directory / LEDGER_NAME

    @property
    def journal_path(self) -> Path:
        return self.directory / JOURNAL_NAME

    def _files_identity(self) -> tuple[Identity, Identity]:
        return (_identity(self.path), _identity(self.journal_path))

    def _keep(self) -> None:
        """Remember this ledger as what the folder's files hold now."""
        with _kept_lock:
            _kept[self.directory] = (self._files_identity(), self)

    @classmethod
    def load(cls, directory: Path) -> ExportLedger:
        """The ledger in ``directory``; empty when there is none yet. Call it under the
        folder's lock.

        The ledger this process last loaded or saved there is taken again when neither
        file changed since and it holds no unsaved change (see the module docstring).
        An unreadable ledger raises instead of being started afresh, which would export
        every statement again.
        """
        with _kept_lock:
            kept = _kept.pop(directory, None)
        if kept is not None:
            identity, ledger = kept
            if not ledger._changed and identity == ledger._files_identity():
                ledger._keep()
                return ledger
        ledger = cls._read(directory)
        ledger._keep()
        return ledger

    @classmethod
    def _read(cls, directory: Path) -> ExportLedger:
        ledger = cls(directory)
        path = ledger.path
        try:
            if path.exists():
                data = json.loads(path.read_text(encoding="utf-8"))
                for key, value in data["exports"].items():
                    ledger._put(key, Export(**value))
            if ledger.journal_path.exists():
                ledger._replay(ledger.journal_path.read_bytes())
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PluginError(
                f"export ledger {path} is unreadable ({exc}); restore it from a backup "
                "rather than deleting it, or every statement will be exported again"
            ) from exc
        ledger._changed.clear()
        return ledger

    def _replay(self, journal: bytes) -> None:
        lines = journal.split(b"\n")
        # The last piece has no line end: an append a crash cut short, never acknowledged.
        complete = lines[:-1]
        for number, line in enumerate(complete, 1):
            try:
                record = json.loads(line)
                key = record.pop("key")
                if record.get("dropped"):
                    self._drop(key)
                else:
                    self._put(key, Export(**record))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{JOURNAL_NAME} line {number}: {exc}") from exc
        self._journal_lines = len(complete)
        self._journal_end = len(journal) - len(lines[-1])

    def save(self) -> None:
        """Make the changes since the last save durable: appended to the journal, or,
        when it has grown past the snapshot, folded with it into a new snapshot."""
        if not self._changed:
            return
        if self._journal_lines + len(self._changed) > max(FOLD_AFTER, len(self.entries)):
            self._fold()
        else:
            self._append()
        self._changed.clear()
        self._keep()

    def _append(self) -> None:
        records = []
        for key in self._changed:
            export = self.entries.get(key)
            record = {"key": key, **asdict(export)} if export else {"key": key, "dropped": True}
            records.append(json.dumps(record, separators=(",", ":")) + "\n")
        data = "".join(records).encode("utf-8")
        created = not self.journal_path.exists()
        fd = os.open(self.journal_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, self._journal_end)  # drops a line a crash left unfinished
            os.lseek(fd, self._journal_end, os.SEEK_SET)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException:
            with contextlib.suppress(OSError):  # what was half-written is not kept
                os.ftruncate(fd, self._journal_end)
            raise
        finally:
            os.close(fd)
        if created:
            fsync_directory(self.directory)
        self._journal_lines += len(records)
        self._journal_end += len(data)

    def _fold(self) -> None:
        data = {
            "format": LEDGER_FORMAT,
            "exports": {key: asdict(self.entries[key]) for key in sorted(self.entries)},
        }
        # Sorted, so the file diffs cleanly.
        atomic_write(self.path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
        with contextlib.suppress(FileNotFoundError):
            self.journal_path.unlink()
            fsync_directory(self.directory)
        self._journal_lines = self._journal_end = 0

    def _put(self, key: str, export: Export) -> None:
        self._drop(key)
        self.entries[key] = export
        self._numbers.setdefault(export.invoice_number, {})[key] = None
        self._files[export.file] = self._files.get(export.file, 0) + 1
        if export.state == PENDING:
            self._pending[key] = None
        self._changed[key] = None

    def _drop(self, key: str) -> None:
        export = self.entries.pop(key, None)
        if export is None:
            return
        keys = self._numbers[export.invoice_number]
        del keys[key]
        if not keys:
            del self._numbers[export.invoice_number]
        self._files[export.file] -= 1
        if not self._files[export.file]:
            del self._files[export.file]
        self._pending.pop(key, None)
        self._changed[key] = None

    def settle_pending(self) -> bool:
        """Confirm pending entries whose file exists, forget those whose file does not.

        Returns whether anything changed (so the caller knows to save).
        """
        pending = list(self._pending)
        for key in pending:
            if (self.directory / self.entries[key].file).exists():
                self.confirm([key])
            else:
                self._drop(key)
        return bool(pending)

    def exported(self, key: str) -> Export | None:
        """The confirmed export of ``key``, if any."""
        entry = self.entries.get(key)
        return entry if entry is not None and entry.state == EXPORTED else None

    def by_invoice_number(self, number: str) -> tuple[str, Export] | None:
        """The key and entry that already used invoice ``number``, if any."""
        keys = self._numbers.get(number)
        if not keys:
            return None
        key = next(iter(keys))
        return key, self.entries[key]

    def files(self) -> set[str]:
        """Every file name the ledger refers to."""
        return set(self._files)

    def add_pending(self, key: str, export: Export) -> None:
        self._put(key, export)

    def confirm(self, keys: list[str]) -> None:
        for key in keys:
            self.entries[key].state = EXPORTED
            self._pending.pop(key, None)
            self._changed[key] = None

    def discard(self, keys: list[str]) -> None:
        for key in keys:
            self._drop(key)
