"""Issue 18's fault matrix: a fault in one tenant's step never touches another tenant.

One daemon serves two tenants, ``faulty`` and ``steady``, each with two customers and
a closed October 2026 (the business-day rule, as in test_end_to_end). For every step
the daemon runs (ingest, close, build, approve, render, push, notify, payment sync) a
fault fitting the step is switched on for ``faulty`` alone, and two cycles run. Then:

(a) ``steady``'s month end is complete: two statements built, approved with gapless
    numbers, invoiced at the ERP once each (PDF attached), emailed once each, and the
    customer who paid (id ending in 1) Closed;
(b) ``faulty``'s failure is reported: its unit's failure counter and an ERROR log
    carrying its tenant id, or the outbox/notification counters for faults the daemon
    absorbs without failing the unit; the replica stays ready;
(c) nothing is half-written anywhere: every batch holds all its charges, every
    statement has lines and a closed period, numbered statements have an outbox row,
    every outbox row has its statement, numbers are gapless up to the tenant counter;
(d) with the fault removed (and, for an ERP refusal, the dead entries retried by a
    person), the next cycles complete ``faulty``'s month end exactly once.

``faulty`` sorts first, so its failure happens before ``steady``'s units in each pass.
Database errors run on PostgreSQL too when CONNECTOR_TEST_POSTGRES_URL is set. Two
SIGKILL cases run the real ``connector run --once`` in a process and kill it inside
the faulty tenant's step; there the steady tenant sorts first and is done before the
kill, and a restart must finish the faulty one without redoing the other's work.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

import connector.pipeline.build.store as build_store
import connector.pipeline.close.close as close_module
import connector.pipeline.ingest.ingest as ingest_module
import connector.pipeline.publish.publish as publish
import connector.pipeline.review.approve as approve_module
import connector.pipeline.review.lifecycle as lifecycle
from connector.config.settings import DaemonSettings
from connector.config.tenant import DaemonPolicy
from connector.daemon.clock import FrozenClock
from connector.daemon.logs import ContextFilter
from connector.daemon.loop import Daemon
from connector.daemon.options import DaemonOptions
from connector.pipeline.publish import outbox
from connector.storage import models as m
from tests.conftest import REPO
from tests.daemon.daemons import CLOSED, database_rows, settings_file
from tests.daemon.fakes import plugin_host, write_charges, write_tenant
from tests.daemon.fault_fakes import Faults, SwitchedMailer, switched_plugins

FAULTY, STEADY = "faulty", "steady"
SINK = "erp-matrix"
CUSTOMERS = {
    FAULTY: [("F1", "Fjord Freight", "ap@fjord.example", "100000000001", "100.00"),
             ("F2", "Fern Dental", "office@fern.example", "100000000002", "50.00")],
    STEADY: [("S1", "Summit Ridge", "ap@summit.example", "200000000001", "10.00"),
             ("S2", "Slate Labs", "billing@slate.example", "200000000002", "20.00")],
}  # fmt: skip
CYCLE = dt.timedelta(hours=2)  # past every interval, backoff and outbox retry delay

TALLY: Counter[str] = Counter()  # for the summary printed after the module


# ---------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    """One step × fault. ``fault`` is the switch :class:`Faults` knows it by."""

    step: str
    fault: str
    # What reports it: the unit kind whose failure counter moves, or a counter sample.
    failed_unit: str | None = None
    counter: tuple[str, dict[str, str]] | None = None
    log: str = ""  # in an ERROR/WARNING record carrying the faulty tenant's id
    # The faulty tenant's state while the fault is on (see _state).
    expect: Callable[[TenantState], None] = lambda s: None
    in_flight: bool = False  # outbox rows may stay in flight (the ERP took them, we died)
    postgres: bool = False

    @property
    def id(self) -> str:
        return f"{self.step}-{self.fault.removesuffix('/' + self.step)}"


def _nothing_ingested(s: TenantState) -> None:
    assert s.batches == [] and not s.closed and s.statements == []


def _not_closed(s: TenantState) -> None:
    assert len(s.batches) == 1 and not s.closed and s.statements == []


def _nothing_built(s: TenantState) -> None:
    assert s.closed and s.statements == [] and s.lines_without_statement == 0


def _drafts_only(s: TenantState) -> None:
    assert [(st.status, st.number) for st in s.statements] == [("Draft", None)] * 2
    assert s.outbox == [] and s.next_number == 1 and s.approvals == 0


def _outbox(state: str, created: int, error: str = "") -> Callable[[TenantState], None]:
    def check(s: TenantState) -> None:
        assert [st.status for st in s.statements] == ["Open", "Open"]
        assert [o.state for o in s.outbox] == [state, state]
        assert all(error in (o.last_error or "") for o in s.outbox)
        assert s.invoices == ({} if not created else {st.id: 1 for st in s.statements})

    return check


def _not_notified(s: TenantState) -> None:
    assert [o.state for o in s.outbox] == ["delivered"] * 2
    assert s.notified == 0 and s.emails == Counter()


def _unpaid(s: TenantState) -> None:
    assert [o.state for o in s.outbox] == ["delivered"] * 2
    assert [st.status for st in s.statements] == ["Open", "Open"]


def _pushes(result: str) -> tuple[str, dict[str, str]]:
    return "connector_pushes_total", {"tenant": FAULTY, "sink": SINK, "result": result}


CASES = [
    Case("ingest", "half-written-file", failed_unit="1-billing", log="SourceDataError",
         expect=_nothing_ingested),
    Case("ingest", "provider-unreachable", failed_unit="1-billing", log="ConnectionError",
         expect=_nothing_ingested),
    Case("ingest", "database-error/ingest", failed_unit="1-billing", log="OperationalError",
         expect=_nothing_ingested, postgres=True),
    Case("close", "database-error/close", failed_unit="1-billing", log="OperationalError",
         expect=_not_closed, postgres=True),
    Case("build", "database-error/build", failed_unit="1-billing", log="OperationalError",
         expect=_nothing_built, postgres=True),
    Case("approve", "database-error/approve", failed_unit="1-billing", log="OperationalError",
         expect=_drafts_only, postgres=True),
    # The invoice is created, then its PDF attachment fails: retried, never re-created.
    Case("render", "renderer-exception", counter=_pushes("failed"),
         log="sink erp-matrix failed for tenant faulty",
         expect=_outbox("failed", 1, "RuntimeError: font cache corrupt")),
    Case("push", "erp-refusal", counter=_pushes("dead"), log="ValidationException",
         expect=_outbox("dead", 0, "ValidationException")),
    Case("push", "erp-outage", counter=_pushes("failed"),
         log="sink erp-matrix failed for tenant faulty",
         expect=_outbox("failed", 0, "TimeoutError")),
    # The ERP accepted the invoices, recording that failed: the retry must not re-create.
    Case("push", "database-error/push", failed_unit="2-outbox", log="OperationalError",
         expect=_outbox("in_flight", 1), in_flight=True, postgres=True),
    Case("notify", "mail-server-down",
         counter=("connector_notifications_total", {"tenant": FAULTY, "result": "failed"}),
         log="statement emails not sent", expect=_not_notified),
    Case("payments", "payments-api", failed_unit="3-payments", log="ConnectionError",
         expect=_unpaid),
    Case("payments", "database-error/payments", failed_unit="3-payments",
         log="OperationalError", expect=_unpaid, postgres=True),
]  # fmt: skip


def _params() -> Iterator[object]:
    for case in CASES:
        yield pytest.param(case, "sqlite", id=f"{case.id}-sqlite")
        if case.postgres:
            yield pytest.param(case, "postgresql", id=f"{case.id}-postgresql")


# ---------------------------------------------------------------------------- database faults


def _operational(where: str) -> OperationalError:
    return OperationalError(where, {}, Exception("server closed the connection unexpectedly"))


def _install_database_faults(monkeypatch: pytest.MonkeyPatch, faults: Faults) -> None:
    """Each step's own writes, made and flushed in its transaction, then an error."""
    insert_charges = ingest_module.insert_charges

    def half_then_fail(session, batch_id, charges):  # type: ignore[no-untyped-def]
        charges = list(charges)
        insert_charges(session, batch_id, charges[:1])
        session.flush()
        tenant = session.get(m.ChargeBatch, batch_id).tenant_id
        if faults.hits("database-error/ingest", tenant):
            raise _operational("INSERT INTO charges")
        insert_charges(session, batch_id, charges[1:])

    record_close = close_module._record

    def close_then_fail(session, config, provider, period, reason):  # type: ignore[no-untyped-def]
        result = record_close(session, config, provider, period, reason)
        session.flush()
        if faults.hits("database-error/close", config.tenant):
            raise _operational("INSERT INTO period_closes")
        return result

    store = build_store.store

    def store_then_fail(session, tenant, statements):  # type: ignore[no-untyped-def]
        store(session, tenant, statements)
        session.flush()
        if statements and faults.hits("database-error/build", tenant):
            raise _operational("INSERT INTO statement_lines")

    record_approval = approve_module.record_many

    def approve_then_fail(session, tenant, actor, action, entries):  # type: ignore[no-untyped-def]
        record_approval(session, tenant, actor, action, entries)
        session.flush()  # the statements are numbered, their outbox rows written
        second = any(detail.get("number") == "NW-0002" for _subject, detail in entries)
        if second and faults.hits("database-error/approve", tenant):
            raise _operational("INSERT INTO audit_trail")

    numbers = publish._numbers

    def numbers_then_fail(session, claims):  # type: ignore[no-untyped-def]
        found = numbers(session, claims)
        tenant = session.get(m.Statement, claims[0].statement_id).tenant_id
        if faults.hits("database-error/push", tenant):
            raise _operational("UPDATE outbox")
        return found

    record_status = lifecycle.record

    def status_then_fail(session, tenant, actor, action, subject, detail):  # type: ignore[no-untyped-def]
        record_status(session, tenant, actor, action, subject, detail)
        session.flush()
        if faults.hits("database-error/payments", tenant):
            raise _operational("UPDATE statements")

    monkeypatch.setattr(ingest_module, "insert_charges", half_then_fail)
    monkeypatch.setattr(close_module, "_record", close_then_fail)
    monkeypatch.setattr(build_store, "store", store_then_fail)
    monkeypatch.setattr(approve_module, "record_many", approve_then_fail)
    monkeypatch.setattr(publish, "_numbers", numbers_then_fail)
    monkeypatch.setattr(lifecycle, "record", status_then_fail)


