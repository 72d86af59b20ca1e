"""The outbox hands each entry to one push at a time, holds it for the daemon's lease
(``schedule.lease_seconds``), and never lets one bad entry hold back the others."""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

from sqlalchemy import select, update

from connector.contracts import PushResult
from connector.pipeline.publish.publish import push
from connector.pipeline.review.approve import approve
from connector.runtime.runtime import Runtime
from connector.runtime.tenants import sync_tenant
from connector.storage import models as m

TENANT = "acme"


class LedgerSink:
    """An ERP that appends each statement it receives to a file (one line each, any
    number of processes at once) after ``seconds``, and accepts it."""

    name: ClassVar[str] = "ledger"
    settings_model: ClassVar[type | None] = None

    def __init__(self, settings, context) -> None:
        self.ledger = Path(settings["ledger"])
        self.seconds = float(settings.get("seconds", 0))

    def push(self, documents):
        time.sleep(self.seconds)
        lines = "".join(f"{d.statement_id}\n" for d in documents).encode()
        fd = os.open(self.ledger, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, lines)  # one write with O_APPEND: whole lines, never interleaved
        finally:
            os.close(fd)
        return [PushResult(d.statement_id, f"inv-{d.number}", True) for d in documents]


def use_ledger_sink(runtime: Runtime, ledger: Path, seconds: float = 0.0) -> None:
    if "ledger" not in runtime.plugins.sinks.names():
        runtime.plugins.sinks.add(LedgerSink)
    erp = runtime.tenants[TENANT].erp
    erp.sink, erp.settings = "ledger", {"ledger": str(ledger), "seconds": seconds}


def deliveries(ledger: Path) -> Counter:
    """How many times the ERP received each statement."""
    return Counter(ledger.read_text().split()) if ledger.exists() else Counter()


def add_drafts(runtime: Runtime, count: int, first_year: int = 2000) -> list[str]:
    """``count`` Drafts of customer 1002, one a month from January ``first_year``."""
    with runtime.db.transaction() as session:
        sync_tenant(session, runtime.tenant(TENANT))
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with runtime.db.transaction() as session:
        for month, statement_id in enumerate(ids):
            start = dt.date(first_year + month // 12, month % 12 + 1, 1)
            session.add(m.Statement(
                id=statement_id, tenant_id=TENANT, customer_id="1002", provider="aws",
                period_start=start, period_end=start, currency="USD", subtotal=Decimal(1),
                tax=Decimal(0), total=Decimal(1), issue_date=start, due_date=start,
            ))  # fmt: skip
    return ids


def outbox_states(runtime: Runtime) -> Counter:
    with runtime.db.transaction() as session:
        return Counter(session.scalars(select(m.OutboxEntry.state)))


def test_two_pushes_at_once_hand_each_entry_to_the_erp_once(runtime, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger.txt"
    use_ledger_sink(runtime, ledger, seconds=0.2)
    ids = add_drafts(runtime, 30)
    approve(runtime, TENANT, ids, actor="test")
    barrier = threading.Barrier(4)
    outcomes: list = []

    def pusher() -> None:
        barrier.wait()
        outcomes.extend(push(runtime, TENANT))

    threads = [threading.Thread(target=pusher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert deliveries(ledger) == Counter({i: 1 for i in ids})
    assert sorted(o.statement_id for o in outcomes) == sorted(ids)
    assert {o.state for o in outcomes} == {"delivered"}
    assert outbox_states(runtime) == {"delivered": 30}


def _in_flight_since(runtime: Runtime, statement_id: str, seconds: float) -> None:
    """As a pusher that claimed the entry ``seconds`` ago and died left it."""
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)
    with runtime.db.transaction() as session:
        session.execute(
            update(m.OutboxEntry)
            .where(m.OutboxEntry.statement_id == statement_id)
            .values(state="in_flight", attempts=1, updated_at=since)
        )


def test_a_dead_pushers_entries_are_taken_over_after_lease_seconds(runtime, tmp_path: Path) -> None:
    runtime.settings.schedule.lease_seconds = 5
    ledger = tmp_path / "ledger.txt"
    use_ledger_sink(runtime, ledger)
    old, recent = add_drafts(runtime, 2)
    approve(runtime, TENANT, [old, recent], actor="test")
    _in_flight_since(runtime, old, 6)
    _in_flight_since(runtime, recent, 2)

    assert [o.statement_id for o in push(runtime, TENANT)] == [old]
    assert deliveries(ledger) == Counter({old: 1})
    assert outbox_states(runtime) == {"delivered": 1, "in_flight": 1}


def test_a_slow_erp_keeps_the_claim_past_the_lease(runtime, tmp_path: Path) -> None:
    """The lease is 3 s and the ERP takes 4.5 s: the push renews its claim meanwhile, so
    a second push 3.5 s in finds nothing due and the ERP receives each statement once."""
    runtime.settings.schedule.lease_seconds = 3
    ledger = tmp_path / "ledger.txt"
    use_ledger_sink(runtime, ledger, seconds=4.5)
    ids = add_drafts(runtime, 3)
    approve(runtime, TENANT, ids, actor="test")
    first = threading.Thread(target=push, args=(runtime, TENANT))
    first.start()
    time.sleep(3.5)
    second = push(runtime, TENANT)
    first.join(timeout=30)

    assert second == []
    assert deliveries(ledger) == Counter({i: 1 for i in ids})
    assert outbox_states(runtime) == {"delivered": 3}


def test_an_entry_whose_statement_is_gone_is_marked_dead_and_the_rest_delivered(
    runtime, tmp_path: Path
) -> None:
    """The leftover of a Draft deleted while it was approved (issue 18): an outbox row
    with no statement. It is reported dead once; the tenant's other entries go out."""
    ledger = tmp_path / "ledger.txt"
    use_ledger_sink(runtime, ledger)
    ids = add_drafts(runtime, 3)
    approve(runtime, TENANT, ids, actor="test")
    with runtime.db.transaction() as session:
        session.add(m.OutboxEntry(
            tenant_id=TENANT, statement_id="gone-0001", sink="ledger",
            idempotency_key=f"{TENANT}:gone-0001:r1",
        ))  # fmt: skip

    outcomes = {o.statement_id: o for o in push(runtime, TENANT)}

    assert {i: o.state for i, o in outcomes.items()} == {
        **{i: "delivered" for i in ids},
        "gone-0001": "dead",
    }
    assert "no longer in the database" in outcomes["gone-0001"].message
    assert deliveries(ledger) == Counter({i: 1 for i in ids})
    assert push(runtime, TENANT) == []  # dead is not retried on its own: a person looks
