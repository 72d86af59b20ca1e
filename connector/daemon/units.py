"""The units of work the daemon claims, and what each one does.

A unit is one lease row, ``unit/<tenant>/<n>-<kind>[/<provider>]``; the number orders a
tenant's units within a pass (billing before the outbox before payments), so one
``--once`` pass takes a new statement from the provider's data all the way to the ERP.

* ``1-billing/<provider>``: refresh the provider's data, detect period close, build
  Drafts for closed periods, approve them where the tenant's policy says so.
* ``2-outbox``: push due ERP deliveries, then email customers about new Open
  statements (an email failure never fails the push).
* ``3-payments``: ask the ERP which statements are paid (Closed), then mark unpaid
  ones Past Due after their due date.

The outbox and payments units also send the tenant's due webhook events, the last of a
pass included (``connector.pipeline.publish.webhooks``).

Each unit logs its start, its progress (a line every few seconds while it ingests,
builds, approves or pushes: :class:`connector.progress.LogProgress`) and its end, with
what it did (rows, charges, statements) and how long it took; a failed unit is logged
by the loop.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from connector.config.tenant import DaemonPolicy
from connector.contracts import BillingPeriod
from connector.daemon.clock import Clock
from connector.daemon.logs import log_context
from connector.daemon.metrics import Metrics
from connector.daemon.options import DaemonOptions
from connector.pipeline.build import purchases
from connector.pipeline.build.build import current_batch_ids, generate
from connector.pipeline.close.close import detect_close
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.publish.notify import Mailer, notify_open_statements
from connector.pipeline.publish.publish import push
from connector.pipeline.publish.webhooks import deliver
from connector.pipeline.review.approve import approve
from connector.pipeline.sync.sync import mark_past_due, sync_payments
from connector.progress import LOG_EVERY, LogProgress
from connector.runtime.runtime import Runtime
from connector.storage import models as m
from connector.storage.models import utcnow

log = logging.getLogger(__name__)

PREFIX = "unit/"
BILLING, OUTBOX, PAYMENTS = "1-billing", "2-outbox", "3-payments"
APPROVER = "daemon:auto-approve"


class HandBack(Exception):
    """Shutdown asked for: stop between steps and give the unit back to the others."""


@dataclass(frozen=True, slots=True)
class Unit:
    tenant: str
    kind: str
    provider: str | None = None

    @property
    def name(self) -> str:
        tail = f"/{self.provider}" if self.provider else ""
        return f"{PREFIX}{self.tenant}/{self.kind}{tail}"

    @classmethod
    def parse(cls, name: str) -> Unit:
        parts = name.removeprefix(PREFIX).split("/", 2)
        return cls(parts[0], parts[1], parts[2] if len(parts) > 2 else None)


def units_of(runtime: Runtime) -> list[Unit]:
    """Every unit the loaded tenants need."""
    found = []
    for tenant, config in runtime.tenants.items():
        found.extend(Unit(tenant, BILLING, provider) for provider in config.providers)
        found += [Unit(tenant, OUTBOX), Unit(tenant, PAYMENTS)]
    return found


@dataclass(slots=True)
class WorkContext:
    """What a unit needs from the daemon around it."""

    runtime: Runtime
    clock: Clock
    options: DaemonOptions
    metrics: Metrics
    policy: Callable[[str], DaemonPolicy]
    mailer: Callable[[], Mailer | None]
    checkpoint: Callable[[], None]  # raises HandBack when shutting down
    poke: Callable[[str], None]  # make a unit due now

    def interval(self, unit: Unit) -> float:
        """Seconds until a unit that just succeeded is due again."""
        return {
            BILLING: self.options.refresh_seconds,
            OUTBOX: self.options.outbox_seconds,
            PAYMENTS: self.options.sync_seconds,
        }[unit.kind]


def run_unit(ctx: WorkContext, unit: Unit) -> None:
    """Do ``unit``'s work; exceptions propagate (the caller backs the unit off).

    Logs the start and the end with the unit's counts and duration (also as the
    record's ``counts`` and ``duration_seconds`` attributes).
    """
    if unit.tenant not in ctx.runtime.tenants:
        return  # its tenant file was removed or broke since the unit was enrolled
    with log_context(tenant=unit.tenant, provider=unit.provider, unit=unit.name):
        started = time.monotonic()
        log.info("%s started", unit.name)
        if unit.kind == BILLING:
            counts = _billing(ctx, unit.tenant, unit.provider or "")
        elif unit.kind == OUTBOX:
            counts = _outbox(ctx, unit.tenant)
        elif unit.kind == PAYMENTS:
            counts = _payments(ctx, unit.tenant)
        else:
            raise ValueError(f"unknown unit kind in {unit.name!r}")
        seconds = time.monotonic() - started
        done = ", ".join(f"{value:,} {name}" for name, value in counts.items()) or "nothing"
        log.info("%s done in %.1f s: %s", unit.name, seconds, done,
                 extra={"counts": counts, "duration_seconds": round(seconds, 3)})  # fmt: skip


def _progress() -> LogProgress:
    """Progress lines of the unit's long steps, on this module's logger (so they carry
    the unit's ids), a line at most every few seconds."""
    return LogProgress(log, LOG_EVERY)


def _periods(runtime: Runtime, tenant: str, provider: str) -> list[BillingPeriod]:
    with runtime.db.transaction() as session:
        rows = session.execute(
            select(m.ChargeBatch.period_start, m.ChargeBatch.period_end)
            .where(
                m.ChargeBatch.tenant_id == tenant,
                m.ChargeBatch.provider == provider,
                m.ChargeBatch.superseded_at.is_(None),
            )
            .distinct()
            .order_by(m.ChargeBatch.period_start)
        )
        return [BillingPeriod(start, end) for start, end in rows]


def _needs_build(
    runtime: Runtime, tenant: str, provider: str, period: BillingPeriod, kind: str
) -> bool:
    """Nothing built from the current data yet: no statement, or a Draft of older data.

    Approved statements are never rebuilt (a later re-pull is drift, for reconcile).
    """
    with runtime.db.transaction() as session:
        current = sorted(current_batch_ids(session, tenant, provider, period))
        rows = session.execute(
            select(m.Statement.status, m.Statement.batch_ids).where(
                m.Statement.tenant_id == tenant,
                m.Statement.provider == provider,
                m.Statement.period_start == period.start,
                m.Statement.kind == kind,
            )
        ).all()
    if kind == purchases.PURCHASE:
        return bool(current) and not any(sorted(b or []) == current for _, b in rows)
    if not rows:
        return bool(current)
    return any(status == "Draft" and sorted(b or []) != current for status, b in rows)


def _auto_approve(ctx: WorkContext, tenant: str, provider: str, period: BillingPeriod) -> list[str]:
    policy = ctx.policy(tenant)
    if not policy.auto_approve:
        return []
    with ctx.runtime.db.transaction() as session:
        drafts = session.execute(
            select(m.Statement.id, m.Statement.total)
            .where(
                m.Statement.tenant_id == tenant,
                m.Statement.provider == provider,
                m.Statement.period_start == period.start,
                m.Statement.status == "Draft",
            )
            # Numbers follow the customers' order, as `statements approve --all` gives them.
            .order_by(m.Statement.customer_id, m.Statement.kind, m.Statement.part)
        ).all()
    chosen = [sid for sid, total in drafts if policy.approves(total)]
    if len(chosen) < len(drafts):
        log.info("%d Draft(s) above the auto-approve limit wait for review",
                 len(drafts) - len(chosen))  # fmt: skip
    if not chosen:
        return []
    with _progress() as progress:
        approved = approve(ctx.runtime, tenant, chosen, actor=APPROVER, progress=progress)
    log.info("approved %s", ", ".join(s.number for s in approved), extra={"period": period.key})
    return [s.id for s in approved]


def _billing(ctx: WorkContext, tenant: str, provider: str) -> dict[str, int]:
    runtime, today = ctx.runtime, ctx.clock.today()
    with _progress() as progress:
        ingested = ingest(runtime, tenant, provider, progress=progress, today=today)
    changed = [r for r in ingested if r.status != "unchanged"]
    counts = {
        "periods read": len(ingested),
        "periods changed": len(changed),
        "charges stored": sum(r.rows for r in changed),
        "statements built": 0,
        "approved": 0,
    }
    ctx.metrics.refresh.refreshed(tenant, provider)
    ctx.checkpoint()
    config = runtime.tenant(tenant)
    approved: list[str] = []
    for period in _periods(runtime, tenant, provider):
        with log_context(period=period.key):
            reason = detect_close(runtime, tenant, provider, period, today)
            if reason is None:
                immediate = purchases.billed_immediately(config, provider)
                if immediate and _needs_build(
                    runtime, tenant, provider, period, purchases.PURCHASE
                ):
                    with _progress() as progress:
                        report = generate(runtime, tenant, provider, period, today=today,
                                          kind=purchases.PURCHASE, progress=progress)  # fmt: skip
                    ctx.metrics.statements_built.labels(tenant, provider).inc(len(report.generated))
                    counts["statements built"] += len(report.generated)
                    approved += _auto_approve(ctx, tenant, provider, period)
                continue
            if _needs_build(runtime, tenant, provider, period, purchases.USAGE):
                with _progress() as progress:
                    report = generate(runtime, tenant, provider, period, today=today,
                                      progress=progress)  # fmt: skip
                built = len(report.generated)
                counts["statements built"] += built
                ctx.metrics.statements_built.labels(tenant, provider).inc(built)
                log.info("period closed (%s): %d Draft(s) built", reason, built)
                for (account, currency), cost in sorted(report.unassigned.items()):
                    log.warning(
                        "unassigned spend: account %s billed %s %s", account, cost, currency
                    )
                for customer, reason in report.failed:
                    log.error("customer %s not built: %s", customer, reason)
            ctx.checkpoint()
            approved += _auto_approve(ctx, tenant, provider, period)
    counts["approved"] = len(approved)
    if approved:
        ctx.poke(Unit(tenant, OUTBOX).name)
    return counts


def _outbox(ctx: WorkContext, tenant: str) -> dict[str, int]:
    runtime = ctx.runtime
    sink = runtime.tenant(tenant).erp.sink
    with _progress() as progress:
        outcomes = push(runtime, tenant, progress)
    for outcome in outcomes:
        ctx.metrics.pushes.labels(tenant, sink, outcome.state).inc()
        with log_context(statement=outcome.statement_id):
            if outcome.state == "delivered":
                log.info("pushed %s to %s", outcome.number, sink)
            else:
                log.warning("push of %s to %s: %s %s", outcome.number, sink, outcome.state,
                            outcome.message)  # fmt: skip
    ctx.checkpoint()
    delivered = sum(1 for o in outcomes if o.state == "delivered")
    return {
        "statements pushed": delivered,
        "not delivered": len(outcomes) - delivered,
        "emailed": _notify(ctx, tenant),
        **_webhooks(ctx, tenant),
    }


def _webhooks(ctx: WorkContext, tenant: str) -> dict[str, int]:
    """Send due webhook events (failures wait for their retry); how many arrived, for a
    tenant with endpoints."""
    sent = deliver(ctx.runtime, tenant)
    for result in sent:
        if result.state != "waiting":  # settled: delivered, failed or dead
            ctx.metrics.webhook_deliveries.labels(tenant, result.endpoint, result.state).inc()
        if result.state != "delivered":
            log.warning("webhook %s %s to %s: %s %s", result.event_type, result.event_id,
                        result.endpoint, result.state, result.message)  # fmt: skip
    if not sent and not ctx.runtime.tenant(tenant).webhooks:
        return {}
    return {"webhooks sent": sum(1 for result in sent if result.state == "delivered")}


def _notify(ctx: WorkContext, tenant: str) -> int:
    """Email new Open statements; failures are logged and retried, never raised.
    Returns how many were sent."""
    policy = ctx.policy(tenant)
    mailer = ctx.mailer() if policy.notify else None
    if mailer is None:
        return 0
    # approved_at is written by approval with the wall clock, so compare with that one.
    since = utcnow() - dt.timedelta(days=ctx.options.notify_max_age_days)
    try:
        report = notify_open_statements(
            ctx.runtime, tenant, mailer, since=since,
            sender=policy.email_from or ctx.options.smtp.from_address,
            template_dir=policy.email_templates, portal_url=policy.portal_url,
        )  # fmt: skip
    except Exception as exc:
        ctx.metrics.notifications.labels(tenant, "failed").inc()
        log.warning("statement emails not sent, retried next run: %s: %s",
                    type(exc).__name__, exc)  # fmt: skip
        return 0
    for result, labels in (("sent", report.sent), ("skipped", report.skipped),
                           ("failed", report.failed)):  # fmt: skip
        if labels:
            ctx.metrics.notifications.labels(tenant, result).inc(len(labels))
    if report.sent:
        log.info("emailed %s", ", ".join(report.sent))
    return len(report.sent)


def _payments(ctx: WorkContext, tenant: str) -> dict[str, int]:
    paid = sync_payments(ctx.runtime, tenant)
    ctx.checkpoint()
    overdue = mark_past_due(ctx.runtime, tenant, ctx.clock.today())
    # Sent now, not at the next outbox unit: this is the pass's last unit.
    return {"statements paid": len(paid.closed), "past due": len(overdue), **_webhooks(ctx, tenant)}
