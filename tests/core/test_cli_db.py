"""Migrations run on `db upgrade`, `run`, `serve` and `demo` only; every other command
refuses a database whose schema is not this version's, says what to run, and leaves
it as it was. `db current` and `db history` say where it stands."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from connector.storage.db import Database, SchemaError, create_db_engine, upgrade
from connector.storage.schema import migrations
from tests.core.conftest import run, settings_file

REVISIONS = [m.revision for m in migrations()]
LATEST = REVISIONS[-1]
OLDER = REVISIONS[-3]  # two migrations behind
READ_ONLY = (
    ("statements", "list", "--tenant", "acme"),
    ("credits", "list", "--tenant", "acme"),
)


def _sqlite_file(url: str) -> Path | None:
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite") else None


def _tables(url: str) -> list[str]:
    """The tables of the database at ``url`` (none for a SQLite file not there)."""
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        return []
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _revision(url: str) -> str:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()


def _migrated_to(url: str, revision: str) -> None:
    engine = create_db_engine(url)
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()


def _text(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(result.output.split())  # undo the console's wrapping


@pytest.fixture
def config(tmp_path: Path, example_tenants: Path, db_url: str) -> str:
    """Settings for the example tenant on a database nothing has migrated."""
    return str(settings_file(tmp_path, example_tenants, db_url, upgrade=False))


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: " ".join(c[:2]))
def test_a_command_on_a_new_database_exits_3_naming_db_upgrade_and_creates_nothing(
    config: str, db_url: str, command: tuple[str, ...]
) -> None:
    result = run("--config", config, *command)
    assert result.exit_code == 3, result.output
    assert "connector db upgrade" in _text(result)
    assert _tables(db_url) == []
    path = _sqlite_file(db_url)
    assert path is None or not path.exists()  # not even an empty SQLite file


def test_db_upgrade_then_the_command_works(config: str, db_url: str) -> None:
    upgraded = run("--config", config, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert f"created the database schema at revision {LATEST}" in upgraded.output
    assert _revision(db_url) == LATEST
    listed = run("--config", config, "statements", "list", "--tenant", "acme", "--json")
    assert listed.exit_code == 0, listed.output
    again = run("--config", config, "db", "upgrade")
    assert f"already at the latest revision, {LATEST}" in again.output


def test_a_database_behind_is_refused_left_as_it_was_and_upgraded_on_demand(
    config: str, db_url: str
) -> None:
    _migrated_to(db_url, OLDER)
    refused = run("--config", config, "statements", "list", "--tenant", "acme")
    assert refused.exit_code == 3
    text = _text(refused)
    assert f"schema revision {OLDER}, 2 migration(s) behind" in text
    assert "`connector db upgrade`" in text
    assert _revision(db_url) == OLDER

    current = run("--config", config, "db", "current")
    assert current.exit_code == 0
    assert f"revision {OLDER}, 2 migration(s) behind this version's {LATEST}" in _text(current)

    upgraded = run("--config", config, "db", "upgrade")
    assert f"upgraded the database from revision {OLDER} to {LATEST} (2 migration(s))" in (
        upgraded.output
    )
    current = run("--config", config, "db", "current")
    assert f"is at revision {LATEST}, the latest" in _text(current)
    assert run("--config", config, "statements", "list", "--tenant", "acme").exit_code == 0


def test_db_current_json_says_what_is_pending(config: str, db_url: str) -> None:
    _migrated_to(db_url, OLDER)
    state = json.loads(run("--config", config, "db", "current", "--json").output)
    assert state["current"] == OLDER and state["latest"] == LATEST
    assert state["is_latest"] is False and state["is_ahead"] is False
    assert state["pending"] == REVISIONS[-2:]


def test_db_current_on_a_new_database_says_so_and_creates_nothing(config: str, db_url: str) -> None:
    current = run("--config", config, "db", "current")
    assert current.exit_code == 0
    assert "has no tables yet" in _text(current) and "connector db upgrade" in _text(current)
    assert _tables(db_url) == []


def test_db_history_lists_the_migrations_marking_the_current_one(config: str, db_url: str) -> None:
    _migrated_to(db_url, OLDER)
    lines = run("--config", config, "db", "history").output.splitlines()
    assert [line.split()[0] for line in lines] == REVISIONS
    marked = {line.split()[0]: line for line in lines}
    assert marked[OLDER].endswith("(current)")
    assert marked[LATEST].endswith("(latest)")
    assert sum("(current" in line for line in lines) == 1
    assert marked[REVISIONS[0]].split(None, 1)[1] == migrations()[0].description


def test_a_database_newer_than_this_version_is_refused_even_by_db_upgrade(
    config: str, db_url: str
) -> None:
    _migrated_to(db_url, LATEST)
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    for command in (("statements", "list", "--tenant", "acme"), ("db", "upgrade")):
        result = run("--config", config, *command)
        assert result.exit_code == 3, result.output
        text = _text(result)
        assert "schema revision 9999, newer than this version of the connector knows" in text
        assert f"its latest is {LATEST}" in text
    assert _revision(db_url) == "9999"
    with pytest.raises(SchemaError, match="newer than this version"):
        Database(db_url)  # the daemon's and the library's migrating path refuses it too


def test_serve_migrates_as_it_opens_where_a_listing_refuses(
    config: str, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    assert run("--config", config, "credits", "list", "--tenant", "acme").exit_code == 3
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)  # serve sets up the process's logging
    try:
        result = run("--config", config, "serve")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert result.exit_code == 0, result.output
    assert _revision(db_url) == LATEST
    assert run("--config", config, "credits", "list", "--tenant", "acme").exit_code == 0


def test_migrating_logs_no_alembic_lines(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    Database(db_url).dispose()
    assert [r.getMessage() for r in caplog.records if r.name.startswith("alembic")] == []
    assert f"database schema upgraded from nothing to {LATEST}" in caplog.messages


def test_alembic_lines_reach_stderr_only_with_verbose(tmp_path: Path) -> None:
    """`connector run` logs at the settings' level (INFO): the migration it runs says so in
    one line of its own; Alembic's own lines appear only under -v."""
    empty = tmp_path / "tenants"
    empty.mkdir()

    def connector(name: str, *args: str) -> subprocess.CompletedProcess[str]:
        config = tmp_path / f"{name}.yaml"
        config.write_text(f"database_url: sqlite:///{tmp_path / name}.db\n"
                          f"tenants_dir: {empty}\nlog_format: text\n")  # fmt: skip
        command = [sys.executable, "-m", "connector", "--config", str(config), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=60)

    quiet = connector("quiet", "run", "--once")
    assert quiet.returncode == 0, quiet.stderr
    assert f"database schema upgraded from nothing to {LATEST}" in quiet.stderr
    assert "alembic" not in quiet.stderr
    verbose = connector("verbose", "-v", "db", "upgrade")
    assert verbose.returncode == 0, verbose.stderr
    assert "alembic.runtime.migration" in verbose.stderr
