"""PostgreSQL's driver is the ``postgres`` extra: without it, a postgresql:// URL fails
with what to install, never with a traceback from deep inside SQLAlchemy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from connector.storage.db import DatabaseError, create_db_engine
from tests.conftest import REPO

INSTALL = "pip install 'billing-connector[postgres]'"
# Port 1: nothing listens there, and the driver is missing before any connection is tried.
URL = "postgresql+psycopg://connector:s3cret@127.0.0.1:1/connector"


def test_a_postgresql_url_without_psycopg_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    with pytest.raises(DatabaseError) as raised:
        create_db_engine(URL)
    message = str(raised.value)
    assert INSTALL in message
    assert "psycopg is not installed" in message
    assert "s3cret" not in message


def test_the_daemon_without_psycopg_exits_3_naming_the_extra(tmp_path: Path) -> None:
    # An environment where psycopg is not installed: the name resolves to a module whose
    # import fails as a missing one does.
    missing = tmp_path / "missing" / "psycopg"
    missing.mkdir(parents=True)
    (missing / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(missing.parent),
        "CONNECTOR_DATABASE_URL": URL.replace("+psycopg", ""),
    }
    ran = subprocess.run(
        [sys.executable, "-m", "connector", "--config", "config/connector.yaml", "run", "--once"],
        capture_output=True, text=True, timeout=120, cwd=REPO, env=env,
    )  # fmt: skip
    assert ran.returncode == 3, ran.stdout + ran.stderr
    assert INSTALL in ran.stderr
