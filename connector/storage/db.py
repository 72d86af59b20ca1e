"""Engines, sessions and migrations for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from connector.safe_paths import PRIVATE_FILE, create_private_file
from connector.storage.schema import (
    MIGRATIONS,
    SchemaState,
    alembic_quiet,
    migrations,
    schema_state,
)
from connector.storage.timeouts import DatabaseTimeouts

if TYPE_CHECKING:  # Alembic is imported when a migration runs (storage.schema says why)
    from alembic.config import Config

    from connector.storage.async_reads import AsyncReads

log = logging.getLogger(__name__)

#: What a command that found the schema behind tells its user to run.
UPGRADE_COMMAND = "connector db upgrade"
#: SQLAlchemy's own defaults: connections a pool keeps, and opens beyond them while busy.
POOL_SIZE, MAX_OVERFLOW = 5, 10


class DatabaseError(Exception):
    """The database cannot be used; the message says which URL and what to check."""


class SchemaError(DatabaseError):
    """The database's schema is not this version's: not made yet, behind, or ahead."""


# The server-side limits, each a PostgreSQL setting in milliseconds.
_SERVER_LIMITS = {
    "statement_timeout": "statement_seconds",
    "lock_timeout": "lock_seconds",
    "idle_in_transaction_session_timeout": "idle_in_transaction_seconds",
}


def _sets(options: str, name: str) -> bool:
    """Whether libpq ``options`` (``-c name=v``, ``-cname=v``, ``--name=v``) set ``name``."""
    return re.search(rf"(?:^|\s)(?:-c\s*|--){re.escape(name)}\s*=", options) is not None


def postgres_connect_args(url: URL, timeouts: DatabaseTimeouts) -> dict[str, Any]:
    """psycopg connect arguments applying ``timeouts``, merged with the URL's own.

    What the URL's query sets wins; its ``options`` (e.g. ``-csearch_path=...``) are
    kept, and only the limits they do not set are appended to them. SQLAlchemy gives
    ``connect_args`` precedence over the URL, hence the merge here.
    """
    query = {key: value for key, value in url.query.items() if isinstance(value, str)}
    wanted: dict[str, Any] = {
        "connect_timeout": timeouts.connect_seconds,
        "tcp_user_timeout": int(timeouts.tcp_user_timeout_seconds * 1000),
    }
    if timeouts.keepalive_idle_seconds > 0:
        wanted |= {
            "keepalives": 1,
            "keepalives_idle": timeouts.keepalive_idle_seconds,
            "keepalives_interval": timeouts.keepalive_interval_seconds,
            "keepalives_count": timeouts.keepalive_count,
        }
    args = {key: value for key, value in wanted.items() if key not in url.query}
    options = query.get("options", "")
    extra = [
        f"-c {name}={int(getattr(timeouts, field) * 1000)}"
        for name, field in _SERVER_LIMITS.items()
        if not _sets(options, name)
    ]
    if extra:
        args["options"] = " ".join([options, *extra]) if options else " ".join(extra)
    return args


def redacted_url(url: str) -> str:
    """``url`` with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _sqlite_pragmas(busy_ms: int):  # type: ignore[no-untyped-def]
    def on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event issue BEGIN itself (see _sqlite_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.close()

    return on_connect


def _sqlite_begin(conn) -> None:  # type: ignore[no-untyped-def]
    # SQLite ignores SELECT ... FOR UPDATE; taking the write lock when a transaction
    # starts serialises writers instead, so read-then-write steps (invoice numbers,
    # credit balances) cannot interleave.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _create_private_sqlite(database: str) -> None:
    """Create a new SQLite file ``0600`` (its new folders ``0700``) before SQLite opens it.

    SQLite creates the database with the umask's mode (``0644`` under the usual 022),
    and its ``-wal``, ``-shm`` and ``-journal`` files copy the database file's mode: made
    private here, all of them stay readable by the owner alone. An existing database is
    left as it is (its owner chose its mode); an empty one is new (the daemon's
    single-instance lock creates it empty to lock it first) and is made private too.
    """
    if database.startswith("file:"):  # a URI filename: SQLite's to interpret
        return
    if not create_private_file(database):
        path = Path(database)
        if path.is_file() and path.stat().st_size == 0:
            os.chmod(path, PRIVATE_FILE)


def _with_driver(url: URL) -> URL:
    return url.set(drivername="postgresql+psycopg") if url.drivername == "postgresql" else url


def _engine(url: URL, timeouts: DatabaseTimeouts, settings: str = "", **kwargs: Any) -> Engine:
    """``settings``: more server settings for every connection (``-c name=value`` ...),
    beside the URL's own options and the timeouts, on PostgreSQL."""
    if url.get_backend_name() == "postgresql":
        args = postgres_connect_args(url, timeouts)
        if settings:
            own = args.get("options", url.query.get("options", ""))
            args["options"] = f"{own} {settings}" if own else settings
        kwargs["connect_args"] = args
    return create_engine(url, **kwargs)


# The build's worker processes read in parallel already, one per core (build_workers):
# PostgreSQL's parallel workers beside them would only share the same cores.
READER_SETTINGS = "-c max_parallel_workers_per_gather=0"


def reader_engine(url: str, timeouts: DatabaseTimeouts | None = None) -> Engine:
    """An engine that only reads ``url`` (already shown to work by create_db_engine).

    Its transactions take no lock: on SQLite, the daemon's engine begins each one with
    the write lock, which a process reading beside a writer must not wait for.

    On PostgreSQL its queries run without parallel workers (:data:`READER_SETTINGS`):
    with 1.4 million charges (scale 4 of ``benchmarks/month_end.py``) each part's query
    was planned with two, started for every query and competing with the build's own
    processes for the cores, and the build cost more per statement than at scale 1.
    """
    return _engine(_with_driver(make_url(url)), timeouts or DatabaseTimeouts(), READER_SETTINGS)


def _missing_driver(url: str, parsed: URL, exc: ModuleNotFoundError) -> str:
    """What to install for a URL whose driver module is missing."""
    if parsed.get_backend_name() == "postgresql":
        # psycopg is an extra: an install for SQLite alone does without it.
        fix = "install PostgreSQL support with pip install 'billing-connector[postgres]'"
    else:
        fix = "use sqlite:///path/to/file.db or postgresql+psycopg://user@host:5432/dbname"
    return f"no driver for {redacted_url(url)} ({exc.name} is not installed): {fix}"


def create_db_engine(
    url: str,
    timeouts: DatabaseTimeouts | None = None,
    pool_size: int = POOL_SIZE,
    max_overflow: int = MAX_OVERFLOW,
) -> Engine:
    """An engine for ``url`` that has been shown to connect, with ``timeouts`` (default:
    :class:`DatabaseTimeouts`'s) applied to every connection; on PostgreSQL its pool
    keeps ``pool_size`` connections and opens up to ``max_overflow`` more while busy.

    Raises DatabaseError naming the (password-redacted) URL when it is malformed or
    the server cannot be reached (within the connect timeout).
    """
    timeouts = timeouts or DatabaseTimeouts()
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(
            f"database URL {url!r} is not valid: use sqlite:///path/to/file.db or "
            "postgresql+psycopg://user@host:5432/dbname"
        ) from exc
    parsed = _with_driver(parsed)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        _create_private_sqlite(parsed.database)
    try:
        pool = {"pool_size": pool_size, "max_overflow": max_overflow}
        if parsed.get_backend_name() != "postgresql":
            pool = {}  # SQLite: one writer at a time, whatever the pool
        engine = _engine(parsed, timeouts, pool_pre_ping=True, **pool)
    except ModuleNotFoundError as exc:
        raise DatabaseError(_missing_driver(url, parsed, exc)) from exc
    if engine.dialect.name == "sqlite":
        busy_ms = int(timeouts.sqlite_busy_seconds * 1000)
        event.listen(engine, "connect", _sqlite_pragmas(busy_ms))
        event.listen(engine, "begin", _sqlite_begin)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseError(
            f"cannot reach the database at {redacted_url(url)}: {reason}. Check that the server "
            "is running and the URL (CONNECTOR_DATABASE_URL or database_url in "
            "connector.yaml) is right."
        ) from exc
    return engine


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


# pg_advisory_lock key serialising migrations ("BCMIGRAT" as a 64-bit integer).
MIGRATION_LOCK = 0x42434D4947524154


def schema_problem(state: SchemaState, url: str) -> str | None:
    """What keeps a database at ``state`` from being used as it is, and what to do."""
    where = f"the database at {redacted_url(url)}"
    if state.is_ahead:
        return (
            f"{where} is at schema revision {state.current}, newer than this version of the "
            f"connector knows (its latest is {state.latest}): a newer version migrated it. "
            "Run that version or a later one; this one cannot use it"
        )
    if state.current is None:
        return f"{where} has no tables yet: create them with `{UPGRADE_COMMAND}`"
    if not state.is_latest:
        return (
            f"{where} is at schema revision {state.current}, {len(state.pending)} "
            f"migration(s) behind this version's {state.latest}: apply them with "
            f"`{UPGRADE_COMMAND}`"
        )
    return None


def _upgrade(engine: Engine, revision: str) -> str | None:
    before = schema_state(engine)
    if before.is_ahead:
        raise SchemaError(schema_problem(before, engine.url.render_as_string()))
    with alembic_quiet():
        from alembic import command

        command.upgrade(alembic_config(engine), revision)
    return before.current


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Apply migrations up to ``revision``; running it again changes nothing.

    Returns the revision the database was at before (None: it had no schema).

    Processes starting together (daemon replicas, the API, a CLI call) would each run
    the migrations and collide on the DDL (``alembic_version already exists``); on
    PostgreSQL a session advisory lock lets the first migrate while the others wait,
    then find nothing to do. On SQLite the write lock already serialises them.

    :raises SchemaError: a newer version migrated the database (Alembic would only
        say it cannot locate the revision).
    """
    if engine.dialect.name != "postgresql":
        return _upgrade(engine, revision)
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            return _upgrade(engine, revision)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            conn.commit()


def _missing_sqlite_file(url: str) -> str | None:
    """The path of the SQLite file ``url`` names when it does not exist yet."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # create_db_engine says what is wrong with it
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or database in (None, "", ":memory:"):
        return None
    if database.startswith("file:") or Path(database).exists():
        return None
    return database


class Database:
    """An engine with its session factory, migrated to the latest schema.

    The daemon, the API server, the demo and library callers migrate on opening
    (``migrate``, the default); commands that only use the data open with
    :meth:`at_latest`, which changes no schema.

    :param timeouts: the limits of every connection (default: DatabaseTimeouts()).
    :param pool_size: PostgreSQL connections kept open (``max_overflow`` more while busy).
    """

    def __init__(
        self,
        url: str,
        migrate: bool = True,
        timeouts: DatabaseTimeouts | None = None,
        pool_size: int = POOL_SIZE,
        max_overflow: int = MAX_OVERFLOW,
    ) -> None:
        self.url = url
        self.timeouts = timeouts or DatabaseTimeouts()
        self.engine = create_db_engine(url, self.timeouts, pool_size, max_overflow)
        self._pool = {"pool_size": pool_size, "max_overflow": max_overflow}
        if migrate:
            try:
                self.upgrade_schema()
            except BaseException:
                self.engine.dispose()
                raise
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def at_latest(
        cls,
        url: str,
        timeouts: DatabaseTimeouts | None = None,
        pool_size: int = POOL_SIZE,
        max_overflow: int = MAX_OVERFLOW,
    ) -> Database:
        """Open a database whose schema is already this version's, changing nothing.

        A SQLite file that does not exist is not created.

        :raises SchemaError: it has no schema yet or is behind (the message names
            ``connector db upgrade``), or a newer version migrated it.
        """
        missing = _missing_sqlite_file(url)
        if missing is not None:
            raise SchemaError(
                f"there is no database at {missing} yet: create it with `{UPGRADE_COMMAND}`"
            )
        db = cls(url, False, timeouts, pool_size, max_overflow)
        try:
            problem = schema_problem(db.schema(), url)
        except BaseException:
            db.dispose()
            raise
        if problem is not None:
            db.dispose()
            raise SchemaError(problem)
        return db

    def schema(self) -> SchemaState:
        """The revision the database is at, against this version's migrations."""
        return schema_state(self.engine)

    def upgrade_schema(self) -> str | None:
        """Apply the migrations the database lacks; returns the revision it was at.

        :raises SchemaError: a newer version migrated it.
        """
        if self.dialect != "postgresql":
            before = upgrade(self.engine)
        else:
            # A migration may rewrite a large table, and replicas starting beside the one
            # migrating wait for its advisory lock: neither limit may cut them short.
            unlimited = replace(self.timeouts, statement_seconds=0, lock_seconds=0)
            migrator = create_db_engine(self.url, unlimited)
            try:
                before = upgrade(migrator)
            finally:
                migrator.dispose()
        after = migrations()[-1].revision
        if after != before:
            log.info("database schema upgraded from %s to %s", before or "nothing", after)
        return before

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed together or not at all."""
        with self.sessions.begin() as session:
            yield session

    @functools.cached_property
    def async_reads(self) -> AsyncReads | None:
        """On PostgreSQL, the reads that are one SQL statement, made on an event loop
        without a worker thread (the API's list of statements), with :attr:`engine`'s
        connection settings, timeouts and pool sizes; None on SQLite, whose reads stay
        in threads. Opened on first use, by the process that uses it; closed by the
        API's lifespan.

        Handing a list to a worker thread and back, beside others in flight, cost as
        much of the server's time as the read itself (issue 24); see
        :mod:`connector.storage.async_reads` for why not SQLAlchemy's asyncio engine.
        """
        if self.dialect != "postgresql":
            return None
        from connector.storage.async_reads import AsyncReads

        url = _with_driver(make_url(self.url))
        _args, connect = url.get_dialect()().create_connect_args(url)
        connect |= postgres_connect_args(url, self.timeouts)
        return AsyncReads(connect, self._pool["pool_size"], self._pool["max_overflow"])

    def dispose(self) -> None:
        self.engine.dispose()


def read_schema(url: str, timeouts: DatabaseTimeouts | None = None) -> SchemaState:
    """Where the database at ``url`` stands against this version, changing nothing (a
    SQLite file not made yet is not created: it has no schema)."""
    if _missing_sqlite_file(url) is not None:
        return SchemaState(None, migrations())
    db = Database(url, migrate=False, timeouts=timeouts)
    try:
        return db.schema()
    finally:
        db.dispose()
