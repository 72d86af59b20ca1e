"""A month from the provider's first data to a paid and a Past Due statement, by the daemon.

One tenant, two customers, a 10 % markup on cost, no tax. October 2026's data arrives
twice: version 1 (C1 100.00, C2 50.00) on 20 October, version 2 (C1 120.00, C2 80.00) on
5 November. The period closes by the business-day rule: October's last day is Saturday
the 31st; 5 US business days later is Friday 6 November (Mon 2 .. Fri 6, no federal
holiday). Statements from version 2: C1 120.00 × 1.10 = 132.00, C2 80.00 × 1.10 = 88.00.
Issued 6 November on net 30 terms: due 6 December, so Past Due from 7 December.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from connector.config.settings import DaemonSettings
from connector.config.tenant import DaemonPolicy
from connector.daemon.clock import FrozenClock
from connector.daemon.loop import Daemon
from connector.daemon.options import DaemonOptions, SmtpOptions
from connector.storage import models as m
from tests.daemon.conftest import SMTP_PASSWORD, SMTP_USER
from tests.daemon.fakes import erp_simulator, plugin_host, write_charges, write_tenant

CUSTOMERS = [
    ("C1", "Blue Harbor Logistics", "ap@blueharbor.example", "111111111111"),
    ("C2", "Summit Ridge Dental", "office@summitridge.example", "222222222222"),
]


def _statements(daemon: Daemon) -> dict[str, m.Statement]:
    with daemon.runtime.db.transaction() as session:
        rows = session.scalars(select(m.Statement)).all()
        return {s.customer_id: s for s in rows}


def test_daemon_takes_a_month_from_data_to_paid_and_past_due(
    tmp_path: Path, smtp_server, monkeypatch
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    write_tenant(tenants, "northwind", CUSTOMERS)
    write_charges(tenants, {"111111111111": "100.00", "222222222222": "50.00"})
    monkeypatch.setenv("TEST_SMTP_USER", SMTP_USER)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", SMTP_PASSWORD)
    erp = erp_simulator()
    clock = FrozenClock(dt.datetime(2026, 10, 20, 10, 0, tzinfo=dt.UTC))
    options = DaemonOptions(
        metrics_port=None,
        smtp=SmtpOptions(
            host=smtp_server.host,
            port=smtp_server.port,
            security="starttls",
            username_env="TEST_SMTP_USER",
            password_env="TEST_SMTP_PASSWORD",
            from_address="billing@northwind.example",
            ca_file=smtp_server.ca_file,
            timeout_seconds=10,
        ),
    )
    settings = DaemonSettings(
        database_url=f"sqlite:///{tmp_path / 'connector.db'}",
        tenants_dir=tenants,
        output_dir=tmp_path / "out",
    )
    daemon = Daemon(
        settings,
        options,
        host=plugin_host(erp),
        clock=clock,
        policies={"northwind": DaemonPolicy(auto_approve=True)},
    ).start()
    try:
        # 20 October: version 1 arrives; the period is open, nothing is built.
        first = daemon.run_once()
        assert first.failed == []
        assert _statements(daemon) == {}

        # 5 November: version 2 replaces it; one business day short of the close.
        write_charges(tenants, {"111111111111": "120.00", "222222222222": "80.00"})
        clock.set(dt.datetime(2026, 11, 5, 10, 0, tzinfo=dt.UTC))
        assert daemon.run_once().failed == []
        with daemon.runtime.db.transaction() as session:
            batches = session.execute(
                select(m.ChargeBatch.billed_total, m.ChargeBatch.superseded_at)
            ).all()
            closes = session.scalar(select(func.count()).select_from(m.PeriodClose))
        assert sorted((str(t), s is None) for t, s in batches) == [
            ("150.00", False),
            ("200.00", True),
        ]
        assert closes == 0
        assert _statements(daemon) == {}

        # 6 November: closed by the business-day rule; built, approved, pushed, emailed.
        clock.set(dt.datetime(2026, 11, 6, 10, 0, tzinfo=dt.UTC))
        assert daemon.run_once().failed == []
        statements = _statements(daemon)
        assert {c: (s.number, s.status, s.total) for c, s in statements.items()} == {
            "C1": ("NW-0001", "Open", Decimal("132.00")),
            "C2": ("NW-0002", "Open", Decimal("88.00")),
        }
        assert statements["C1"].due_date == dt.date(2026, 12, 6)
        with daemon.runtime.db.transaction() as session:
            assert (
                session.get(m.PeriodClose, ("northwind", "cloud", dt.date(2026, 10, 1))).reason
                == "business-days"
            )
        assert dict(erp.ledger.created) == {s.id: 1 for s in statements.values()}
        mails = {msg["X-Rcpt-To"]: msg for msg in smtp_server.messages}
        assert sorted(mails) == ["ap@blueharbor.example", "office@summitridge.example"]
        c1 = mails["ap@blueharbor.example"]
        assert c1["X-Was-TLS"] == "yes" and smtp_server.logins == [SMTP_USER]
        assert (
            c1["Subject"] == "Northwind Cloud Services: billing statement NW-0001 for October 2026"
        )
        body = c1.get_body(("plain",)).get_content()
        assert "Amount due:       132.00 USD" in body
        assert "Due date:         2026-12-06" in body
        assert "Dear Blue Harbor Logistics," in body

        # The customer C1 pays; on 7 December C2's statement is a day late.
        erp.ledger.paid.add(statements["C1"].id)
        clock.set(dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC))
        assert daemon.run_once().failed == []
        after = _statements(daemon)
        assert {c: s.status for c, s in after.items()} == {"C1": "Closed", "C2": "Past Due"}
        # Nothing was pushed, built or emailed twice along the way.
        assert dict(erp.ledger.created) == {s.id: 1 for s in statements.values()}
        assert len(smtp_server.messages) == 2
        assert {s.revision for s in after.values()} == {1}
        with daemon.runtime.db.transaction() as session:
            notified = session.scalars(
                select(m.AuditEntry.subject).where(m.AuditEntry.action == "statement.notified")
            ).all()
        assert sorted(notified) == sorted(s.id for s in statements.values())
    finally:
        daemon.close()