class WallClock:
    """The outbox's wall clock (retry delays, in-flight leases), moved with the daemon's."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)
        self._now = publish.utcnow

    def __call__(self) -> dt.datetime:
        return self._now() + self.offset


# ---------------------------------------------------------------------------- the state


@dataclass
class StatementRow:
    id: str
    customer: str
    status: str
    number: str | None
    total: Decimal
    lines: int
    revision: int


@dataclass
class OutboxRow:
    statement_id: str
    state: str
    last_error: str | None


@dataclass
class TenantState:
    batches: list[tuple[int, int, bool]]  # (row_count, charges stored, current)
    closed: bool
    statements: list[StatementRow]
    outbox: list[OutboxRow]
    next_number: int
    approvals: int
    notified: int
    lines_without_statement: int
    invoices: dict[str, int] = field(default_factory=dict)  # statement id -> at the ERP
    attached: dict[str, int] = field(default_factory=dict)  # statement id -> PDFs
    emails: Counter[str] = field(default_factory=Counter)  # recipient -> emails


def _state(daemon: Daemon, tenant: str, erp: type, mailer: SwitchedMailer) -> TenantState:
    with daemon.runtime.db.transaction() as session:
        batches = [
            (row_count, stored, superseded is None)
            for row_count, stored, superseded in session.execute(
                select(m.ChargeBatch.row_count,
                       select(func.count()).where(m.Charge.batch_id == m.ChargeBatch.id)
                       .scalar_subquery(), m.ChargeBatch.superseded_at)
                .where(m.ChargeBatch.tenant_id == tenant).order_by(m.ChargeBatch.id)
            )
        ]  # fmt: skip
        closed = session.scalar(
            select(func.count()).select_from(m.PeriodClose).where(m.PeriodClose.tenant_id == tenant)
        )
        lines = select(func.count()).where(m.StatementLine.statement_id == m.Statement.id)
        statements = [
            StatementRow(*row)
            for row in session.execute(
                select(m.Statement.id, m.Statement.customer_id, m.Statement.status,
                       m.Statement.number, m.Statement.total, lines.scalar_subquery(),
                       m.Statement.revision)
                .where(m.Statement.tenant_id == tenant).order_by(m.Statement.customer_id)
            )
        ]  # fmt: skip
        entries = [
            OutboxRow(*row)
            for row in session.execute(
                select(m.OutboxEntry.statement_id, m.OutboxEntry.state, m.OutboxEntry.last_error)
                .join(m.Statement, m.Statement.id == m.OutboxEntry.statement_id)
                .where(m.OutboxEntry.tenant_id == tenant)
                .order_by(m.Statement.customer_id)
            )
        ]
        next_number = session.get(m.Tenant, tenant).next_invoice_number
        audit = select(func.count()).where(m.AuditEntry.tenant_id == tenant)
        approvals = session.scalar(audit.where(m.AuditEntry.action == "statement.approve"))
        notified = session.scalar(audit.where(m.AuditEntry.action == "statement.notified"))
        orphans = session.scalar(
            select(func.count())
            .select_from(m.StatementLine)
            .outerjoin(m.Statement, m.Statement.id == m.StatementLine.statement_id)
            .where(m.Statement.id.is_(None))
        )
    ours = {s.id for s in statements}
    invoices = {d.statement_id: erp.ledger.created[d.statement_id]
                for d in erp.ledger.invoices.values() if d.tenant == tenant}  # fmt: skip
    addresses = {c[2] for c in CUSTOMERS[tenant]}
    emails = Counter(
        str(msg["To"]).rpartition("<")[2].rstrip(">")
        for msg in mailer.messages
        if str(msg["To"]).rpartition("<")[2].rstrip(">") in addresses
    )
    return TenantState(
        batches, bool(closed), statements, entries, next_number, approvals, notified, orphans,
        invoices, {i: n for i, n in erp.attached.items() if i in ours}, emails,
    )  # fmt: skip


def _assert_nothing_half_written(daemon: Daemon, in_flight_ok: bool = False) -> None:
    """(c) for every tenant, read straight from the tables."""
    with daemon.runtime.db.transaction() as session:
        partial = session.execute(
            select(m.ChargeBatch.id, m.ChargeBatch.row_count, func.count(m.Charge.id))
            .outerjoin(m.Charge, m.Charge.batch_id == m.ChargeBatch.id)
            .group_by(m.ChargeBatch.id, m.ChargeBatch.row_count)
        ).all()
        assert [b for b in partial if b[1] != b[2]] == [], "a batch without all its charges"
        lineless = session.scalars(
            select(m.Statement.id).where(
                ~select(m.StatementLine.id)
                .where(m.StatementLine.statement_id == m.Statement.id)
                .exists()
            )
        ).all()
        assert lineless == [], "a statement without lines"
        unclosed = session.scalars(
            select(m.Statement.id)
            .outerjoin(m.PeriodClose, (m.PeriodClose.tenant_id == m.Statement.tenant_id)
                       & (m.PeriodClose.provider == m.Statement.provider)
                       & (m.PeriodClose.period_start == m.Statement.period_start))
            .where(m.PeriodClose.tenant_id.is_(None))
        ).all()  # fmt: skip
        assert unclosed == [], "a statement of a period that is not closed"
        homeless = session.scalars(
            select(m.OutboxEntry.id)
            .outerjoin(m.Statement, (m.Statement.id == m.OutboxEntry.statement_id)
                       & (m.Statement.tenant_id == m.OutboxEntry.tenant_id))
            .where(m.Statement.id.is_(None))
        ).all()  # fmt: skip
        assert homeless == [], "an outbox row without its statement"
        statements = session.execute(
            select(m.Statement.id, m.Statement.tenant_id, m.Statement.status, m.Statement.number)
        ).all()
        queued = Counter(session.scalars(select(m.OutboxEntry.statement_id)))
        for sid, _, status, number in statements:
            if status == "Draft":
                assert number is None and queued[sid] == 0, f"Draft {sid} numbered or queued"
            else:
                assert number and queued[sid] == 1, f"{number} without exactly one outbox row"
        for tenant, counter in session.execute(select(m.Tenant.id, m.Tenant.next_invoice_number)):
            numbers = sorted(n for _, t, _, n in statements if t == tenant and n)
            assert numbers == [f"NW-{i:04d}" for i in range(1, counter)], f"{tenant}: a gap"
        stuck = session.scalar(
            select(func.count()).where(m.OutboxEntry.state == "in_flight")
        )  # fmt: skip
        assert in_flight_ok or stuck == 0, "an outbox row left in flight"


def _assert_month_end(state: TenantState, tenant: str) -> None:
    """(a)/(d): built, approved gapless, invoiced once with its PDF, emailed once, synced."""
    rows = CUSTOMERS[tenant]
    assert [(s.customer, s.number, s.total, s.revision) for s in state.statements] == [
        (c[0], f"NW-{i:04d}", Decimal(c[4]) * Decimal("1.1"), 1)
        for i, c in enumerate(rows, start=1)
    ]
    assert all(s.lines > 0 for s in state.statements)
    assert [s.status for s in state.statements] == ["Closed", "Open"]  # x1 paid
    assert state.next_number == len(rows) + 1 and state.approvals == len(rows)
    assert [o.state for o in state.outbox] == ["delivered"] * len(rows)
    assert state.invoices == {s.id: 1 for s in state.statements}, "one invoice per statement"
    assert set(state.attached) == {s.id for s in state.statements}
    assert state.emails == Counter({c[2]: 1 for c in rows}), "one email per statement"
    assert state.notified == len(rows)
    assert [b for b in state.batches if b[2]] == [(len(rows), len(rows), True)]
    assert state.closed


# ---------------------------------------------------------------------------- the test


@pytest.fixture(scope="module", autouse=True)
def _summary(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(
            f"\nfault matrix: faults injected {TALLY['injected']}, tenants unaffected "
            f"{TALLY['unaffected']}, resumed cleanly {TALLY['resumed']} "
            f"(of {TALLY['cases']} cases)"
        )


def _failures(daemon: Daemon, tenant: str, kind: str) -> float:
    sample = daemon.metrics.registry.get_sample_value(
        "connector_unit_failures_total", {"tenant": tenant, "kind": kind}
    )
    return sample or 0.0


@pytest.mark.parametrize(("case", "database"), list(_params()))
def test_a_fault_in_one_tenants_step_spares_the_other_and_resumes_exactly_once(
    case: Case,
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    request: pytest.FixtureRequest,
) -> None:
    TALLY["cases"] += 1
    url = (
        f"sqlite:///{tmp_path / 'c.db'}"
        if database == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    for tenant, rows in CUSTOMERS.items():
        write_tenant(tenants, tenant, [c[:4] for c in rows], data=f"{tenant}/charges.json",
                     extra_settings=f"      tenant: {tenant}\n", sink=SINK)  # fmt: skip
        (tenants / tenant).mkdir()
        write_charges(tenants / tenant, {c[3]: c[4] for c in rows})
    faults = Faults(FAULTY)
    provider, erp, renderer = switched_plugins(faults)
    host = plugin_host(erp, provider)
    host.renderers.add(renderer)
    _install_database_faults(monkeypatch, faults)
    wall = WallClock()
    monkeypatch.setattr(publish, "utcnow", wall)
    mailer, clock = SwitchedMailer(faults), FrozenClock(CLOSED)
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(ContextFilter())

    faults.active = case.fault
    good_file = tenants / FAULTY / "charges.json"
    if case.fault == "half-written-file":  # the provider's export was cut off mid-write
        good = good_file.read_text()
        good_file.write_text(good[: len(good) // 2])
    settings = DaemonSettings(database_url=url, tenants_dir=tenants, output_dir=tmp_path / "out")
    daemon = Daemon(
        settings,
        DaemonOptions(metrics_port=None),
        host=host,
        clock=clock,
        policies={
            t: DaemonPolicy(auto_approve=True, email_from=f"billing@{t}.example") for t in CUSTOMERS
        },  # fmt: skip
        mailer=lambda: mailer,
    ).start()

    def cycle() -> None:
        clock.advance(seconds=CYCLE.total_seconds())
        wall.offset += CYCLE
        daemon.run_once()

    try:
        # The fault is on for two cycles: the second after every backoff and retry delay.
        first = daemon.run_once()
        cycle()
        if case.fault != "half-written-file":  # that one is a file, not a switch
            assert faults.injected[case.fault] >= 1, "the fault was never hit"
        TALLY["injected"] += 1

        # (a) the steady tenant's month end is complete, exactly once.
        steady = _state(daemon, STEADY, erp, mailer)
        _assert_month_end(steady, STEADY)
        assert all(f"/{STEADY}/" not in name for name in first.failed)
        assert all(_failures(daemon, STEADY, k) == 0 for k in ("1-billing", "2-outbox",
                                                               "3-payments"))  # fmt: skip
        steady_problems = [r for r in caplog.records if r.levelno >= logging.WARNING
                           and getattr(r, "tenant", None) == STEADY]  # fmt: skip
        assert steady_problems == []
        TALLY["unaffected"] += 1

        # (b) the faulty tenant's failure is reported.
        if case.failed_unit is not None:
            assert _failures(daemon, FAULTY, case.failed_unit) == 2
            assert f"unit/{FAULTY}/{case.failed_unit}" in " ".join(first.failed)
        if case.counter is not None:
            assert (daemon.metrics.registry.get_sample_value(*case.counter) or 0) >= 1
        reported = [r for r in caplog.records if r.levelno >= logging.WARNING
                    and getattr(r, "tenant", None) == FAULTY]  # fmt: skip
        text_of = [r.getMessage() + (logging.Formatter().formatException(r.exc_info)
                                     if r.exc_info else "") for r in reported]  # fmt: skip
        assert any(case.log in t for t in text_of), text_of
        assert daemon.readiness()[0] is True  # one tenant's fault never makes it unready

        # (c) nothing is half-written, and the faulty tenant is where the fault left it.
        _assert_nothing_half_written(daemon, in_flight_ok=case.in_flight)
        case.expect(_state(daemon, FAULTY, erp, mailer))

        # (d) the fault is removed: the next cycles finish the faulty tenant once.
        faults.active = None
        if case.fault == "half-written-file":
            good_file.write_text(good)
        if case.fault == "erp-refusal":  # dead entries wait for a person (`connector push`)
            assert len(outbox.retry(daemon.runtime, FAULTY, [], actor="ops@reseller")) == 2
        for _ in range(3):
            cycle()
        _assert_nothing_half_written(daemon)
        _assert_month_end(_state(daemon, FAULTY, erp, mailer), FAULTY)
        assert _state(daemon, STEADY, erp, mailer) == steady  # untouched by the recovery
        TALLY["resumed"] += 1
    finally:
        daemon.close()


# ---------------------------------------------------------------------------- SIGKILL

WRAPPER = """\
import fcntl, os, sys, time
sys.path.insert(0, {repo!r})
from tests.daemon import fakes
from tests.daemon.daemons import MailboxFile
import connector.daemon.loop as loop
import connector.pipeline.ingest.ingest as ingest
from connector.config.tenant import DaemonPolicy
from connector.contracts import PaymentStatus, PushResult
from connector.storage import models as m

