"""Sync: the ERP says paid -> Closed; due date passed and unpaid -> Past Due."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy import select

from connector.contracts import PaymentSource
from connector.domain import status_rules as rules
from connector.pipeline.build.documents import statement_document
from connector.pipeline.publish.erp import make_sink
from connector.pipeline.review.lifecycle import set_status
from connector.runtime.runtime import Runtime
from connector.storage import models as m

log = logging.getLogger(__name__)

UNPAID = ("Open", "Past Due")
ACTOR = "daemon:payment-sync"


@dataclass(slots=True)
class SyncReport:
    closed: list[str] = field(default_factory=list)  # statement numbers now Closed
    past_due: list[str] = field(default_factory=list)  # statement numbers now Past Due
    supported: bool = True  # False: the tenant's sink cannot report payments


def sync_payments(runtime: Runtime, tenant: str) -> SyncReport:
    """Ask the ERP which delivered, unpaid statements are paid and close those.

    Only statements the outbox delivered are asked about: the ERP knows no others. A
    sink that does not implement :class:`~connector.contracts.PaymentSource` is skipped.
    """
    report = SyncReport()
    sink = make_sink(runtime, tenant)
    if not isinstance(sink, PaymentSource):
        report.supported = False
        return report
    config = runtime.tenant(tenant)
    with runtime.db.transaction() as session:
        statements = list(
            session.scalars(
                select(m.Statement)
                .join(m.OutboxEntry, m.OutboxEntry.statement_id == m.Statement.id)
                .where(
                    m.Statement.tenant_id == tenant,
                    m.Statement.status.in_(UNPAID),
                    m.OutboxEntry.state == "delivered",
                )
                .order_by(m.Statement.number)
            )
        )
        documents = [statement_document(config, s) for s in statements]
    if not documents:
        return report
    numbers = {s.id: s.number for s in statements}
    paid = [p.statement_id for p in sink.payment_status(documents) if p.paid]
    paid = [sid for sid in paid if sid in numbers]  # ignore ids we did not ask about
    if paid:
        set_status(runtime, tenant, paid, "Closed", actor=ACTOR)
        report.closed = [numbers[sid] for sid in paid]
        log.info("payments synced for %s: %s now Closed", tenant, ", ".join(report.closed))
    return report


def mark_past_due(runtime: Runtime, tenant: str, today: dt.date) -> list[str]:
    """Open statements whose due date is before ``today`` become Past Due; their numbers.

    A statement due today is not late yet: it is late from the day after.
    """
    with runtime.db.transaction() as session:
        late = list(
            session.execute(
                select(m.Statement.id, m.Statement.number)
                .where(
                    m.Statement.tenant_id == tenant,
                    m.Statement.status == "Open",
                    # Only kinds the lifecycle lets become Past Due: nothing is due on a
                    # credit note (domain.status_rules).
                    m.Statement.kind.in_(rules.kinds_allowing(rules.OPEN, rules.PAST_DUE)),
                    m.Statement.due_date < today,
                )
                .order_by(m.Statement.number)
            )
        )
    if late:
        set_status(runtime, tenant, [sid for sid, _ in late], rules.PAST_DUE, actor=ACTOR)
        log.info("%s: %s now Past Due", tenant, ", ".join(n for _, n in late))
    return [number for _, number in late]
