"""How long the database may keep the connector waiting (the values, without SQLAlchemy).

Kept apart from :mod:`connector.storage.db` so the daemon settings can give their
defaults without importing SQLAlchemy and Alembic: every ``connector`` command starts
by reading its settings.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DatabaseTimeouts:
    """How long the database may keep us waiting; 0 turns a limit off.

    A silent network partition (packets dropped, not refused) otherwise blocks a
    PostgreSQL call for as long as the kernel retransmits (about 15 minutes): the
    connect timeout bounds a new connection, TCP keepalives and the TCP user timeout
    notice a peer that went away during a call, and the server-side limits end a
    statement, a wait for a lock, or a transaction left idle by a vanished client.
    The statement limit is generous on purpose: one statement of a bulk ingest or
    of a build may legitimately take minutes. A URL that sets any of these itself
    (``?connect_timeout=5``, ``options=-c statement_timeout=0``) keeps its own value.

    :param sqlite_busy_seconds: SQLite: how long to wait for another writer's lock.
    """

    connect_seconds: int = 10
    statement_seconds: float = 600
    lock_seconds: float = 300
    idle_in_transaction_seconds: float = 3600
    keepalive_idle_seconds: int = 30
    keepalive_interval_seconds: int = 10
    keepalive_count: int = 3
    tcp_user_timeout_seconds: float = 60
    sqlite_busy_seconds: float = 30
