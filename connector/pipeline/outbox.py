"""Looking into the ERP outbox, and sending dead entries again once a person fixed them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from connector.pipeline.audit import record
from connector.pipeline.runtime import Runtime
from connector.storage import models as m

STATES = ("pending", "in_flight", "delivered", "failed", "dead")


class OutboxError(LookupError):
    """An outbox request names something that is not there or cannot be retried."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    statement_id: str
    number: str | None
    customer_id: str
    sink: str
    state: str
    attempts: int
    next_attempt_at: dt.datetime | None
    remote_id: str | None
    last_error: str | None
    updated_at: dt.datetime


def entries(runtime: Runtime, tenant: str, states: Sequence[str] = ()) -> list[OutboxRow]:
    """The tenant's outbox, oldest first; only ``states`` when given."""
    query = (
        select(m.OutboxEntry, m.Statement.number, m.Statement.customer_id)
        .join(m.Statement, m.Statement.id == m.OutboxEntry.statement_id)
        .where(m.OutboxEntry.tenant_id == tenant)
        .order_by(m.OutboxEntry.id)
    )
    if states:
        query = query.where(m.OutboxEntry.state.in_(states))
    with runtime.db.transaction() as session:
        return [
            OutboxRow(e.statement_id, number, customer, e.sink, e.state, e.attempts,
                      e.next_attempt_at, e.remote_id, e.last_error, e.updated_at)
            for e, number, customer in session.execute(query)
        ]  # fmt: skip


def retry(runtime: Runtime, tenant: str, refs: Sequence[str], actor: str) -> list[str]:
    """Make dead or failed entries pending again, now; returns their statement ids.

    ``refs`` are invoice numbers or statement ids; empty means every dead entry. A
    delivered entry is refused: sending it again is what the outbox exists to prevent.
    """
    with runtime.db.transaction() as session:
        query = (
            select(m.OutboxEntry, m.Statement.number)
            .join(m.Statement, m.Statement.id == m.OutboxEntry.statement_id)
            .where(m.OutboxEntry.tenant_id == tenant)
        )
        found = list(session.execute(query))
        if refs:
            wanted = set(refs)
            chosen = [(e, n) for e, n in found if e.statement_id in wanted or n in wanted]
            missing = wanted - {e.statement_id for e, _ in chosen} - {n for _, n in chosen}
            if missing:
                raise OutboxError(
                    f"tenant {tenant!r} has no outbox entry for {', '.join(sorted(missing))}"
                )
            delivered = [n or e.statement_id for e, n in chosen if e.state == "delivered"]
            if delivered:
                raise OutboxError(
                    f"{', '.join(delivered)} already delivered; a retry would send them twice"
                )
        else:
            chosen = [(e, n) for e, n in found if e.state == "dead"]
        for entry, _ in chosen:
            entry.state, entry.attempts, entry.next_attempt_at = "pending", 0, None
            record(session, tenant, actor, "outbox.retry", entry.statement_id,
                   {"last_error": entry.last_error})  # fmt: skip
        return [entry.statement_id for entry, _ in chosen]
