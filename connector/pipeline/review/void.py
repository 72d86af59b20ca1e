"""Voiding: an Open (or Past Due) statement is corrected by a credit note, never edited.

``void`` marks the statement Void and, in the same transaction, issues a credit note:
a statement of kind ``credit-note`` with the original's lines and totals negated, the
next invoice number from the same gapless counter as approval (taken under the same
tenant row lock), Open at once and queued in the outbox for the ERP.

Credits the original consumed come back to the customer as a new grant. The credit
note negates every line, the credit line too, so it credits only what the customer
was actually billed; without the grant the credit spent on an invoice that no longer
counts would be lost. That is what a finance team expects from a void (Xero and
QuickBooks likewise unapply credits from a voided invoice), and it lets a corrected
statement use the credit again. The application row stays: the ledger never rewrites
history, it adds to it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.contracts import StatementApproved
from connector.domain import status_rules as rules
from connector.domain.money import tidy
from connector.domain.numbering import format_invoice_number
from connector.pipeline.credits import APPLICATION, add_grant
from connector.pipeline.review.approve import find_statements, queue_push, reserve_numbers
from connector.pipeline.review.lifecycle import VOID, LifecycleError
from connector.runtime import webhook_events
from connector.runtime.audit import record
from connector.runtime.runtime import Runtime
from connector.storage import models as m
from connector.storage.ids import uuid7
from connector.webhooks import APPROVED, VOIDED

CREDIT_NOTE = rules.CREDIT_NOTE
ZERO = Decimal(0)


class VoidError(LifecycleError):
    """A statement that cannot be voided; the message says why and what to do instead."""


def _negated(amount: Decimal) -> Decimal:
    # 0 - x, not -x: -Decimal("0.00") is "-0.00", which a document would print.
    return ZERO - amount


def _credit_note_of(session: Session, original: m.Statement) -> str | None:
    """The number of the credit note that voided ``original``, if one is stored."""
    notes = session.scalars(
        select(m.Statement).where(
            m.Statement.tenant_id == original.tenant_id,
            m.Statement.customer_id == original.customer_id,
            m.Statement.provider == original.provider,
            m.Statement.period_start == original.period_start,
            m.Statement.kind == CREDIT_NOTE,
        )
    )
    return next((n.number for n in notes if n.options.get("credits") == original.number), None)


def _refusal(session: Session, statement: m.Statement, tenant: str) -> str | None:
    name = statement.number or statement.id
    # The lifecycle rule decides; the messages below say what to do instead.
    if rules.allows(statement.kind, statement.status, VOID, rules.VOIDING):
        return None
    if statement.kind == CREDIT_NOTE:
        return (
            f"statement {name} is a credit note; it cannot be voided "
            "(bill the customer again with a new statement instead)"
        )
    if statement.status == "Draft":
        return (
            f"statement {name} is Draft and has no invoice to correct; delete it instead "
            f"(connector statements delete --tenant {tenant} {statement.id})"
        )
    if statement.status == "Closed":
        return (
            f"statement {name} is Closed (paid); a paid invoice is not voided: refund the "
            "customer in the ERP or grant a credit (connector credits add)"
        )
    if statement.status == VOID:
        credited = _credit_note_of(session, statement)
        by = f" by credit note {credited}" if credited else ""
        return f"statement {name} is already Void (credited{by})"
    voidable = [t.before for t in rules.transitions(statement.kind) if t.by == rules.VOIDING]
    return (
        f"statement {name} is {statement.status}; a {rules.document_type(statement.kind)} "
        f"can be voided only when {' or '.join(voidable)}"
    )


def _next_part(session: Session, original: m.Statement) -> int:
    """0 for the period's first credit note of this customer and provider, then 1, 2, ..."""
    last = session.scalar(
        select(func.max(m.Statement.part)).where(
            m.Statement.tenant_id == original.tenant_id,
            m.Statement.customer_id == original.customer_id,
            m.Statement.provider == original.provider,
            m.Statement.period_start == original.period_start,
            m.Statement.kind == CREDIT_NOTE,
        )
    )
    return 0 if last is None else last + 1


def _consumed_credit(session: Session, statement_id: str) -> Decimal:
    amounts = session.scalars(
        select(m.CreditEntry.amount).where(
            m.CreditEntry.statement_id == statement_id, m.CreditEntry.kind == APPLICATION
        )
    )
    return sum(amounts, ZERO)


