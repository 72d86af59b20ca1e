"""A tenant file synced with thousands of new customers leaves PostgreSQL's planner
statistics for them: without, locking a build's customers by id was planned as a scan of
every customer of the tenant against each list of ids (0.4 s a chunk of 500 among 20,000;
see connector.storage.statistics)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from connector.runtime.tenants import sync_tenant
from connector.storage import statistics
from tests.pipeline.test_tenant_sync import stored


def _grow(runtime, count: int) -> None:  # type: ignore[no-untyped-def]
    config = runtime.tenant("acme")
    model = config.customer("1002")
    config.customers.extend(
        model.model_copy(
            update={"id": f"N{i:05d}", "name": f"New {i}", "accounts": {"aws": [f"9{i:011d}"]}}
        )
        for i in range(count)
    )


def _planner_rows(runtime, table: str) -> float | None:  # type: ignore[no-untyped-def]
    """What the planner believes ``table`` holds (None: never analysed); PostgreSQL only."""
    with runtime.db.transaction() as session:
        found = session.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
        ).scalar()
    return None if found is None or found < 0 else found


def test_a_bulk_sync_leaves_statistics_for_the_planner(runtime, db_url) -> None:  # type: ignore[no-untyped-def]
    count = statistics.MIN_ROWS + 200
    _grow(runtime, count)
    with runtime.db.transaction() as session:
        sync_tenant(session, runtime.tenant("acme"))
    customers, accounts = stored(runtime)
    assert len(customers) == count + 3 and len(accounts) == count + 4
    if runtime.db.dialect != "postgresql":
        return  # SQLite's planner needs none (the rows above are all it must show)
    assert _planner_rows(runtime, "customers") == count + 3
    assert _planner_rows(runtime, "provider_accounts") == count + 4


def test_a_small_sync_leaves_the_statistics_to_autovacuum(runtime, db_url) -> None:  # type: ignore[no-untyped-def]
    _grow(runtime, 10)
    with runtime.db.transaction() as session:
        sync_tenant(session, runtime.tenant("acme"))
    assert len(stored(runtime)[0]) == 13
    if runtime.db.dialect == "postgresql":
        assert _planner_rows(runtime, "customers") is None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite's need none
def test_a_build_and_its_approval_leave_statistics_for_what_reads_them_back(
    runtime, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """Rendering and pushing read a month's statements and lines back by id, 500 at a
    time, and claim the approved ones through the outbox: on a month of tens of thousands
    of statements, planned blind, that cost more per statement the larger the month."""
    from connector.pipeline.build.build import generate
    from connector.pipeline.ingest.ingest import ingest
    from connector.pipeline.review.approve import approve
    from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER

    monkeypatch.setattr(statistics, "MIN_ROWS", 2)  # the example tenant's month is small
    ingest(runtime, "acme", "aws")
    built = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    assert len(built.generated) >= 2
    assert _planner_rows(runtime, "statements") == len(built.generated)
    with runtime.db.transaction() as session:
        lines = session.execute(text("SELECT count(*) FROM statement_lines")).scalar_one()
    assert _planner_rows(runtime, "statement_lines") == lines
    assert _planner_rows(runtime, "outbox") is None
    approved = approve(runtime, "acme", None, actor="test")
    assert _planner_rows(runtime, "outbox") == len(approved)
