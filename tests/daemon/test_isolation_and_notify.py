"""A failing tenant backs off alone; broken files are skipped; emails retry on their own."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from connector.daemon.clock import FrozenClock
from connector.daemon.loop import Daemon
from connector.daemon.options import DaemonOptions
from connector.storage import models as m
from tests.daemon.daemons import CLOSED, approving_daemon
from tests.daemon.fakes import (
    RecordingMailer,
    erp_simulator,
    plugin_host,
    write_charges,
    write_tenant,
)

BILLING = "unit/{}/1-billing/cloud"


def _daemon(tmp_path: Path, tenants: Path, clock, mailer, erp=None, **options) -> Daemon:  # type: ignore[no-untyped-def]
    return approving_daemon(
        tmp_path,
        tenants,
        ("northwind", "fixed", "leaky"),
        DaemonOptions(metrics_port=None, **options),
        host=plugin_host(erp or erp_simulator()),
        clock=clock,
        mailer=lambda: mailer,
    ).start()


def test_a_failing_tenant_backs_off_exponentially_and_the_others_carry_on(
    tmp_path: Path, monkeypatch
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    write_tenant(tenants, "northwind", [("C1", "Blue", "ap@blue.example", "111111111111")])
    write_tenant(
        tenants, "leaky", [("L1", "Leaky", "ap@leaky.example", "222222222222")],
        extra_settings="      token: {secret_env: LEAKY_TOKEN}\n      accepts: right\n",
    )  # fmt: skip
    write_charges(tenants, {"111111111111": "10.00", "222222222222": "20.00"})
    monkeypatch.setenv("LEAKY_TOKEN", "wrong")
    (tenants / "fixed.yaml").write_text("tenant: fixed\nprofile: [not, a, mapping\n")
    clock, mailer = FrozenClock(CLOSED), RecordingMailer()
    daemon = _daemon(tmp_path, tenants, clock, mailer, backoff_base_seconds=60,
                     backoff_max_seconds=200)  # fmt: skip
    try:
        assert sorted(daemon.runtime.tenants) == ["leaky", "northwind"]  # broken file skipped
        report = daemon.run_once()
        assert report.failed == [BILLING.format("leaky")]
        assert BILLING.format("northwind") in report.done
        waits = []
        for _ in range(3):  # 60 s, then 120 s, then capped at 200 s
            holder, due = daemon.leases.holder_of(BILLING.format("leaky"))
            assert holder == "backoff"
            waits.append((due - clock.now()).total_seconds())
            assert daemon.run_once().failed == []  # not due yet: left alone
            clock.set(due)
            assert daemon.run_once().failed == [BILLING.format("leaky")]
        holder, due = daemon.leases.holder_of(BILLING.format("leaky"))
        waits.append((due - clock.now()).total_seconds())
        assert waits == [60, 120, 200, 200]

        # Credentials fixed, file fixed: both tenants are served without a restart.
        monkeypatch.setenv("LEAKY_TOKEN", "right")
        write_tenant(tenants, "fixed", [("F1", "Fixed", "ap@fixed.example", "333333333333")],
                     data="fixed.json")  # fmt: skip
        (tenants / "fixed.json").write_text('{"charges": {"333333333333": "5.00"}}')
        daemon.reload_tenants()
        clock.set(due)
        report = daemon.run_once()
        assert report.failed == []
        assert {BILLING.format("leaky"), BILLING.format("fixed")} <= set(report.done)
        with daemon.runtime.db.transaction() as session:
            built = session.scalars(select(m.Statement.tenant_id).order_by(m.Statement.tenant_id))
            assert list(built) == ["fixed", "leaky", "northwind"]
    finally:
        daemon.close()


class FlakyMailer(RecordingMailer):
    """Refuses connections until ``up`` is set, like an SMTP relay being restarted."""

    up = False

    def connect(self):  # type: ignore[no-untyped-def]
        if not self.up:
            raise ConnectionRefusedError(111, "Connection refused")
        return super().connect()


def test_an_email_failure_never_blocks_the_push_and_is_retried_once_then_recorded(
    tmp_path: Path,
) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    write_tenant(tenants, "northwind", [("C1", "Blue", "ap@blue.example", "111111111111"),
                                        ("C2", "No Mail", "", "222222222222")])  # fmt: skip
    write_charges(tenants, {"111111111111": "10.00", "222222222222": "20.00"})
    custom = tenants / "email" / "northwind"
    custom.mkdir(parents=True)
    (custom / "new_customer_invoice.subject.j2").write_text("Invoice {{ number }} is ready")
    erp, mailer, clock = erp_simulator(), FlakyMailer(), FrozenClock(CLOSED)
    daemon = _daemon(tmp_path, tenants, clock, mailer, erp=erp, outbox_seconds=30)
    try:
        report = daemon.run_once()
        assert report.failed == []
        assert len(erp.ledger.created) == 2  # pushed although the mail relay is down
        assert mailer.messages == []

        mailer.up = True
        clock.advance(seconds=30)  # the outbox unit is due again
        daemon.run_once()
        clock.advance(seconds=30)
        daemon.run_once()  # and once more: nothing is sent twice
        assert [(m_["To"], m_["Subject"]) for m_ in mailer.messages] == [
            ("Blue <ap@blue.example>", "Invoice NW-0001 is ready")
        ]
        body = mailer.messages[0].get_body(("plain",)).get_content()
        assert "Amount due:       11.00 USD" in body  # 10.00 + 10 % markup
        with daemon.runtime.db.transaction() as session:
            details = session.scalars(
                select(m.AuditEntry.detail).where(m.AuditEntry.action == "statement.notified")
            ).all()
        assert sorted(map(str, details)) == sorted(
            [str({"number": "NW-0001", "to": "ap@blue.example"}),
             str({"skipped": "customer has no email"})]
        )  # fmt: skip
    finally:
        daemon.close()
