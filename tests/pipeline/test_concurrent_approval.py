"""Invoice numbers stay unique and gapless when several processes approve at once."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

from sqlalchemy import func, select

from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.review.approve import ApprovalError, approve
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


def _approve_each(settings_kwargs: dict, ids: list[str], seed: int) -> None:
    """One process: approve the drafts one by one in its own order; losers are refused."""
    import random

    from connector.config.settings import DaemonSettings
    from connector.runtime.runtime import open_runtime

    runtime = open_runtime(DaemonSettings(**settings_kwargs))
    random.Random(seed).shuffle(ids)
    for statement_id in ids:
        with contextlib.suppress(ApprovalError):  # the other process got there first
            approve(runtime, "acme", [statement_id], actor=f"process-{seed}")
    runtime.db.dispose()


def test_two_processes_approving_200_drafts_number_them_uniquely_without_gaps(
    postgres_url: str, tmp_path
) -> None:
    """200 drafts (customer 1002's statement for 200 months), two processes each
    approving all of them in a different random order: 200 numbers, 1001..1200."""
    import multiprocessing
    import shutil
    import uuid
    from decimal import Decimal

    from connector.config.settings import DaemonSettings
    from connector.runtime.runtime import open_runtime
    from connector.runtime.tenants import sync_tenant
    from tests.conftest import REPO

    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "config/tenants", tenants)
    settings = {"database_url": postgres_url, "tenants_dir": tenants,
                "output_dir": tmp_path / "out"}  # fmt: skip
    runtime = open_runtime(DaemonSettings(**settings))
    ids = [str(uuid.uuid4()) for _ in range(200)]
    with runtime.db.transaction() as session:
        sync_tenant(session, runtime.tenant("acme"))
    with runtime.db.transaction() as session:
        for month, statement_id in enumerate(ids):
            start = dt.date(2000 + month // 12, month % 12 + 1, 1)
            session.add(m.Statement(
                id=statement_id, tenant_id="acme", customer_id="1002", provider="aws",
                period_start=start, period_end=start, currency="USD", subtotal=Decimal(1),
                tax=Decimal(0), total=Decimal(1), issue_date=start, due_date=start,
            ))  # fmt: skip
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_approve_each, args=(settings, list(ids), seed))
               for seed in (1, 2)]  # fmt: skip
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
        assert worker.exitcode == 0
    with runtime.db.transaction() as session:
        numbers = sorted(session.scalars(select(m.Statement.number)))
        outbox = session.scalar(select(func.count()).select_from(m.OutboxEntry))
    assert numbers == [f"ACME-{n:05d}" for n in range(1001, 1201)]
    assert outbox == 200
    runtime.db.dispose()
