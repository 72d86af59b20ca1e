"""Approval writes a bounded chunk of statements at a time and lets go of it, so its
memory does not grow with the month (issue 24), and numbers stay gapless and in
numbering order across the chunks, in one transaction."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from connector.config.tenant import WebhookEndpoint
from connector.pipeline.review import approve as approval
from connector.pipeline.review.approve import approve
from connector.runtime.webhook_events import statement_data
from connector.storage import models as m
from connector.webhooks import APPROVED
from tests.pipeline.test_outbox_claim import TENANT, add_drafts

CHUNK = 5
DRAFTS = 4 * CHUNK + 3  # a last chunk smaller than the others


def _held(session: Session) -> int:
    """The statements, outbox entries and audit entries the session holds."""
    kinds = (m.Statement, m.OutboxEntry, m.AuditEntry)
    return sum(isinstance(o, kinds) for o in [*session.identity_map.values(), *session.new])


@pytest.mark.parametrize("named", [False, True], ids=["all-drafts", "named"])
def test_approval_holds_no_more_than_a_chunk_of_rows_in_its_session(
    runtime, monkeypatch: pytest.MonkeyPatch, named: bool
) -> None:
    monkeypatch.setattr(approval, "CHUNK", CHUNK)
    ids = add_drafts(runtime, DRAFTS)
    held: list[int] = []  # after each statement written, what the session holds
    written: list[int] = []  # the statements each UPDATE opened

    def count(context) -> None:  # type: ignore[no-untyped-def]
        if context.is_update and context.statement.table.name == "statements":
            written.append(len(context.parameters or [1]))
        held.append(_held(context.session))

    event.listen(Session, "do_orm_execute", count)
    try:
        approved = approve(runtime, TENANT, list(reversed(ids)) if named else None, "test")
    finally:
        event.remove(Session, "do_orm_execute", count)

    assert max(held) <= CHUNK  # at most one chunk's rows held, never the month
    # Each chunk was written on its own: 5, 5, 5, 5 and the last 3.
    assert written == [CHUNK] * (DRAFTS // CHUNK) + [DRAFTS % CHUNK]
    with runtime.db.transaction() as session:
        by_period = session.scalars(select(m.Statement.number).order_by(m.Statement.period_start))
        outbox = session.scalars(select(m.OutboxEntry.statement_id).order_by(m.OutboxEntry.id))
        audited = session.scalars(
            select(m.AuditEntry.subject).where(m.AuditEntry.action == "statement.approve")
        )
        assert [s.number for s in approved] == list(by_period)  # numbered by period
        assert [s.id for s in approved] == list(outbox)  # queued in that order
        assert sorted(audited) == sorted(ids)
        counter = session.get(m.Tenant, TENANT).next_invoice_number
    digits = [int(s.number[-5:]) for s in approved]
    assert digits == list(range(digits[0], digits[0] + DRAFTS))  # gapless across chunks
    assert counter == digits[-1] + 1  # the last chunk's numbers are counted too
    assert {s.status for s in approved} == {"Open"}


def test_approved_events_describe_each_statement_as_stored_once_approved(
    runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Guards what the chunked writing keeps: each chunk's events are built from the
    # columns read, and must say what the full statement would (every field, in order).
    monkeypatch.setattr(approval, "CHUNK", CHUNK)
    runtime.tenants[TENANT].webhooks = [
        WebhookEndpoint(
            name="books", url="http://127.0.0.1:9/hook", secret={"secret_env": "UNUSED"}
        )
    ]
    ids = add_drafts(runtime, CHUNK + 2)
    approved = approve(runtime, TENANT, None, "test")
    with runtime.db.transaction() as session:
        bodies = session.scalars(
            select(m.WebhookDelivery.body)
            .where(m.WebhookDelivery.event_type == APPROVED)
            .order_by(m.WebhookDelivery.id)
        ).all()
        stored = {s.id: statement_data(s) for s in session.scalars(select(m.Statement))}
    told = [json.loads(body)["data"]["statement"] for body in bodies]
    assert told == [stored[s.id] for s in approved]
    assert sorted(t["id"] for t in told) == sorted(ids)
