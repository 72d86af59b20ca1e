"""The outbox: a statement the ERP refuses as invalid is dead at once, with its reason;
a failure that may pass later is retried."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import select

from connector.contracts import PushResult
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.publish.publish import push
from connector.pipeline.review.approve import approve
from connector.storage import models as m
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER


class RefusingSink:
    """Refuses 1001's statement as invalid and fails 1002's for now."""

    name: ClassVar[str] = "refusing"
    settings_model: ClassVar[type | None] = None

    def __init__(self, settings, context) -> None:
        self.context = context

    def push(self, documents):
        return [
            PushResult(d.statement_id, None, False, "Account code '999' is not valid",
                       permanent=True)
            if d.customer_id == "1001"
            else PushResult(d.statement_id, None, False, "HTTP 503 Service Unavailable")
            for d in documents
        ]  # fmt: skip


def test_a_permanent_refusal_is_dead_at_once_and_a_passing_failure_retries(runtime) -> None:
    runtime.plugins.sinks.add(RefusingSink)
    runtime.tenants["acme"].erp.sink = "refusing"
    ingest(runtime, "acme", "aws")
    generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1001", "1002"], today=AFTER_CLOSE)
    approve(runtime, "acme", None, actor="test")
    outcomes = {o.number: (o.state, o.message) for o in push(runtime, "acme")}
    assert sorted(outcomes.values()) == [
        ("dead", "Account code '999' is not valid"),
        ("failed", "HTTP 503 Service Unavailable"),
    ]
    with runtime.db.transaction() as session:
        attempts = sorted(session.scalars(select(m.OutboxEntry.attempts)))
    assert attempts == [1, 1]


def test_retry_delays_grow_exponentially_with_jitter_and_are_capped() -> None:
    """1st failure: 60 s + up to 30 s of jitter; 2nd 120 s + jitter; 3rd 240 s + jitter;
    the 10th would be 30,720 s, capped at an hour."""
    from connector.pipeline.publish.publish import retry_delay

    for attempt, base in ((1, 60), (2, 120), (3, 240)):
        delays = {retry_delay(attempt).total_seconds() for _ in range(20)}
        assert all(base <= d <= base + 30 for d in delays), (attempt, delays)
        assert len(delays) > 1  # jittered, not one fixed value
    assert retry_delay(10).total_seconds() <= 3600
