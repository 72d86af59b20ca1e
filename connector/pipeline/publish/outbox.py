"""Looking into the ERP outbox, and sending dead entries again once a person fixed them.

An ERP's error message may echo the request it was sent, credentials included, so
every message is masked (:func:`connector.masking.mask_secrets` with
:func:`known_secrets`) before it is stored in ``last_error`` and again before it is
shown.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Row, select

from connector.access.tokens import TokenKeyError, fernet
from connector.masking import mask_secrets, tenant_secrets, token_secrets
from connector.pipeline.review.approve import id_prefix
from connector.runtime.audit import record
from connector.runtime.runtime import Runtime
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


def known_secrets(runtime: Runtime, tenant: str) -> list[str]:
    """Every secret value an ERP message of ``tenant`` could echo: the values behind its
    secret references, its stored ERP tokens and the daemon's token key."""
    found = [runtime.settings.token_key or ""]
    if tenant in runtime.tenants:
        found.extend(tenant_secrets(runtime.tenants[tenant]))
    try:
        cipher = fernet(runtime.settings.token_key)
    except TokenKeyError:
        return [s for s in found if s]
    with runtime.db.transaction() as session:
        stored = session.scalars(
            select(m.ErpToken.ciphertext).where(m.ErpToken.tenant_id == tenant)
        ).all()
    for ciphertext in stored:
        try:
            token = json.loads(cipher.decrypt(ciphertext.encode()))
        except Exception:  # noqa: BLE001 (unreadable under this key: nothing to mask)
            continue
        if isinstance(token, dict):
            found.extend(token_secrets(token))
    return [s for s in found if s]


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
        rows = [
            OutboxRow(e.statement_id, number, customer, e.sink, e.state, e.attempts,
                      e.next_attempt_at, e.remote_id, e.last_error, e.updated_at)
            for e, number, customer in session.execute(query)
        ]  # fmt: skip
    if not any(row.last_error for row in rows):
        return rows
    # Masked again on the way out: messages stored before masking existed.
    secrets = known_secrets(runtime, tenant)
    return [
        replace(row, last_error=mask_secrets(row.last_error, secrets)) if row.last_error else row
        for row in rows
    ]


def _by_id_prefix(found: Sequence[Row], ref: str) -> list[Row]:
    """The entries (with their statement's number) whose statement id starts with ``ref``."""
    prefix = id_prefix(ref)
    return [] if prefix is None else [r for r in found if r[0].statement_id.startswith(prefix)]


def retry(runtime: Runtime, tenant: str, refs: Sequence[str], actor: str) -> list[str]:
    """Make dead or failed entries pending again, now; returns their statement ids.

    ``refs`` are invoice numbers, statement ids or unique starts of ids (as statements
    are listed); empty means every dead entry. A delivered entry is refused: sending it
    again is what the outbox exists to prevent.
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
            for ref in sorted(missing):  # the start of a statement id, as statements show it
                fits = _by_id_prefix(found, ref)
                statements = dict.fromkeys(n or e.statement_id for e, n in fits)
                if len(statements) > 1:
                    raise OutboxError(
                        f"statement id prefix {ref!r} fits the outbox entries of "
                        f"{', '.join(statements)}: give more of the id, or the number"
                    )
                if fits:
                    chosen += [row for row in fits if row not in chosen]
                    missing.discard(ref)
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
