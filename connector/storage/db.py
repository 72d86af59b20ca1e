"""Engines, sessions and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")


class DatabaseError(Exception):
    """The database cannot be used; the message says which URL and what to check."""


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    # SQLite ignores SELECT ... FOR UPDATE; taking the write lock when a transaction
    # starts serialises writers instead, so read-then-write steps (invoice numbers,
    # credit balances) cannot interleave.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _with_driver(url: URL) -> URL:
    return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url


def reader_engine(url: str) -> Engine:
    """An engine that only reads ``url`` (already shown to work by create_db_engine).

    Its transactions take no lock: on SQLite, the daemon's engine begins each one with
    the write lock, which a process reading beside a writer must not wait for.
    """
    return create_engine(_with_driver(make_url(url)))


def create_db_engine(url: str) -> Engine:
    """An engine for ``url`` that has been shown to connect.

    Raises DatabaseError naming the (password-redacted) URL when it is malformed or
    the server cannot be reached.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(
            f"database URL {url!r} is not valid: use sqlite:///path/to/file.db or "
            "postgresql+psycopg://user@host:5432/dbname"
        ) from exc
    parsed = _with_driver(parsed)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(parsed, pool_pre_ping=True)
    except ModuleNotFoundError as exc:
        raise DatabaseError(
            f"no driver for {_redacted(url)}: install it with pip install 'psycopg[binary]'"
        ) from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(
            f"cannot reach the database at {_redacted(url)}: {reason}. Check that the server "
            "is running and the URL (CONNECTOR_DATABASE_URL or database_url in "
            "connector.yaml) is right."
        ) from exc
    return engine


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


# pg_advisory_lock key serialising migrations ("BCMIGRAT" as a 64-bit integer).
MIGRATION_LOCK = 0x42434D4947524154


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``; running it again changes nothing.

    Processes starting together (daemon replicas, the API, a CLI call) would each run
    the migrations and collide on the DDL (``alembic_version already exists``); on
    PostgreSQL a session advisory lock lets the first migrate while the others wait,
    then find nothing to do. On SQLite the write lock already serialises them.
    """
    if engine.dialect.name != "postgresql":
        command.upgrade(alembic_config(engine), revision)
        return
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            command.upgrade(alembic_config(engine), revision)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            conn.commit()


class Database:
    """An engine with its session factory, migrated to the latest schema."""

    def __init__(self, url: str, migrate: bool = True) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        if migrate:
            upgrade(self.engine)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed together or not at all."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
