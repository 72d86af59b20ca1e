"""A receiver that is down for a while gets, after the backoff, exactly the events it
missed, each with its original id; a receiver that got an event but whose answer was
lost gets it again under the same id and keeps it once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from connector.pipeline.publish import webhooks
from connector.pipeline.publish.webhooks import MAX_ATTEMPTS, deliver, deliveries, retry
from connector.pipeline.review.approve import approve
from connector.storage.models import utcnow
from tests.webhooks.conftest import SECRET
from tests.webhooks.flow import LATER, drafts


def books(runtime, *states: str):
    return [d for d in deliveries(runtime, "acme", states, endpoint="books")]


def test_a_receiver_down_for_a_while_gets_exactly_the_missed_events_later(runtime, receiver):
    ids = drafts(runtime)
    assert {s.state for s in deliver(runtime, "acme")} == {"delivered"}  # 3 drafted, up
    before = receiver.ids()

    receiver.stop()  # the port is closed
    approve(runtime, "acme", ids, actor="test")
    now = utcnow()
    sent = deliver(runtime, "acme", now=now)
    # One attempt finds the endpoint down; its other events wait without an attempt.
    assert Counter(s.state for s in sent) == {"failed": 1, "waiting": 2}
    failed = books(runtime, "failed")
    assert sorted(d.attempts for d in failed) == [0, 0, 1]
    assert all(d.next_attempt_at is not None for d in failed)
    assert "ConnectError" in next(d.last_error for d in failed if d.attempts == 1)

    receiver.status = 503  # back on its port, but not ready
    receiver.start()
    assert deliver(runtime, "acme", now=now) == []  # nothing is due before the backoff
    assert receiver.requests[len(before) :] == []
    sent = deliver(runtime, "acme", now=now + LATER)
    assert Counter(s.state for s in sent) == {"failed": 1, "waiting": 2}
    assert "HTTP 503 Service Unavailable" in sent[0].message

    receiver.status = 200
    sent = deliver(runtime, "acme", now=now + 2 * LATER)
    assert Counter(s.state for s in sent) == {"delivered": 3}
    missed = receiver.ids()[len(before) :]
    approved = [d.event_id for d in books(runtime) if d.event_type == "statement.approved"]
    # Exactly the missed ones: the drafted events are not sent again, every approval
    # arrived (the first one twice: once answered 503), under the id it was recorded with.
    assert receiver.ids()[: len(before)] == before and not set(missed) & set(before)
    assert set(missed) == set(approved) and len(missed) == 4
    events = receiver.events(SECRET)
    assert [e["id"] for e in events] == before + approved  # de-duplicated: once each
    assert {d.state for d in books(runtime)} == {"delivered"}


def test_an_answer_lost_to_a_timeout_is_sent_again_under_the_same_id(runtime, receiver):
    runtime.tenants["acme"].webhooks[0].timeout_seconds = 0.3
    receiver.delay = 1.0  # it takes the event, but answers too late
    drafts(runtime)
    sent = deliver(runtime, "acme")
    assert sent[0].state == "failed" and "no answer within 0.3 s" in sent[0].message
    receiver.delay = 0
    sent = deliver(runtime, "acme", now=utcnow() + LATER)
    assert {s.state for s in sent} == {"delivered"}
    first = sent[0].event_id
    assert receiver.ids().count(first) == 2  # delivered twice ...
    assert len(receiver.events(SECRET)) == 3  # ... kept once by the receiver


def test_a_delivery_that_never_gets_through_is_dead_until_an_operator_retries(runtime, receiver):
    runtime.tenants["acme"].webhooks = runtime.tenants["acme"].webhooks[:1]
    receiver.status = 500
    receiver.answer = b"x" * 10_000  # a long error page: only its start is kept
    drafts(runtime)
    now = utcnow()
    for attempt in range(MAX_ATTEMPTS):
        deliver(runtime, "acme", now=now + attempt * LATER)
    dead = books(runtime, "dead")
    assert len(dead) == 1 and dead[0].attempts == MAX_ATTEMPTS
    assert dead[0].last_status == 500 and dead[0].last_response == "x" * 200
    assert dead[0].next_attempt_at is None
    assert deliver(runtime, "acme", now=now + 100 * LATER) != []  # the other two go on

    receiver.status = 200
    assert retry(runtime, "acme", [dead[0].event_id[:8]], actor="test") == [dead[0].event_id]
    deliver(runtime, "acme", now=now + 200 * LATER)
    assert {d.state for d in books(runtime)} == {"delivered"}


def test_a_redirect_is_not_followed(runtime, receiver):
    receiver.status, receiver.location = 302, "https://elsewhere.example/hooks"
    drafts(runtime)
    sent = deliver(runtime, "acme")
    assert sent[0].state == "failed"
    assert "HTTP 302 Found to https://elsewhere.example/hooks: redirects are not followed" in (
        sent[0].message
    )
    assert len(receiver.requests) == 1  # nothing went anywhere else


def test_an_endpoint_removed_from_the_tenant_file_leaves_its_events_dead(runtime, receiver):
    drafts(runtime)
    runtime.tenants["acme"].webhooks = []
    sent = deliver(runtime, "acme")
    assert {s.state for s in sent} == {"dead"} and len(sent) == 3
    assert "endpoint 'books' is no longer in the tenant file" in sent[0].message
    assert receiver.requests == []


def test_a_pass_sends_more_events_than_one_claim_holds(runtime, receiver, monkeypatch):
    monkeypatch.setattr(webhooks, "BATCH", 2)
    drafts(runtime)
    assert [s.state for s in deliver(runtime, "acme")] == ["delivered"] * 3


def test_two_senders_at_once_send_each_event_once(runtime, receiver, monkeypatch):
    """Each claim is one sender's: with claims of one event and a slow receiver, two
    daemons share the work and no event is sent by both."""
    monkeypatch.setattr(webhooks, "BATCH", 1)
    receiver.delay = 0.2
    drafts(runtime)
    with ThreadPoolExecutor(2) as pool:
        both = list(pool.map(lambda _: deliver(runtime, "acme"), range(2)))
    assert sorted(s.state for sent in both for s in sent) == ["delivered"] * 3
    assert len(receiver.ids()) == len(set(receiver.ids())) == 3


def test_a_secret_that_cannot_be_read_sends_nothing_and_says_which(runtime, receiver, monkeypatch):
    monkeypatch.delenv("ACME_WEBHOOK_SECRET")
    drafts(runtime)
    sent = deliver(runtime, "acme")
    assert [s.state for s in sent] == ["failed", "waiting", "waiting"]
    assert "secret environment variable ACME_WEBHOOK_SECRET is not set" in sent[0].message
    assert receiver.requests == []
