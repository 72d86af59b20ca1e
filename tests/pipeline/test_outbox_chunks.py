"""A push claims, makes and sends the due entries a bounded chunk at a time, so its
memory does not grow with the month, and still delivers every entry once, in order."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from connector.contracts import PushResult
from connector.pipeline.publish import publish
from connector.pipeline.publish.publish import push
from connector.pipeline.review.approve import approve
from connector.storage import models as m
from tests.pipeline.test_outbox_claim import (
    TENANT,
    LedgerSink,
    add_drafts,
    deliveries,
    outbox_states,
    use_ledger_sink,
)


def _entry_order(runtime) -> list[str]:  # type: ignore[no-untyped-def]
    with runtime.db.transaction() as session:
        return list(session.scalars(select(m.OutboxEntry.statement_id).order_by(m.OutboxEntry.id)))


def test_push_hands_the_sink_chunks_of_at_most_chunk_in_entry_order(
    runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    original = LedgerSink.push

    def recording(self, documents):  # type: ignore[no-untyped-def]
        calls.append(len(documents))
        return original(self, documents)

    monkeypatch.setattr(LedgerSink, "push", recording)
    ledger = tmp_path / "erp.ledger"
    use_ledger_sink(runtime, ledger)
    ids = add_drafts(runtime, 7)
    approve(runtime, TENANT, ids, actor="test")
    outcomes = push(runtime, TENANT, chunk=3)
    assert calls == [3, 3, 1]
    assert [o.state for o in outcomes] == ["delivered"] * 7
    assert ledger.read_text().split() == _entry_order(runtime)
    assert set(deliveries(ledger).values()) == {1}
    assert outbox_states(runtime) == {"delivered": 7}
    assert push(runtime, TENANT, chunk=3) == []


def test_an_entry_that_fails_is_not_claimed_twice_by_one_push(
    runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Retried at once (no wait): only the push's cursor keeps it from a second claim.
    monkeypatch.setattr(publish, "retry_delay", lambda attempt: publish.dt.timedelta(0))

    def refuse_all(self, documents):  # type: ignore[no-untyped-def]
        return [PushResult(d.statement_id, None, False, "ERP said no") for d in documents]

    monkeypatch.setattr(LedgerSink, "push", refuse_all)
    use_ledger_sink(runtime, tmp_path / "erp.ledger")
    ids = add_drafts(runtime, 4)
    approve(runtime, TENANT, ids, actor="test")
    outcomes = push(runtime, TENANT, chunk=2)
    assert sorted(o.statement_id for o in outcomes) == sorted(ids)
    with runtime.db.transaction() as session:
        assert set(session.scalars(select(m.OutboxEntry.attempts))) == {1}
    assert outbox_states(runtime) == {"failed": 4}


def test_every_chunk_of_the_first_push_is_checked_for_mappings(
    runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A gap that only the third and fourth statements show: before the first delivery the
    # check runs on every chunk, so they are held back, not sent to fail one by one.
    use_ledger_sink(runtime, tmp_path / "erp.ledger")
    ids = add_drafts(runtime, 4)
    approve(runtime, TENANT, ids, actor="test")
    later = set(_entry_order(runtime)[2:])
    checked: list[int] = []

    def preflight(self, documents):  # type: ignore[no-untyped-def]
        checked.append(len(documents))
        return [f"no contact for {d.statement_id}" for d in documents if d.statement_id in later]

    monkeypatch.setattr(LedgerSink, "preflight", preflight, raising=False)
    outcomes = push(runtime, TENANT, chunk=2)
    assert checked == [2, 2]
    assert {o.statement_id for o in outcomes if o.state == "delivered"} == set(ids) - later
    assert set(deliveries(tmp_path / "erp.ledger")) == set(ids) - later
    assert outbox_states(runtime)["delivered"] == 2
