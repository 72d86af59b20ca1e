"""The one-daemon-per-SQLite-file lock holds whatever name the file is opened by."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from connector.daemon.singleton import DaemonAlreadyRunning, SingleDaemonLock
from tests.conftest import REPO

# Holds the lock on argv[1] in another process (as a second daemon would) until stdin closes.
HOLDER = """
import sys
from pathlib import Path
from connector.daemon.singleton import SingleDaemonLock
lock = SingleDaemonLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
sys.stdin.read()
lock.release()
"""


@pytest.fixture
def database(tmp_path: Path) -> Path:
    import sqlite3

    path = tmp_path / "a" / "connector.db"
    path.parent.mkdir()
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    return path


def _hold(path: Path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_hard_link_to_a_locked_database_does_not_let_a_second_daemon_in(
    database: Path, tmp_path: Path
) -> None:
    link = tmp_path / "b" / "other-name.db"
    link.parent.mkdir()
    os.link(database, link)
    holder = _hold(database)
    try:
        with pytest.raises(DaemonAlreadyRunning) as refused:
            SingleDaemonLock(link).acquire()
        assert "only one daemon may use a SQLite database" in str(refused.value)
        assert "hard link" in str(refused.value)
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    # Once the first daemon stopped, one may start by either name.
    lock = SingleDaemonLock(link)
    lock.acquire()
    lock.release()


def test_the_same_path_is_still_refused_with_the_holders_pid(database: Path) -> None:
    holder = _hold(database)
    try:
        with pytest.raises(DaemonAlreadyRunning, match=f"pid {holder.pid}"):
            SingleDaemonLock(database).acquire()
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


def test_a_new_database_is_locked_from_the_start(tmp_path: Path) -> None:
    new = tmp_path / "new.db"
    first = SingleDaemonLock(new)
    first.acquire()
    try:
        os.link(new, tmp_path / "linked.db")
        with pytest.raises(DaemonAlreadyRunning):
            SingleDaemonLock(tmp_path / "linked.db").acquire()
    finally:
        first.release()


def test_the_lock_leaves_sqlite_working_on_the_file(database: Path) -> None:
    import sqlite3

    lock = SingleDaemonLock(database)
    lock.acquire()
    try:
        with sqlite3.connect(database) as conn:
            conn.execute("INSERT INTO t VALUES (1)")
        assert sqlite3.connect(database).execute("SELECT count(*) FROM t").fetchone() == (1,)
    finally:
        lock.release()
