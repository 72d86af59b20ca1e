"""Several replicas share one database: each unit once, each statement built, numbered,
pushed and announced once; a dead replica's leases are taken over after they expire."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from connector.config.settings import DaemonSettings
from connector.config.tenant import DaemonPolicy
from connector.daemon.clock import FrozenClock
from connector.daemon.leases import LeaseBook
from connector.daemon.loop import Daemon
from connector.daemon.options import DaemonOptions
from connector.storage import models as m
from tests.daemon.daemons import CLOSED
from tests.daemon.fakes import (
    RecordingMailer,
    erp_simulator,
    plugin_host,
    write_charges,
    write_tenant,
)

TENANTS, CUSTOMERS = 8, 5


def _tenants(folder: Path, count: int, customers: int) -> list[str]:
    names = []
    for t in range(count):
        tenant_dir = folder / f"t{t}"
        tenant_dir.mkdir()
        rows = [
            (f"C{c}", f"Customer {t}-{c}", f"ap{c}@t{t}.example", f"{t:04d}{c:08d}")
            for c in range(customers)
        ]
        # Tenant files live in one folder; each reads its own charges file.
        write_tenant(folder, f"t{t}", rows, data=f"t{t}/charges.json")
        write_charges(tenant_dir, {a: f"{10 + c}.00" for c, (_, _, _, a) in enumerate(rows)})
        names.append(f"t{t}")
    return names


def _daemon(url: str, tenants: Path, tmp: Path, host, clock, mailer, names, replica: str):  # type: ignore[no-untyped-def]
    settings = DaemonSettings(database_url=url, tenants_dir=tenants, output_dir=tmp / "out")
    return Daemon(
        settings,
        DaemonOptions(metrics_port=None),
        host=host,
        clock=clock,
        policies={n: DaemonPolicy(auto_approve=True) for n in names},
        mailer=lambda: mailer,
        replica=replica,
    ).start()


def test_two_replicas_on_postgresql_do_every_statement_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    names = _tenants(tenants, TENANTS, CUSTOMERS)
    erp, mailer, clock = erp_simulator(), RecordingMailer(), FrozenClock(CLOSED)
    host = plugin_host(erp)
    a = _daemon(postgres_url, tenants, tmp_path, host, clock, mailer, names, "replica-a")
    b = _daemon(postgres_url, tenants, tmp_path, host, clock, mailer, names, "replica-b")
    reports, errors = {}, []
    barrier = threading.Barrier(2)

    def once(daemon: Daemon) -> None:
        try:
            barrier.wait()
            reports[daemon.replica] = daemon.run_once()
        except Exception as exc:  # pragma: no cover - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=once, args=(d,)) for d in (a, b)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert errors == []
        # An outbox run before the other replica approved its tenant's statements is
        # poked due again; further passes deliver them (each unit once per pass).
        for _ in range(5):
            if not (a.run_once().done + b.run_once().done):
                break
        done = reports["replica-a"].done + reports["replica-b"].done
        # Every unit ran; each billing unit once. An outbox may run twice: once before its
        # tenant's statements were approved (by the other replica), once when approval
        # made it due again.
        assert len(set(done)) == TENANTS * 3
        billing = [n for n in done if "/1-billing/" in n]
        assert len(billing) == len(set(billing)) == TENANTS
        assert reports["replica-a"].failed == reports["replica-b"].failed == []
        with a.runtime.db.transaction() as session:
            rows = session.execute(
                select(m.Statement.id, m.Statement.tenant_id, m.Statement.number,
                       m.Statement.status, m.Statement.revision)
            ).all()  # fmt: skip
        assert len(rows) == TENANTS * CUSTOMERS
        assert {r.status for r in rows} == {"Open"} and {r.revision for r in rows} == {1}
        for name in names:  # gapless per tenant: NW-0001 .. NW-0005
            numbers = sorted(r.number for r in rows if r.tenant_id == name)
            assert numbers == [f"NW-{i:04d}" for i in range(1, CUSTOMERS + 1)]
        assert erp.ledger.created == Counter({r.id: 1 for r in rows})
        mailed = Counter(msg["Message-ID"] for msg in mailer.messages)
        assert len(mailed) == TENANTS * CUSTOMERS and set(mailed.values()) == {1}
        # Another round by both changes nothing.
        assert a.run_once().done == [] and b.run_once().done == []
        assert sum(erp.ledger.created.values()) == TENANTS * CUSTOMERS
        assert len(mailer.messages) == TENANTS * CUSTOMERS
    finally:
        a.close()
        b.close()


def test_a_dead_replicas_unit_and_leadership_are_taken_over_after_the_lease(
    db_url: str, tmp_path: Path
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    names = _tenants(tenants, 1, 2)
    erp, mailer, clock = erp_simulator(), RecordingMailer(), FrozenClock(CLOSED)
    live = _daemon(db_url, tenants, tmp_path, plugin_host(erp), clock, mailer, names, "live")
    try:
        # A replica that died holding the clock and t0's billing unit, 300 s leases.
        dead = LeaseBook(live.runtime.db, "dead-replica", clock)
        live.leases.enrol(["unit/t0/1-billing/cloud"])
        assert dead.claim("leader", 300)
        assert dead.claim_due("unit/t0/1-billing", 300) == "unit/t0/1-billing/cloud"

        report = live.run_once()
        assert live.is_leader is False
        assert "unit/t0/1-billing/cloud" not in report.done
        assert report.done == ["unit/t0/2-outbox", "unit/t0/3-payments"]
        assert erp.ledger.created == Counter()

        clock.advance(seconds=301)  # the dead replica's leases run out
        report = live.run_once()
        assert live.is_leader is True
        assert report.done[0] == "unit/t0/1-billing/cloud"
        assert len(erp.ledger.created) == 2
        assert live.leases.holder_of("leader")[0] == "live"
    finally:
        live.close()
