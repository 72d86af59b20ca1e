"""The customer credit ledger: grants, applications to statements, balances.

A grant is stored with kind "grant", an application with kind "application"; both
amounts are positive, so the balance is Σ grants − Σ applications. Applications carry
the statement they paid, which is how deleting or regenerating a Draft gives its
credits back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ScalarResult, delete, select
from sqlalchemy.orm import Session

from connector.domain.money import ZERO, tidy
from connector.pipeline.audit import record
from connector.pipeline.runtime import Runtime
from connector.pipeline.tenants import sync_tenant
from connector.storage import models as m

GRANT, APPLICATION = "grant", "application"
MAX_PLACES = 10
# Σ of many grants must stay exact in Decimal's default 28-digit context: 15 digits
# before the point plus 10 after leaves room (and no reseller grants a quadrillion).
MAX_WHOLE_DIGITS = 15
# ASCII digits only: \d would also accept other scripts' digits, which Decimal parses.
_PLAIN = re.compile(r"[0-9]+(\.[0-9]+)?")
_THOUSANDS = re.compile(r"[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?")
_CURRENCY = re.compile(r"[A-Z]{3}")


class CreditError(ValueError):
    """A credit cannot be granted or applied; the message says why and what to write."""


@dataclass(frozen=True, slots=True)
class CreditBalance:
    customer_id: str
    currency: str
    granted: Decimal
    applied: Decimal
    balance: Decimal


def parse_amount(text: str) -> Decimal:
    """A credit amount as typed: a plain positive number such as ``150`` or ``150.00``.

    The seeds say "do not use commas or a negative '-' symbol"; rather than guess what
    ``1,5`` or ``-5`` meant, each is refused with a reason naming the input.
    """
    raw = text.strip()
    if raw[:1] in ("-", "+"):
        raise CreditError(f"credit amount {text!r}: no signs: a credit is always positive")
    if "," in raw:
        if _THOUSANDS.fullmatch(raw):
            raise CreditError(
                f"credit amount {text!r}: no thousands separators: write {raw.replace(',', '')}"
            )
        raise CreditError(f"credit amount {text!r}: no commas: use '.' for decimals, like 150.00")
    if not _PLAIN.fullmatch(raw):
        raise CreditError(f"credit amount {text!r} must be a plain number like 150.00")
    whole, _, places = raw.partition(".")
    if len(places) > MAX_PLACES:
        raise CreditError(
            f"credit amount {text!r} has {len(places)} decimal places; at most {MAX_PLACES}"
        )
    if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS:
        raise CreditError(
            f"credit amount {text!r} is too large: at most {MAX_WHOLE_DIGITS} digits "
            "before the decimal point"
        )
    amount = Decimal(raw)
    if amount <= 0:
        raise CreditError(f"credit amount {text!r} must be more than zero")
    return amount


def add_grant(
    session: Session,
    tenant: str,
    customer_id: str,
    amount: Decimal,
    currency: str,
    comment: str,
    actor: str,
) -> m.CreditEntry:
    """Add a grant row in the caller's transaction (amount already validated)."""
    if amount <= 0:
        raise CreditError(f"a credit grant must be more than zero, got {amount}")
    entry = m.CreditEntry(
        tenant_id=tenant,
        customer_id=customer_id,
        kind=GRANT,
        amount=amount,
        currency=currency,
        comment=comment,
        created_by=actor,
    )
    session.add(entry)
    session.flush()
    return entry


def grant(
    runtime: Runtime,
    tenant: str,
    customer_id: str,
    amount_text: str,
    comment: str,
    actor: str,
    currency: str | None = None,
) -> m.CreditEntry:
    """Grant a customer credit (the seeds' "Add Credit"), audited, in one transaction.

    The currency defaults to the customer's invoice currency: statements are in that
    currency, so only a credit in it can ever be applied.
    """
    config = runtime.tenant(tenant)
    try:
        customer = config.customer(customer_id)
    except KeyError:
        raise CreditError(f"tenant {tenant} has no customer {customer_id}") from None
    amount = parse_amount(amount_text)
    if not comment.strip():
        raise CreditError(
            "a comment is required: say which cloud account and what the credit is for"
        )
    currency = (currency or customer.invoice_currency).strip().upper()
    if not _CURRENCY.fullmatch(currency):
        raise CreditError(f"currency {currency!r} is not an ISO 4217 code such as USD")
    with runtime.db.transaction() as session:
        # The ledger's foreign key needs the tenant row; customers come along with it.
        sync_tenant(session, config)
        entry = add_grant(session, tenant, customer.id, amount, currency, comment.strip(), actor)
        record(
            session,
            tenant,
            actor,
            "credit.grant",
            f"customer:{customer.id}",
            {"entry": entry.id, "amount": str(amount), "currency": currency, "comment": comment},
        )
    return entry