def _credit_note(
    original: m.Statement, number: str, reason: str, today: dt.date, part: int
) -> m.Statement:
    notes = f"Credit note for {original.number}: {reason}"
    note = m.Statement(
        id=str(uuid7()),
        tenant_id=original.tenant_id,
        customer_id=original.customer_id,
        provider=original.provider,
        period_start=original.period_start,
        period_end=original.period_end,
        kind=CREDIT_NOTE,
        part=part,
        status="Open",
        number=number,
        revision=1,
        currency=original.currency,
        billing_currency=original.billing_currency,
        exchange_rate=original.exchange_rate,
        tax_name=original.tax_name,
        tax_rate=original.tax_rate,
        subtotal=_negated(original.subtotal),
        tax=_negated(original.tax),
        total=_negated(original.total),
        issue_date=today,
        due_date=today,
        pricebook_version=original.pricebook_version,
        batch_ids=list(original.batch_ids or []),
        # "notes" until the statement has a notes column of its own. The invoice it
        # credits (number, id, issue date) is what its documents name: the UBL
        # BillingReference, the ERP's allocation, "Credit note for ..." (documents.py).
        options={
            **(original.options or {}),
            "credits": original.number,
            "credits_id": original.id,
            "credits_issue_date": original.issue_date.isoformat(),
            "notes": notes,
        },
        approved_at=m.utcnow(),
        # The detail rows stay with the original: the credit note reverses its lines.
        detail_rows=None,
    )
    note.lines = [
        m.StatementLine(
            position=line.position,
            kind=line.kind,
            description=line.description,
            amount=_negated(line.amount),
            cost=_negated(line.cost),
            service_category=line.service_category,
            account_id=line.account_id,
            quantity=line.quantity,
        )
        for line in original.lines
    ]
    return note


def void(
    runtime: Runtime,
    tenant: str,
    statement: str,
    actor: str,
    reason: str,
    *,
    today: dt.date | None = None,
) -> m.Statement:
    """Void the Open or Past Due ``statement`` (id, unique start of an id, or number);
    returns its credit note.

    All in one transaction under the tenant row lock: the original becomes Void, the
    credit note is stored Open with the next invoice number and queued for the ERP,
    the credit the original used is granted back, and both are audited. Raises
    VoidError, changing nothing, for a Draft, a Closed, a Void or a credit note.
    """
    config = runtime.tenant(tenant)
    reason = reason.strip()
    if not reason:
        raise VoidError("a reason is required to void a statement (it is printed on the note)")
    today = today or dt.date.today()
    with runtime.db.transaction() as session:
        # The note's number, reserved as the tenant is locked; a refusal gives it back.
        reserved = reserve_numbers(session, tenant, 1)
        (original,) = find_statements(session, tenant, [statement])
        # Re-read under a row lock: a payment sync may be closing it right now.
        session.scalars(
            select(m.Statement)
            .where(m.Statement.id == original.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        problem = _refusal(session, original, tenant)
        if problem:
            raise VoidError(problem)
        number = format_invoice_number(config.invoice_options.invoice_number_format, reserved)
        note = _credit_note(original, number, reason, today, _next_part(session, original))
        session.add(note)
        previous, original.status = original.status, VOID
        queue_push(session, config.erp.sink, note)
        returned = tidy(_consumed_credit(session, original.id), original.currency)
        if returned > 0:
            add_grant(
                session, tenant, original.customer_id, returned, original.currency,
                f"credit used by {original.number}, returned when credit note {number} "
                "voided it",
                actor,
            )  # fmt: skip
        record(
            session,
            tenant,
            actor,
            "statement.void",
            original.id,
            {
                "number": original.number,
                "from": previous,
                "to": VOID,
                "reason": reason,
                "credit_note": number,
                "credit_note_id": note.id,
                "credits_returned": str(returned),
            },
        )
        record(
            session, tenant, actor, "statement.credit-note", note.id,
            {"number": number, "credits": original.number, "total": str(note.total)},
        )  # fmt: skip
        session.flush()
        credited = {"credit_note": {"id": note.id, "number": number}, "reason": reason}
        webhook_events.record(session, config, VOIDED, [original], credited)
        webhook_events.record(session, config, APPROVED, [note])
        # Loaded now, so the caller can read the lines after the session is gone.
        note.lines  # noqa: B018
    runtime.emit(StatementApproved(tenant=tenant, statement_id=note.id, number=number))
    return note
