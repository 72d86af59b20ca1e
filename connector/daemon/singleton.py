"""One daemon per SQLite database: an OS lock on a file beside the database.

SQLite serialises writers but cannot share work between daemons (no ``SKIP LOCKED``,
one writer at a time), so a second daemon on the same file is refused. An OS lock
(``flock``) is used rather than a lease row: the kernel drops it the moment the holder
dies, even by SIGKILL, so systemd's restart after a crash is never refused for a
lease's lifetime, and a live daemon can never lose it by missing a renewal. CLI
commands do not take it: they may run next to the daemon, as before.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from sqlalchemy.engine import make_url


class DaemonAlreadyRunning(RuntimeError):
    """Another daemon holds the database; the message says which and what to do."""


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL and in-memory databases."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if parsed.database in (None, "", ":memory:") or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database).resolve()


class SingleDaemonLock:
    """Holds ``<database>.daemon.lock`` while the daemon runs (SQLite only)."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".daemon.lock")
        self.database = database
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`DaemonAlreadyRunning` naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DaemonAlreadyRunning(
                f"another connector daemon (pid {holder}) is already running on the SQLite "
                f"database {self.database}; only one daemon may use a SQLite database. Stop "
                "it first, or move to PostgreSQL (database_url: postgresql+psycopg://...) "
                "to run several daemons side by side."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