def lock_customer(session: Session, tenant: str, customer_id: str) -> None:
    """Hold the customer's row until the transaction ends.

    Reading the balance and applying credit must not interleave between two builds:
    on PostgreSQL this row lock makes the second wait and then read the first one's
    applications; SQLite transactions are already serialised (BEGIN IMMEDIATE).
    """
    row = session.scalar(
        select(m.Customer)
        .where(m.Customer.tenant_id == tenant, m.Customer.id == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        # Nothing to lock means nothing serialises the balance check: refuse instead.
        raise CreditError(f"tenant {tenant} has no stored customer {customer_id}")


def _amounts(
    session: Session, tenant: str, customer_id: str, currency: str, kind: str
) -> ScalarResult[Decimal]:
    return session.scalars(
        select(m.CreditEntry.amount).where(
            m.CreditEntry.tenant_id == tenant,
            m.CreditEntry.customer_id == customer_id,
            m.CreditEntry.currency == currency,
            m.CreditEntry.kind == kind,
        )
    )


def balance(session: Session, tenant: str, customer_id: str, currency: str) -> Decimal:
    """Credit left to apply: grants − applications, summed exactly in Python.

    SQL SUM is not used because SQLite keeps money as text (see models.Money).
    """
    granted = sum(_amounts(session, tenant, customer_id, currency, GRANT), ZERO)
    applied = sum(_amounts(session, tenant, customer_id, currency, APPLICATION), ZERO)
    return tidy(granted - applied, currency)


def apply_credit(
    session: Session,
    tenant: str,
    customer_id: str,
    currency: str,
    statement_id: str,
    amount: Decimal,
    actor: str,
) -> None:
    """Record ``amount`` of credit paying ``statement_id``; zero records nothing.

    The builder asks for at most the balance; checking again here, under the customer
    lock, keeps the balance from going negative whatever the caller did.
    """
    if amount < 0:
        raise CreditError(f"credit applied to statement {statement_id} cannot be negative")
    if amount == 0:
        return
    lock_customer(session, tenant, customer_id)
    available = balance(session, tenant, customer_id, currency)
    if amount > available:
        raise CreditError(
            f"customer {customer_id} has {available} {currency} of credit left; "
            f"{amount} cannot be applied to statement {statement_id}"
        )
    session.add(
        m.CreditEntry(
            tenant_id=tenant,
            customer_id=customer_id,
            kind=APPLICATION,
            amount=amount,
            currency=currency,
            statement_id=statement_id,
            created_by=actor,
        )
    )
    session.flush()


def release(session: Session, statement_id: str) -> Decimal:
    """Give back the credit a Draft used (it is being deleted or rebuilt); returns it."""
    applied = list(
        session.scalars(
            select(m.CreditEntry.amount).where(
                m.CreditEntry.statement_id == statement_id, m.CreditEntry.kind == APPLICATION
            )
        )
    )
    if applied:
        session.execute(
            delete(m.CreditEntry).where(
                m.CreditEntry.statement_id == statement_id, m.CreditEntry.kind == APPLICATION
            )
        )
    return sum(applied, ZERO)


def balances(session: Session, tenant: str) -> list[CreditBalance]:
    """Granted, applied and left per customer and currency, for customers with entries."""
    totals: dict[tuple[str, str], list[Decimal]] = {}
    rows = session.execute(
        select(
            m.CreditEntry.customer_id,
            m.CreditEntry.currency,
            m.CreditEntry.kind,
            m.CreditEntry.amount,
        ).where(m.CreditEntry.tenant_id == tenant)
    )
    for customer_id, currency, kind, amount in rows:
        granted_applied = totals.setdefault((customer_id, currency), [ZERO, ZERO])
        granted_applied[0 if kind == GRANT else 1] += amount
    return [
        CreditBalance(
            customer_id,
            currency,
            tidy(granted, currency),
            tidy(applied, currency),
            tidy(granted - applied, currency),
        )
        for (customer_id, currency), (granted, applied) in sorted(totals.items())
    ]


def entries(session: Session, tenant: str, customer_id: str) -> list[m.CreditEntry]:
    """The customer's ledger, newest entry first."""
    return list(
        session.scalars(
            select(m.CreditEntry)
            .where(m.CreditEntry.tenant_id == tenant, m.CreditEntry.customer_id == customer_id)
            .order_by(m.CreditEntry.created_at.desc(), m.CreditEntry.id.desc())
        )
    )
