"""Webhook events, recorded in the transaction of the change they announce.

The transactional outbox: a step that approves, voids, builds, delivers or closes a
statement calls :func:`record` (or :func:`record_outbox`) with its own session, so
the event rows commit with the change or roll back with it; no event is lost to a
crash after the change, and none announces a change that did not happen.
``connector.pipeline.publish.webhooks`` sends them. One row per event and endpoint
that wants it (``webhooks[].events``); a tenant without endpoints records nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from connector.config.tenant import TenantConfig, WebhookEndpoint
from connector.domain.money import money_text
from connector.storage import models as m
from connector.webhooks import DELIVERED, DELIVERY_DEAD, PAID, PAST_DUE

_DATES = ("period_start", "period_end", "issue_date", "due_date")
_AMOUNTS = ("subtotal", "tax", "total")
_TEXT = ("id", "number", "customer_id", "provider", "kind", "part", "revision", "status")
# The statuses a statement is moved to after approval that an event announces: Closed
# is paid (for a credit note: allocated or refunded in the ERP).
_STATUS_EVENTS = {"Closed": PAID, "Past Due": PAST_DUE}


def _value(statement: m.Statement | Mapping[str, Any], name: str) -> Any:
    if isinstance(statement, Mapping):
        return statement.get(name)
    return getattr(statement, name)


def statement_data(statement: m.Statement | Mapping[str, Any]) -> dict[str, Any]:
    """A statement as events describe it: amounts as exact text in its currency."""
    currency = _value(statement, "currency")
    data: dict[str, Any] = {name: _value(statement, name) for name in _TEXT}
    data["currency"] = currency
    data.update((name, money_text(_value(statement, name), currency)) for name in _AMOUNTS)
    for name in _DATES:
        day = _value(statement, name)
        data[name] = day.isoformat() if isinstance(day, dt.date) else day
    return data


def event_body(event_id: str, event_type: str, tenant: str, data: Mapping[str, Any]) -> str:
    """The JSON an event is sent as, every attempt the same text."""
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    event = {"id": event_id, "type": event_type, "created_at": created, "tenant": tenant,
             "data": dict(data)}  # fmt: skip
    return json.dumps(event, separators=(",", ":"), sort_keys=True)


def add_event(
    session: Session,
    tenant: str,
    endpoints: Sequence[WebhookEndpoint],
    event_type: str,
    data: Mapping[str, Any],
    subject: str | None = None,
) -> str:
    """One event for ``endpoints`` (whatever they chose), in ``session``; its id."""
    rows = _delivery_rows(tenant, endpoints, event_type, data, subject)
    session.execute(insert(m.WebhookDelivery), rows)
    return rows[0]["event_id"]


def _delivery_rows(
    tenant: str,
    endpoints: Sequence[WebhookEndpoint],
    event_type: str,
    data: Mapping[str, Any],
    subject: str | None,
) -> list[dict[str, Any]]:
    """The ``webhook_deliveries`` rows of one new event: one per endpoint."""
    event_id = str(uuid.uuid4())
    body = event_body(event_id, event_type, tenant, data)
    now = m.utcnow()
    return [
        {"tenant_id": tenant, "event_id": event_id, "event_type": event_type,
         "endpoint": endpoint.name, "subject": subject, "body": body, "state": "pending",
         "attempts": 0, "created_at": now, "updated_at": now}
        for endpoint in endpoints
    ]  # fmt: skip


def record(
    session: Session,
    config: TenantConfig,
    event_type: str,
    statements: Iterable[m.Statement | Mapping[str, Any]],
    data: Mapping[str, Any] | None = None,
) -> None:
    """An ``event_type`` event for each statement (a model, or a row of its columns),
    with ``data`` beside the statement, for every endpoint that wants it."""
    endpoints = [e for e in config.webhooks if e.wants(event_type)]
    if not endpoints:
        return
    rows = [
        row
        for statement in statements
        for row in _delivery_rows(
            config.tenant, endpoints, event_type,
            {"statement": statement_data(statement), **(data or {})}, _value(statement, "id"),
        )
    ]  # fmt: skip
    if rows:  # one insert for the lot (an empty executemany is an error)
        session.execute(insert(m.WebhookDelivery), rows)


def record_outbox(session: Session, config: TenantConfig, entry_ids: Iterable[int]) -> None:
    """``statement.delivered`` or ``delivery.dead`` for ERP outbox entries just settled
    so (others are left alone): the statement, and the sink, attempts and last message."""
    if not config.webhooks:
        return
    entries = session.scalars(
        select(m.OutboxEntry)
        .where(m.OutboxEntry.id.in_(list(entry_ids)),
               m.OutboxEntry.state.in_(("delivered", "dead")))
        .order_by(m.OutboxEntry.id)
    ).all()  # fmt: skip
    wanted = [entry.statement_id for entry in entries]
    statements = {s.id: s for s in session.scalars(
        select(m.Statement).where(m.Statement.id.in_(wanted)))}  # fmt: skip
    for entry in entries:
        delivery = {"sink": entry.sink, "attempts": entry.attempts, "remote_id": entry.remote_id,
                    "error": entry.last_error}  # fmt: skip
        event_type = DELIVERED if entry.state == "delivered" else DELIVERY_DEAD
        found = statements.get(entry.statement_id, {"id": entry.statement_id})
        record(session, config, event_type, [found], {"delivery": delivery})


def record_status(session: Session, config: TenantConfig, statement: m.Statement) -> None:
    """``statement.paid`` or ``statement.past_due`` for a statement just moved to Closed
    or Past Due; nothing for another status."""
    event_type = _STATUS_EVENTS.get(statement.status)
    if event_type is not None:
        record(session, config, event_type, [statement])
