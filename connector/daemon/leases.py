"""Leases in ``work_leases``: who holds a unit of work (or the clock), until when.

One row per unit of work. Its ``expires_at`` is also the unit's schedule: while a
replica holds the unit it is the lease's end (renewed as the work goes on); once the
unit is handed back (``holder`` "idle" or "backoff") it is the time the unit is next
due. So "claim" is the same statement whatever the reason the row is free: the lease
of a dead replica ran out, the next run is due, or a failing tenant's backoff ended.

Claims are single statements that are safe with any number of replicas:
``SELECT ... FOR UPDATE SKIP LOCKED`` picks a due row on PostgreSQL without waiting
for rows other replicas are claiming (SQLite ignores it; its ``BEGIN IMMEDIATE``
serialises the claim instead), and named claims are ``INSERT ... ON CONFLICT DO UPDATE
... WHERE the lease has expired`` (both databases), so of two replicas racing for a
lease exactly one gets a row back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from connector.daemon.clock import Clock
from connector.storage import models as m
from connector.storage.db import Database

IDLE = "idle"
BACKOFF = "backoff"
FREE_STATES = (IDLE, BACKOFF)
POKE = "poke/"


def _insert(db: Database):  # type: ignore[no-untyped-def]
    return postgresql.insert if db.dialect == "postgresql" else sqlite.insert


def aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back naive; every time we store is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class LeaseBook:
    """The leases of one replica (``holder``), on one database, by one clock."""

    def __init__(self, db: Database, holder: str, clock: Clock) -> None:
        if holder in FREE_STATES:
            raise ValueError(f"{holder!r} is reserved for leases nobody holds")
        self.db, self.holder, self.clock = db, holder, clock

    def claim(self, name: str, ttl: float) -> bool:
        """Take (or keep) the lease ``name`` for ``ttl`` seconds if it is free or ours."""
        now = self.clock.now()
        expires = now + dt.timedelta(seconds=ttl)
        stmt = _insert(self.db)(m.WorkLease).values(
            name=name, holder=self.holder, expires_at=expires, updated_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[m.WorkLease.name],
            set_={"holder": self.holder, "expires_at": expires, "updated_at": now},
            where=or_(m.WorkLease.expires_at <= now, m.WorkLease.holder == self.holder),
        ).returning(m.WorkLease.name)
        with self.db.transaction() as session:
            return session.execute(stmt).first() is not None

    def claim_due(self, prefix: str, ttl: float, exclude: Collection[str] = ()) -> str | None:
        """Claim the first (by name) unit under ``prefix`` that is due; None when none is."""
        now = self.clock.now()
        query = (
            select(m.WorkLease.name)
            .where(m.WorkLease.name.startswith(prefix, autoescape=True))
            .where(m.WorkLease.expires_at <= now)
            .order_by(m.WorkLease.name)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if exclude:
            query = query.where(m.WorkLease.name.not_in(list(exclude)))
        with self.db.transaction() as session:
            name = session.scalar(query)
            if name is None:
                return None
            session.execute(
                update(m.WorkLease)
                .where(m.WorkLease.name == name)
                .values(
                    holder=self.holder,
                    expires_at=now + dt.timedelta(seconds=ttl),
                    updated_at=now,
                )
            )
            return name

    def renew(self, names: Iterable[str], ttl: float) -> list[str]:
        """Extend the leases we still hold; returns those we no longer hold (lost)."""
        names = list(names)
        if not names:
            return []
        now = self.clock.now()
        with self.db.transaction() as session:
            session.execute(
                update(m.WorkLease)
                .where(m.WorkLease.name.in_(names), m.WorkLease.holder == self.holder)
                .values(expires_at=now + dt.timedelta(seconds=ttl), updated_at=now)
            )
            held = set(
                session.scalars(
                    select(m.WorkLease.name).where(
                        m.WorkLease.name.in_(names), m.WorkLease.holder == self.holder
                    )
                )
            )
        return [n for n in names if n not in held]

    def release(self, name: str, due_in: float = 0.0, state: str = IDLE) -> None:
        """Hand ``name`` back: free (``state``) and due again in ``due_in`` seconds."""
        if state not in FREE_STATES:
            raise ValueError(f"release state must be one of {FREE_STATES}")
        now = self.clock.now()
        with self.db.transaction() as session:
            # The lease row is locked by this update before the poke flag is read, and
            # poke() locks it too: a poke that came while we worked is never lost.
            session.execute(
                update(m.WorkLease)
                .where(m.WorkLease.name == name, m.WorkLease.holder == self.holder)
                .values(holder=state, expires_at=now + dt.timedelta(seconds=due_in), updated_at=now)
            )
            if state == IDLE and due_in > 0:
                poked = session.execute(
                    delete(m.WorkLease).where(m.WorkLease.name == POKE + name)
                ).rowcount
                if poked:
                    session.execute(
                        update(m.WorkLease)
                        .where(m.WorkLease.name == name)
                        .values(expires_at=now, updated_at=now)
                    )

    def release_all(self) -> list[str]:
        """Hand back every lease we hold, due at once (shutdown); returns their names."""
        now = self.clock.now()
        with self.db.transaction() as session:
            names = list(
                session.scalars(
                    select(m.WorkLease.name).where(
                        m.WorkLease.holder == self.holder, m.WorkLease.expires_at > now
                    )
                )
            )
            session.execute(
                update(m.WorkLease)
                .where(m.WorkLease.holder == self.holder)
                .values(holder=IDLE, expires_at=now, updated_at=now)
            )
        return names

    def poke(self, name: str) -> None:
        """Ask for a unit to run again now (e.g. the outbox right after approvals).

        A free unit becomes due at once. A unit another replica holds may already have
        read its work, so a flag row ``poke/<name>`` asks its holder to make it due
        again when it hands it back (see :meth:`take_poke`).
        """
        now = self.clock.now()
        flag = _insert(self.db)(m.WorkLease).values(
            name=POKE + name, holder=IDLE, expires_at=now, updated_at=now
        )
        with self.db.transaction() as session:
            # Serialise with release(): the holder either sees the flag when it hands
            # the unit back, or has handed it back and this makes it due.
            session.execute(
                select(m.WorkLease.name).where(m.WorkLease.name == name).with_for_update()
            )
            session.execute(
                update(m.WorkLease)
                .where(m.WorkLease.name == name, m.WorkLease.holder == IDLE)
                .where(m.WorkLease.expires_at > now)
                .values(expires_at=now, updated_at=now)
            )
            session.execute(flag.on_conflict_do_nothing(index_elements=[m.WorkLease.name]))

    def take_poke(self, name: str) -> bool:
        """Consume the poke flag of ``name``; True when someone asked since the last take."""
        with self.db.transaction() as session:
            result = session.execute(delete(m.WorkLease).where(m.WorkLease.name == POKE + name))
            return bool(result.rowcount)

    def enrol(self, names: Iterable[str]) -> None:
        """Create the rows of units that have none yet, due now; others stay as they are."""
        now = self.clock.now()
        rows = [{"name": n, "holder": IDLE, "expires_at": now, "updated_at": now} for n in names]
        if not rows:
            return
        stmt = _insert(self.db)(m.WorkLease).values(rows)
        with self.db.transaction() as session:
            session.execute(stmt.on_conflict_do_nothing(index_elements=[m.WorkLease.name]))

    def retire(self, prefix: str, keep: Collection[str]) -> int:
        """Delete free rows under ``prefix`` not in ``keep`` (tenants no longer configured)."""
        now = self.clock.now()
        query = delete(m.WorkLease).where(
            m.WorkLease.name.startswith(prefix, autoescape=True),
            or_(m.WorkLease.holder.in_(FREE_STATES), m.WorkLease.expires_at <= now),
        )
        if keep:
            query = query.where(m.WorkLease.name.not_in(list(keep)))
        with self.db.transaction() as session:
            return session.execute(query).rowcount or 0

    def holder_of(self, name: str) -> tuple[str, dt.datetime] | None:
        """(holder, expires_at) of ``name``, None when it has no row."""
        with self.db.transaction() as session:
            row = session.get(m.WorkLease, name)
            return None if row is None else (row.holder, aware(row.expires_at))
