"""What keeps ``/v1/statements`` fast under load (issue 24): a list reads no lines and
is served from an index in its order; single approvals sync an unchanged tenant file
once, not on every request, and a changed file before the next approval."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import select

import connector.pipeline.review.approve as approve_module
import connector.runtime.tenants as tenants
from connector.storage import models as m
from tests.api.conftest import auth, statement_ids


def test_the_list_reads_no_statement_lines(client, keys, sql_sent) -> None:
    answer = client.get("/v1/statements", headers=auth(keys.read))
    assert answer.status_code == 200
    assert answer.json()["statements"]
    assert any("FROM statements" in sql for sql in sql_sent)
    assert not [sql for sql in sql_sent if "statement_lines" in sql]


def test_the_list_reads_postgresql_on_the_event_loop_and_sqlite_in_a_thread(
    client, keys, runtime, monkeypatch
) -> None:
    """No worker thread on PostgreSQL: handing each list to one and back cost as much as
    the read. SQLite has no asyncio engine here, so its reads stay in a thread."""
    import connector.api.statements as statements_module

    handed: list[object] = []
    real = statements_module.run_in_threadpool

    async def spy(function, *args):  # type: ignore[no-untyped-def]
        handed.append(function)
        return await real(function, *args)

    monkeypatch.setattr(statements_module, "run_in_threadpool", spy)
    page = client.get("/v1/statements?limit=2", headers=auth(keys.read))
    assert page.status_code == 200 and len(page.json()["statements"]) == 2
    if runtime.db.dialect == "postgresql":
        assert handed == []
        assert runtime.db.async_reads._pool.get_stats()["requests_num"] >= 1
    else:
        assert runtime.db.async_reads is None and len(handed) == 1


def test_statements_are_indexed_in_the_lists_order(runtime) -> None:
    indexes = {i["name"]: i for i in sa.inspect(runtime.db.engine).get_indexes("statements")}
    listing = indexes["ix_statements_listing"]
    assert listing["column_names"] == [
        "tenant_id",
        "period_start",
        "provider",
        "customer_id",
        "kind",
        "part",
    ]
    # Newest period first, as the list: reflection reports no sorting on SQLite, so the
    # index's own definition is read.
    where = (
        "SELECT sql FROM sqlite_master WHERE name = 'ix_statements_listing'"
        if runtime.db.engine.dialect.name == "sqlite"
        else "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_statements_listing' "
        "AND schemaname = current_schema()"
    )
    with runtime.db.engine.connect() as conn:
        definition = conn.scalar(sa.text(where))
    assert "period_start DESC" in definition


def _count_syncs(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = tenants.sync_tenant

    def spy(session, config):  # type: ignore[no-untyped-def]
        calls.append(config.tenant)
        return real(session, config)

    # Wherever approval may call it from: the tenants module, or a name imported from it.
    monkeypatch.setattr(tenants, "sync_tenant", spy)
    monkeypatch.setattr(approve_module, "sync_tenant", spy, raising=False)
    return calls


def test_single_approvals_sync_an_unchanged_tenant_file_once(
    client, keys, runtime, monkeypatch
) -> None:
    syncs = _count_syncs(monkeypatch)
    ids = statement_ids(runtime, "acme")
    for customer in ("1001", "1002", "1003"):
        answer = client.post(f"/v1/statements/{ids[customer]}/approve", headers=auth(keys.operator))
        assert answer.status_code == 200, answer.text
    assert syncs == ["acme"]


def test_a_changed_tenant_file_is_synced_before_the_next_approval(
    client, keys, runtime, monkeypatch
) -> None:
    ids = statement_ids(runtime, "acme")
    first = client.post(f"/v1/statements/{ids['1001']}/approve", headers=auth(keys.operator))
    assert first.json()["number"] == "ACME-01001"
    # The daemon's reload: a new TenantConfig, a higher counter and a renamed customer.
    config = runtime.tenants["acme"]
    renamed = [
        c.model_copy(update={"name": "Blue Harbor Freight"}) if c.id == "1001" else c
        for c in config.customers
    ]
    options = config.invoice_options.model_copy(update={"next_invoice_number": 5000})
    runtime.tenants["acme"] = config.model_copy(
        update={"invoice_options": options, "customers": renamed}
    )
    syncs = _count_syncs(monkeypatch)
    second = client.post(f"/v1/statements/{ids['1002']}/approve", headers=auth(keys.operator))
    assert second.json()["number"] == "ACME-05000"
    assert syncs == ["acme"]
    with runtime.db.transaction() as session:
        name = session.scalar(
            select(m.Customer.name).where(m.Customer.tenant_id == "acme", m.Customer.id == "1001")
        )
    assert name == "Blue Harbor Freight"


def test_a_list_reads_again_when_the_server_dropped_its_pooled_connection(
    client, keys, runtime, caplog
) -> None:
    """The reads on the event loop do not ping before each use (a second round trip per
    list): a connection the server closed meanwhile (a restart) costs one read again."""
    if runtime.db.dialect != "postgresql":
        assert runtime.db.async_reads is None  # SQLite reads in a thread, nothing pooled
        return
    first = client.get("/v1/statements?limit=2", headers=auth(keys.read))
    assert first.status_code == 200
    pool = runtime.db.async_reads._pool  # of this test's reads only (tests run side by side)
    pids = [conn.info.backend_pid for conn in list(pool._pool)]
    assert pids
    with runtime.db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT")
        for pid in pids:
            assert conn.scalar(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    again = client.get("/v1/statements?limit=2", headers=auth(keys.read))
    assert again.status_code == 200
    assert again.json() == first.json()
    assert "a pooled connection was gone" in caplog.text