KILL_AT, FAULTY, MARKER = os.environ["KILL_AT"], os.environ["FAULTY"], os.environ["MARKER"]

def hang(where):
    with open(MARKER, "w") as f:
        f.write(where)
    time.sleep(120)  # until the test's SIGKILL

_insert = ingest.insert_charges
def insert_charges(session, batch_id, charges):
    charges = list(charges)
    _insert(session, batch_id, charges[:1])
    session.flush()
    if KILL_AT == "ingest" and session.get(m.ChargeBatch, batch_id).tenant_id == FAULTY:
        hang("ingest")  # half the batch written in the open transaction
    _insert(session, batch_id, charges[1:])
ingest.insert_charges = insert_charges

class FileErp(fakes.ErpSimulatorBase):
    # An ERP in a file: one invoice per idempotency key, whoever asks how often.
    def push(self, documents):
        with open(os.environ["ERP_LEDGER"], "a+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            f.seek(0)
            known = {{line.split()[0] for line in f if line.strip()}}
            f.writelines(f"{{d.idempotency_key}} {{d.statement_id}} {{d.tenant}}\\n"
                         for d in documents if d.idempotency_key not in known)
        if KILL_AT == "push" and self.context.tenant == FAULTY:
            hang("push")  # the ERP has the invoices; we die before recording that
        return [PushResult(d.statement_id, d.number, True) for d in documents]
    def payment_status(self, documents):
        return [PaymentStatus(d.statement_id, d.customer_id.endswith("1")) for d in documents]

host = fakes.plugin_host(FileErp)
loop.load_plugins = lambda: host
loop.Daemon._smtp_mailer = lambda self: MailboxFile()
loop.Daemon.policy = lambda self, tenant: DaemonPolicy(
    auto_approve=True, email_from=f"billing@{{tenant}}.example")
from connector.cli.daemon import run
run()
"""

LEASE_SECONDS = 3


@pytest.mark.parametrize("kill_at", ["ingest", "push"], ids=["ingest-sigkill", "push-sigkill"])
def test_a_worker_killed_inside_one_tenants_step_loses_nothing_and_repeats_nothing(
    tmp_path: Path, kill_at: str
) -> None:
    TALLY["cases"] += 1
    steady, faulty = "alpha", "bravo"  # the steady tenant's units run first
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    month = (dt.date.today().replace(day=1) - dt.timedelta(days=70)).strftime("%Y-%m")
    for tenant, rows in ((steady, CUSTOMERS[STEADY]), (faulty, CUSTOMERS[FAULTY])):
        write_tenant(tenants, tenant, [c[:4] for c in rows], data=f"{tenant}/charges.json",
                     extra_settings=f"      period: '{month}'\n")  # fmt: skip
        (tenants / tenant).mkdir()
        write_charges(tenants / tenant, {c[3]: c[4] for c in rows})
    db = tmp_path / "connector.db"
    url = f"sqlite:///{db}"
    lease = f"schedule: {{lease_seconds: {LEASE_SECONDS}}}\n"
    settings = settings_file(tmp_path, tenants, lease, db.name)
    wrapper = tmp_path / "daemon.py"
    wrapper.write_text(WRAPPER.format(repo=str(REPO)))
    ledger, mailbox, marker = tmp_path / "erp.txt", tmp_path / "mail.txt", tmp_path / "at"
    env = {**os.environ, "CONNECTOR_CONFIG": str(settings), "FAULTY": faulty,
           "MARKER": str(marker), "ERP_LEDGER": str(ledger), "MAILBOX": str(mailbox)}  # fmt: skip
    command = [sys.executable, str(wrapper), "--once", "--metrics-port", "0"]
    logs = tmp_path / "daemon.log"

    victim = subprocess.Popen(command, env={**env, "KILL_AT": kill_at},
                              stdout=subprocess.DEVNULL, stderr=logs.open("w"))  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert victim.poll() is None, logs.read_text()[-3000:]
            assert time.monotonic() < deadline, "the daemon never reached the step"
            time.sleep(0.05)
        victim.send_signal(signal.SIGKILL)
        assert victim.wait(10) == -signal.SIGKILL
    finally:
        if victim.poll() is None:
            victim.kill()
    TALLY["injected"] += 1
    killed_at = time.monotonic()

    def invoices() -> Counter[str]:
        lines = ledger.read_text().splitlines() if ledger.exists() else []
        return Counter(line.split()[1] for line in lines)

    def statements(tenant: str) -> list:
        return database_rows(url, "SELECT s.id, s.customer_id, s.number, s.status, o.state, "
                     "(SELECT count(*) FROM statement_lines l WHERE l.statement_id = s.id) "
                     f"FROM statements s LEFT JOIN outbox o ON o.statement_id = s.id "
                     f"WHERE s.tenant_id = '{tenant}' ORDER BY s.customer_id")  # fmt: skip

    # The steady tenant finished before the kill; the faulty one has nothing half-written.
    done = statements(steady)
    assert [(r[1], r[2], r[3], r[4]) for r in done] == [
        ("S1", "NW-0001", "Closed", "delivered"),
        ("S2", "NW-0002", "Open", "delivered"),
    ]
    TALLY["unaffected"] += 1
    batches = database_rows(
        url,
        "SELECT b.tenant_id, b.row_count, (SELECT count(*) FROM charges c "
        "WHERE c.batch_id = b.id) FROM charge_batches b ORDER BY b.tenant_id",
    )
    if kill_at == "ingest":
        assert batches == [(steady, 2, 2)]  # the killed transaction left no partial batch
        assert statements(faulty) == []
    else:
        assert batches == [(steady, 2, 2), (faulty, 2, 2)]
        interim = statements(faulty)
        assert [(r[2], r[3], r[4]) for r in interim] == [
            ("NW-0001", "Open", "in_flight"),
            ("NW-0002", "Open", "in_flight"),
        ]
        assert {r[0] for r in interim} <= set(invoices())  # the ERP took them

    # A restart once the dead process's leases ran out finishes the faulty tenant.
    time.sleep(max(0.0, LEASE_SECONDS + 0.5 - (time.monotonic() - killed_at)))
    restart = subprocess.run(command, env={**env, "KILL_AT": ""}, capture_output=True,
                             text=True, timeout=60)  # fmt: skip
    assert restart.returncode == 0, restart.stderr[-3000:]
    failed = [json.loads(line) for line in restart.stderr.splitlines() if line.startswith("{")]
    assert [r["message"] for r in failed if r.get("level") == "ERROR"] == []
    finished = statements(faulty)
    assert [(r[1], r[2], r[3], r[4], r[5] > 0) for r in finished] == [
        ("F1", "NW-0001", "Closed", "delivered", True),
        ("F2", "NW-0002", "Open", "delivered", True),
    ]
    assert statements(steady) == done  # nothing redone for the steady tenant
    every = {r[0] for r in done + finished}
    assert invoices() == Counter({sid: 1 for sid in every}), "one invoice per statement"
    mails = Counter(line.split()[0] for line in mailbox.read_text().splitlines())
    assert len(mails) == 4 and set(mails.values()) == {1}
    assert database_rows(url, "SELECT tenant_id, row_count, (SELECT count(*) FROM charges c "
                 "WHERE c.batch_id = b.id) FROM charge_batches b ORDER BY tenant_id") == [
        (steady, 2, 2), (faulty, 2, 2)]  # fmt: skip
    assert database_rows(url, "SELECT id, next_invoice_number FROM tenants ORDER BY id") == [
        (steady, 3), (faulty, 3)]  # fmt: skip
    TALLY["resumed"] += 1
