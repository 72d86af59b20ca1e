"""Invoice numbers stay unique and gapless when several processes approve at once."""

from __future__ import annotations

import threading

from sqlalchemy import select

from connector.pipeline.approve import ApprovalError, approve
from connector.pipeline.build import generate
from connector.pipeline.ingest import ingest
from connector.storage import models as m
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER


def test_concurrent_approvals_give_unique_gapless_numbers(runtime) -> None:
    ingest(runtime, "acme", "aws")
    drafts = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE).generated
    ids = [s.id for s in drafts]
    # Every thread tries to approve every draft; exactly one approval per draft may win.
    barrier = threading.Barrier(len(ids))
    outcomes: list[object] = []

    def approver(statement_id: str) -> None:
        barrier.wait()
        try:
            outcomes.extend(approve(runtime, "acme", [statement_id], actor="t"))
        except ApprovalError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=approver, args=(i,)) for i in ids + ids]
    barrier = threading.Barrier(len(threads))
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    with runtime.db.transaction() as session:
        numbers = sorted(session.scalars(select(m.Statement.number)))
        outbox = session.scalars(select(m.OutboxEntry)).all()
    assert numbers == ["ACME-01001", "ACME-01002", "ACME-01003"]
    assert len(outbox) == 3
    assert sum(isinstance(o, ApprovalError) for o in outcomes) == 3
