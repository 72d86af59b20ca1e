"""Approval: Draft -> Open, the next gapless invoice number, and an outbox row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from connector.contracts import StatementApproved
from connector.domain.numbering import format_invoice_number
from connector.pipeline.audit import record
from connector.pipeline.documents import CHUNK
from connector.pipeline.runtime import Runtime
from connector.pipeline.tenants import lock_tenant, sync_tenant
from connector.storage import models as m
from connector.storage.models import utcnow


class ApprovalError(Exception):
    pass


def idempotency_key(statement: m.Statement) -> str:
    """Stable per statement revision: the same push retried never creates twice."""
    return f"{statement.tenant_id}:{statement.id}:r{statement.revision}"


def find_statements(session: Session, tenant: str, ids: Sequence[str]) -> list[m.Statement]:
    """Statements of ``tenant`` by id or invoice number, in the order asked; unknown ones
    are an error. One query per chunk of ids, not one per id."""
    by_ref: dict[str, m.Statement] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        for statement in session.scalars(
            select(m.Statement).where(
                m.Statement.tenant_id == tenant,
                m.Statement.id.in_(chunk) | m.Statement.number.in_(chunk),
            )
        ):
            by_ref[statement.id] = statement
            if statement.number:
                by_ref[statement.number] = statement
    missing = [ident for ident in ids if ident not in by_ref]
    if missing:
        raise ApprovalError(f"tenant {tenant!r} has no statement {missing[0]!r}")
    return [by_ref[ident] for ident in ids]


def numbering_order(statement: m.Statement) -> tuple[dt.date, str, str, str, int]:
    """The order approval hands out numbers in: period, then customer, provider, kind, part.

    Invoice numbers are read as a timeline: a customer's October must never carry a
    higher number than its November because of how ids were listed or typed. Ties
    (same period and customer) go by provider, then kind ("purchase" before "usage":
    upfront fees are billed as they appear, before the month's statement), then part.
    """
    return (
        statement.period_start,
        statement.customer_id,
        statement.provider,
        statement.kind,
        statement.part,
    )


def take_number(row: m.Tenant, fmt: str) -> str:
    """The next invoice number of the locked tenant ``row``; the counter moves on by one."""
    number = format_invoice_number(fmt, row.next_invoice_number)
    row.next_invoice_number += 1
    return number


def _locked(query: Select) -> Select:
    # Row locks in id order (two approvers cannot deadlock), and the rows re-read as
    # they are once locked: the status checked is the status changed.
    return (
        query.order_by(m.Statement.id).with_for_update().execution_options(populate_existing=True)
    )


def _lock_statements(
    session: Session, tenant: str, named: dict[str, m.Statement]
) -> list[m.Statement]:
    """``named`` (by id) locked and re-read; one deleted meanwhile is an ApprovalError."""
    ids = sorted(named)
    locked = [
        statement
        for start in range(0, len(ids), CHUNK)
        for statement in session.scalars(
            _locked(select(m.Statement).where(m.Statement.id.in_(ids[start : start + CHUNK])))
        )
    ]
    held = {s.id for s in locked}
    gone = [s.number or s.id for s in named.values() if s.id not in held]
    if gone:
        raise ApprovalError(
            f"tenant {tenant!r} has no statement {gone[0]!r} any more (deleted meanwhile)"
        )
    return locked


def approve(
    runtime: Runtime,
    tenant: str,
    ids: Sequence[str] | None,
    actor: str,
    provider: str | None = None,
) -> list[m.Statement]:
    """Approve the given Drafts (all Drafts of the tenant, or of ``provider``, when ids is None).

    Each statement is locked and re-read before its status is checked: a Draft deleted
    or approved by someone else while this waited for the lock is refused, never
    numbered twice or numbered after its deletion.

    Numbers come from the tenant row, locked for the transaction, so approvals by
    several processes at once stay unique and gapless. They follow
    :func:`numbering_order` (period start, customer id, provider, kind, part), whatever
    order ``ids`` are given or stored in; the statements are returned in that order.
    """
    config = runtime.tenant(tenant)
    with runtime.db.transaction() as session:
        sync_tenant(session, config)
    with runtime.db.transaction() as session:
        # Lock the tenant row before reading anything else: a second approver waits
        # here, then sees the first one's numbers and statuses.
        row = lock_tenant(session, tenant)
        if ids is None:
            query = select(m.Statement).where(
                m.Statement.tenant_id == tenant, m.Statement.status == "Draft"
            )
            if provider:
                query = query.where(m.Statement.provider == provider)
            statements = list(session.scalars(_locked(query)))
        else:
            # The same statement named twice (by id and by number) is approved once.
            named = {s.id: s for s in find_statements(session, tenant, ids)}
            statements = _lock_statements(session, tenant, named)
        statements.sort(key=numbering_order)
        not_drafts = [s.number or s.id for s in statements if s.status != "Draft"]
        if not_drafts:
            raise ApprovalError(
                f"only Drafts can be approved; already approved: {', '.join(not_drafts)}"
            )
        fmt = config.invoice_options.invoice_number_format
        for statement in statements:
            statement.number = take_number(row, fmt)
            statement.status = "Open"
            statement.approved_at = utcnow()
            session.add(
                m.OutboxEntry(
                    tenant_id=tenant,
                    statement_id=statement.id,
                    sink=config.erp.sink,
                    idempotency_key=idempotency_key(statement),
                )
            )
            record(
                session,
                tenant,
                actor,
                "statement.approve",
                statement.id,
                {"number": statement.number},
            )
    for statement in statements:
        runtime.emit(
            StatementApproved(tenant=tenant, statement_id=statement.id, number=statement.number)
        )
    return statements
