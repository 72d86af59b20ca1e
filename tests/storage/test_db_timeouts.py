"""Database limits: a silent server, a slow statement or a held lock fail, never hang.

Regression (issue 18, defect 8): no connect, statement or lock timeout was set, so a
silent network partition blocked every database call for as long as the kernel kept
retransmitting.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from connector.storage.db import (
    MIGRATION_LOCK,
    Database,
    DatabaseError,
    DatabaseTimeouts,
    create_db_engine,
    postgres_connect_args,
)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port on 127.0.0.1 that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_server_that_never_answers_fails_the_connect_within_its_timeout(
    silent_server: int,
) -> None:
    url = f"postgresql+psycopg://connector@127.0.0.1:{silent_server}/connector"
    started = time.monotonic()

    with pytest.raises(DatabaseError, match=r"cannot reach the database at .*127\.0\.0\.1"):
        create_db_engine(url, DatabaseTimeouts(connect_seconds=2))  # libpq's least

    assert time.monotonic() - started < 6


def test_the_limits_are_merged_with_the_urls_options_and_the_url_wins() -> None:
    url = make_url(
        "postgresql+psycopg://u@h/db?options=-csearch_path%3Dt_1 -c lock_timeout%3D0"
        "&connect_timeout=3"
    )

    args = postgres_connect_args(url, DatabaseTimeouts(statement_seconds=1.5))

    assert "connect_timeout" not in args  # the URL's 3 stays
    assert args["options"] == (
        "-csearch_path=t_1 -c lock_timeout=0 -c statement_timeout=1500 "
        "-c idle_in_transaction_session_timeout=3600000"
    )
    assert args["keepalives"] == 1 and args["keepalives_idle"] == 30
    assert args["tcp_user_timeout"] == 60000


def test_sqlite_waits_for_a_writer_as_long_as_configured(tmp_path) -> None:
    db = Database(
        f"sqlite:///{tmp_path / 'c.db'}", timeouts=DatabaseTimeouts(sqlite_busy_seconds=2)
    )
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 2000
    db.dispose()


# ------------------------------------------------------------------ PostgreSQL


def test_postgres_sessions_get_the_limits_and_keep_the_urls_search_path(postgres_url: str) -> None:
    db = Database(postgres_url)
    with db.engine.connect() as conn:
        show = {
            name: conn.execute(text(f"SHOW {name}")).scalar()
            for name in (
                "statement_timeout",
                "lock_timeout",
                "idle_in_transaction_session_timeout",
                "search_path",
            )
        }
        tables = conn.execute(text("SELECT count(*) FROM work_leases")).scalar()
    db.dispose()

    assert show["statement_timeout"] == "10min"
    assert show["lock_timeout"] == "5min"
    assert show["idle_in_transaction_session_timeout"] == "1h"
    assert show["search_path"].startswith("t_")  # the test's schema, not clobbered
    assert tables == 0  # and the migrations ran in it


def test_a_limit_the_url_sets_itself_is_kept(postgres_url: str) -> None:
    db = Database(postgres_url + "%20-c%20statement_timeout%3D0")
    with db.engine.connect() as conn:
        assert conn.execute(text("SHOW statement_timeout")).scalar() == "0"
        assert conn.execute(text("SHOW lock_timeout")).scalar() == "5min"
    db.dispose()


def test_a_statement_longer_than_the_statement_timeout_fails_clearly(postgres_url: str) -> None:
    db = Database(postgres_url, timeouts=DatabaseTimeouts(statement_seconds=0.5))
    started = time.monotonic()

    timed_out = pytest.raises(
        OperationalError, match="canceling statement due to statement timeout"
    )
    with timed_out, db.transaction() as session:
        session.execute(text("SELECT pg_sleep(30)"))

    assert time.monotonic() - started < 5
    db.dispose()


def test_waiting_longer_than_the_lock_timeout_fails_clearly(postgres_url: str) -> None:
    db = Database(postgres_url, timeouts=DatabaseTimeouts(lock_seconds=0.5))
    with db.engine.connect() as holder:
        holder.execute(text("LOCK TABLE work_leases IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        timed_out = pytest.raises(OperationalError, match="canceling statement due to lock timeout")
        with timed_out, db.transaction() as session:
            session.execute(text("SELECT count(*) FROM work_leases"))
        assert time.monotonic() - started < 5
        holder.rollback()
    db.dispose()


def test_a_replica_waits_for_another_ones_migration_past_the_lock_timeout(
    postgres_url: str,
) -> None:
    """Migrations run without the lock limit: a replica starting while another holds
    the migration lock waits for it instead of failing to start."""
    Database(postgres_url).dispose()
    other = create_engine(postgres_url)
    with other.connect() as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        unlock = threading.Timer(
            1.5,
            lambda: conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK}),
        )
        unlock.start()
        started = time.monotonic()
        db = Database(postgres_url, timeouts=DatabaseTimeouts(lock_seconds=0.2))
        waited = time.monotonic() - started
        unlock.join()
    other.dispose()
    db.dispose()

    assert waited >= 1.0
