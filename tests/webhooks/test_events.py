"""Every event type reaches the endpoints that want it, signed and verifiable, once
per change, recorded in the transaction of the change."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select

from connector.domain.money import money_text
from connector.pipeline.publish.publish import push
from connector.pipeline.publish.webhooks import deliver, deliveries
from connector.pipeline.review import approve as approve_module
from connector.pipeline.review.approve import approve
from connector.pipeline.review.lifecycle import set_status
from connector.pipeline.review.void import void
from connector.pipeline.sync.sync import mark_past_due
from connector.storage import models as m
from connector.webhooks import EVENT_TYPES, WebhookVerificationError, verify
from tests.webhooks.conftest import PAYMENTS_SECRET, SECRET
from tests.webhooks.flow import drafts


def test_each_event_type_arrives_signed_and_verifiable(runtime, receiver, payments_receiver):
    first, second, third = drafts(runtime)
    approved = approve(runtime, "acme", [first, second, third], actor="test")
    numbers = [s.number for s in approved]
    push(runtime, "acme")  # 1001 and 1002 delivered; 1003's ERP refuses: dead
    set_status(runtime, "acme", [numbers[0]], "Closed", actor="test")  # paid
    mark_past_due(runtime, "acme", dt.date(2027, 6, 1))  # 1002 and 1003
    note = void(runtime, "acme", numbers[1], "test", "billed the wrong account")

    sent = deliver(runtime, "acme")

    assert {s.state for s in sent} == {"delivered"}
    events = receiver.events(SECRET)  # raises unless every request verifies
    assert len(events) == len(receiver.requests)  # one request each: nothing failed
    counted = Counter(e["type"] for e in events)
    assert counted == {
        "statement.drafted": 3,
        "statement.approved": 4,  # the three, and the credit note voiding issued
        "statement.delivered": 2,
        "delivery.dead": 1,
        "statement.paid": 1,
        "statement.past_due": 2,
        "statement.voided": 1,
    }
    assert set(counted) == set(EVENT_TYPES)
    by_type = {e["type"]: e for e in events}
    paid = by_type["statement.paid"]["data"]["statement"]
    assert (paid["number"], paid["status"], paid["customer_id"]) == (numbers[0], "Closed", "1001")
    assert paid["total"] == money_text(approved[0].total, "USD")  # exact text, in cents
    assert paid["currency"] == "USD" and paid["period_start"] == "2026-10-01"
    drafted = [e["data"]["statement"] for e in events if e["type"] == "statement.drafted"]
    assert {(d["status"], d["number"], d["kind"]) for d in drafted} == {("Draft", None, "usage")}
    assert sorted(d["id"] for d in drafted) == sorted([first, second, third])
    dead = by_type["delivery.dead"]["data"]
    assert dead["statement"]["customer_id"] == "1003"
    assert dead["delivery"]["sink"] == "archiving-erp"
    assert dead["delivery"]["error"] == "Contact is archived"
    voided = by_type["statement.voided"]["data"]
    assert voided["statement"]["status"] == "Void"
    assert voided["credit_note"] == {"id": note.id, "number": note.number}
    delivered = by_type["statement.delivered"]
    assert delivered["data"]["delivery"]["remote_id"].startswith("inv-")
    assert delivered["tenant"] == "acme"
    # The endpoint that chose statement.paid only got that one, under its own secret.
    (only,) = payments_receiver.events(PAYMENTS_SECRET)
    assert only["type"] == "statement.paid" and only["id"] == by_type["statement.paid"]["id"]
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        payments_receiver.events(SECRET)


def test_the_same_event_carries_one_id_to_every_endpoint(runtime, receiver, payments_receiver):
    (first, *_) = drafts(runtime)
    (statement,) = approve(runtime, "acme", [first], actor="test")
    set_status(runtime, "acme", [statement.number], "Closed", actor="test")
    deliver(runtime, "acme")
    books = {e["id"] for e in receiver.events(SECRET) if e["type"] == "statement.paid"}
    payments = {e["id"] for e in payments_receiver.events(PAYMENTS_SECRET)}
    assert books == payments and len(books) == 1


def test_a_change_rolled_back_announces_nothing(runtime, receiver, monkeypatch):
    """The events are written in the approval's transaction: when it fails after they
    were written, they go with it (none invented), and the approval that then succeeds
    records them (none lost)."""
    ids = drafts(runtime)
    real = approve_module.webhook_events.record

    def record_then_fail(*args, **kwargs):
        real(*args, **kwargs)
        raise RuntimeError("the database went away before the commit")

    monkeypatch.setattr(approve_module.webhook_events, "record", record_then_fail)
    with pytest.raises(RuntimeError):
        approve(runtime, "acme", ids, actor="test")
    types = Counter(d.event_type for d in deliveries(runtime, "acme"))
    assert types == {"statement.drafted": 3}
    with runtime.db.transaction() as session:
        statuses = session.scalars(select(m.Statement.status)).all()
    assert set(statuses) == {"Draft"}

    monkeypatch.setattr(approve_module.webhook_events, "record", real)
    approve(runtime, "acme", ids, actor="test")
    types = Counter(d.event_type for d in deliveries(runtime, "acme"))
    assert types == {"statement.drafted": 3, "statement.approved": 3}


def test_a_tenant_without_endpoints_records_no_event(runtime):
    runtime.tenants["acme"].webhooks = []
    approve(runtime, "acme", drafts(runtime), actor="test")
    with runtime.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(m.WebhookDelivery)) == 0


def test_verify_refuses_a_request_replayed_after_the_tolerance(runtime, receiver):
    drafts(runtime)
    deliver(runtime, "acme")
    request = receiver.requests[0]
    assert verify(request.body, request.headers, SECRET)["type"] == "statement.drafted"
    later = int(request.headers["Connector-Webhook-Timestamp"]) + 301
    with pytest.raises(WebhookVerificationError, match="more than the tolerance of 300 s"):
        verify(request.body, request.headers, SECRET, now=later)
