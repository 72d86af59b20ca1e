"""One daemon per SQLite database: an OS lock on a file beside the database.

SQLite serialises writers but cannot share work between daemons (no ``SKIP LOCKED``,
one writer at a time), so a second daemon on the same file is refused. An OS lock
(``flock``) is used rather than a lease row: the kernel drops it the moment the holder
dies, even by SIGKILL, so systemd's restart after a crash is never refused for a
lease's lifetime, and a live daemon can never lose it by missing a renewal. CLI
commands do not take it: they may run next to the daemon, as before.

A lock file is found by path, and a hard link (or a bind mount) gives the same
database another path, so the file's identity is locked too: an open-file-description
lock (Linux ``F_OFD_SETLK``) on one byte of the database file itself, far past the
bytes SQLite locks, which any daemon opening that file by any name runs into. No
library offers that (filelock locks a path), so it is written here with ``fcntl``.
"""

from __future__ import annotations

import fcntl
import os
import struct
from pathlib import Path

import filelock
from sqlalchemy.engine import make_url

from connector.safe_paths import private_dir


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


# One byte of the database file, far past SQLite's own lock bytes (from 1 GiB on):
# locking it conflicts with no SQLite lock, only with another daemon's.
IDENTITY_BYTE = 1 << 48


def _ofd_lock(fd: int, kind: int) -> bool:
    """Lock (or unlock) :data:`IDENTITY_BYTE` of ``fd``'s file; False when another holds it.

    ``struct flock`` is {short type, short whence, off_t start, off_t len, pid_t pid}.
    """
    request = struct.pack("hhqqi4x", kind, os.SEEK_SET, IDENTITY_BYTE, 1, 0)
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, request)
    except (BlockingIOError, PermissionError):
        return False
    return True


class SingleDaemonLock:
    """Holds ``<database>.daemon.lock`` while the daemon runs (SQLite only)."""

    def __init__(self, database: Path) -> None:
        self.path = database.with_name(database.name + ".daemon.lock")
        self.database = database
        self._lock = filelock.FileLock(self.path, timeout=0, mode=0o600)
        self._identity: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`DaemonAlreadyRunning` naming the holder's pid."""
        private_dir(self.path.parent)
        try:
            self._lock.acquire()
        except filelock.Timeout:
            holder = self.path.read_text(errors="replace").strip() or "unknown"
            raise self._refusal(f"pid {holder}") from None
        try:
            self._identity = self._lock_identity()
        except BaseException:
            self._lock.release()
            raise
        # Another descriptor of the file: flock locks belong to the lock's own, so
        # opening and closing this one leaves the lock held.
        self.path.write_text(f"{os.getpid()}\n")

    def _lock_identity(self) -> int | None:
        """Lock the database file itself (whatever its name); its fd, None where the
        platform has no open-file-description locks."""
        if not hasattr(fcntl, "F_OFD_SETLK"):
            return None
        # A new database is created empty here (SQLite takes an empty file as an empty
        # database), so that it is locked before it can be linked anywhere.
        fd = os.open(self.database, os.O_RDWR | os.O_CREAT, 0o600)  # as storage.db makes it
        if _ofd_lock(fd, fcntl.F_WRLCK):
            return fd
        # Closing this descriptor would drop SQLite's own (POSIX) locks on the file in
        # this process, were it holding any; refusing to start, it holds none.
        os.close(fd)
        raise self._refusal("another path to the same file (a hard link)")

    def _refusal(self, holder: str) -> DaemonAlreadyRunning:
        return DaemonAlreadyRunning(
            f"another connector daemon ({holder}) is already running on the SQLite "
            f"database {self.database}; only one daemon may use a SQLite database. Stop "
            "it first, or move to PostgreSQL (database_url: postgresql+psycopg://...) "
            "to run several daemons side by side."
        )

    def release(self) -> None:
        if self._identity is not None:
            # After the daemon closed its database connections (see Daemon.close):
            # closing this descriptor also drops any POSIX lock of this process.
            _ofd_lock(self._identity, fcntl.F_UNLCK)
            os.close(self._identity)
            self._identity = None
        if self._lock.is_locked:
            self.path.write_text("")
            self._lock.release()
