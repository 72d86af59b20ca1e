"""Deleting a Draft while it is being approved leaves the approved invoice alone (issue 18).

The deleter reads the statement while the approval is not committed yet (a Draft, as
far as it can see), then asks to delete it. The delete must wait for the approval and
re-check under the lock: the statement is Open by then, so the delete is refused and
the number stays, with no gap and no outbox row left without its statement.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from connector.pipeline.build.build import BuildError, delete_draft
from connector.pipeline.publish.publish import push
from connector.pipeline.review import approve as approve_module
from connector.pipeline.review.approve import approve, find_statements
from connector.storage import models as m
from tests.pipeline.test_outbox_claim import TENANT, add_drafts, deliveries, use_ledger_sink


def test_a_draft_deleted_while_it_is_approved_stays_approved_with_its_number(
    runtime, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = tmp_path / "ledger.txt"
    use_ledger_sink(runtime, ledger)
    (draft,) = add_drafts(runtime, 1)
    approving, deleter_reading = threading.Event(), threading.Event()
    audited = approve_module.record_many

    def record_then_pause(session, *args, **kwargs):  # type: ignore[no-untyped-def]
        audited(session, *args, **kwargs)
        session.flush()  # the statement row is Open (and locked), not committed yet
        approving.set()
        deleter_reading.wait(timeout=3)  # SQLite: the deleter waits to begin instead
        time.sleep(0.5)  # the deleter is now blocked on our locks

    monkeypatch.setattr(approve_module, "record_many", record_then_pause)
    approver = threading.Thread(target=approve, args=(runtime, TENANT, [draft], "approver"))
    approver.start()
    assert approving.wait(timeout=10)
    refused = pytest.raises(BuildError, match="is Open; only Drafts can be deleted")
    with refused, runtime.db.transaction() as session:
        (statement,) = find_statements(session, TENANT, [draft])
        deleter_reading.set()
        delete_draft(session, TENANT, statement, "deleter")
    approver.join(timeout=30)
    monkeypatch.setattr(approve_module, "record_many", audited)

    with runtime.db.transaction() as session:
        stored = session.get(m.Statement, draft)
        actions = list(session.scalars(select(m.AuditEntry.action).order_by(m.AuditEntry.id)))
    assert (stored.status, stored.number) == ("Open", "ACME-01001")
    assert "statement.delete" not in actions
    assert [o.state for o in push(runtime, TENANT)] == ["delivered"]
    assert deliveries(ledger) == {draft: 1}
