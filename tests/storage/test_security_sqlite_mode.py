"""A SQLite database the connector creates is readable by its owner alone, whatever
the umask (issue 19, defect 7)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from connector.storage.db import Database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_database_and_its_wal_and_shm_are_0600_in_a_0700_folder(tmp_path, umask_022):
    path = tmp_path / "state" / "connector.db"
    db = Database(f"sqlite:///{path}")
    try:
        with db.transaction() as session:
            session.execute(text("CREATE TABLE probe (x INTEGER)"))
            session.execute(text("INSERT INTO probe VALUES (1)"))
        companions = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
        assert all(p.exists() for p in companions)  # WAL mode: both are open now
        assert {p.name: mode(p) for p in [path, *companions]} == {
            p.name: 0o600 for p in [path, *companions]
        }
        assert mode(path.parent) == 0o700
    finally:
        db.dispose()


def test_empty_database_file_made_by_the_daemon_lock_becomes_private(tmp_path, umask_022):
    # The daemon's single-instance lock creates the file empty (0644 under umask 022)
    # before the database is opened.
    path = tmp_path / "connector.db"
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))
    Database(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600


def test_an_existing_database_keeps_the_mode_its_owner_chose(tmp_path, umask_022):
    path = tmp_path / "connector.db"
    Database(f"sqlite:///{path}").dispose()
    os.chmod(path, 0o640)
    Database(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o640
