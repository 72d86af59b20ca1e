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
from typing import Any

from sqlalchemy import ScalarResult, delete, select
from sqlalchemy.orm import Session

from connector.config.tenant import Customer
from connector.domain.iso4217 import NOT_MONEY, is_currency
from connector.domain.money import ZERO, minor_units, quantum, tidy
from connector.runtime.audit import record
from connector.runtime.runtime import Runtime
from connector.runtime.tenants import sync_tenant
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
# Idempotency keys as clients send them (UUIDs, "grant-2026-10-0042"): printable ASCII,
# short enough for the audit trail's subject column, where they are stored.
_KEY = re.compile(r"[!-~]{1,128}")
# The audit action whose subject is a grant's idempotency key (see ``_replay``).
KEYED_GRANT = "credit.grant-key"


class CreditError(ValueError):
    """A credit cannot be granted or applied; the message says why and what to write."""


class IdempotencyConflict(CreditError):
    """An idempotency key already used for a different grant."""


@dataclass(frozen=True, slots=True)
class Granted:
    """A grant as made, or as first made when its idempotency key was seen before.

    ``balance`` is the customer's balance in ``entry.currency`` right after the grant:
    a replay answers what the first request answered.
    """

    entry: m.CreditEntry
    balance: Decimal
    replayed: bool = False


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


def check_currency(customer: Customer, currency: str | None) -> str:
    """The currency a credit for ``customer`` is granted in: its invoice currency.

    A statement uses credit in its own currency only, and the build converts none
    (``build_store.credit_balances`` reads the invoice currency's ledger), so a credit
    in any other currency would sit unused forever: it is refused, naming the one that
    would work.
    """
    code = (currency or customer.invoice_currency).strip().upper()
    if code in NOT_MONEY:
        raise CreditError(
            f"currency {code!r} is an ISO 4217 code without a minor unit (metal, bond "
            f"unit or test code), not money; grant the credit in {customer.invoice_currency}"
        )
    if not _CURRENCY.fullmatch(code) or not is_currency(code):
        raise CreditError(
            f"currency {code!r} is not an ISO 4217 currency code; customer {customer.id} is "
            f"invoiced in {customer.invoice_currency}"
        )
    if code != customer.invoice_currency:
        raise CreditError(
            f"currency {code}: customer {customer.id} is invoiced in "
            f"{customer.invoice_currency}, and credits are applied in the statement's currency "
            f"without conversion; grant the credit in {customer.invoice_currency}"
        )
    return code


def check_minor_units(amount: Decimal, text: str, currency: str) -> None:
    """Refuse an amount finer than ``currency``'s minor unit (0.001 USD, 1.5 JPY):
    no statement can carry it, so it could never be paid out as granted."""
    if amount == amount.quantize(quantum(currency)):
        return
    places = minor_units(currency)
    allowed = "no decimal places" if places == 0 else f"at most {places} decimal places"
    example = Decimal(150).quantize(quantum(currency))
    raise CreditError(
        f"credit amount {text.strip()!r} is finer than {currency}'s minor unit: {currency} "
        f"amounts have {allowed}, like {example:f}"
    )


def check_idempotency_key(key: str) -> str:
    """A client's idempotency key, refused when it could not be stored as given."""
    if not _KEY.fullmatch(key):
        raise CreditError(
            f"idempotency key {key[:40]!r}: 1 to 128 printable ASCII characters without "
            "spaces, like a UUID"
        )
    return key


def _request(customer_id: str, amount: Decimal, currency: str, comment: str) -> dict[str, str]:
    # What makes two grants the same: amounts by value (150 is 150.00).
    plain = format(amount.normalize(), "f")
    return {"customer": customer_id, "amount": plain, "currency": currency, "comment": comment}


def _replay(session: Session, tenant: str, key: str, request: dict[str, str]) -> Granted | None:
    """The grant first made under ``key``, or None; a different request is refused.

    Keys are kept in the audit trail (an entry of action ``credit.grant-key`` whose
    subject is the key), written in the grant's own transaction: the credit ledger has
    no column for them. Callers hold the tenant row's lock, so two requests with the
    same key cannot both miss here.
    """
    first = session.scalars(
        select(m.AuditEntry)
        .where(
            m.AuditEntry.tenant_id == tenant,
            m.AuditEntry.action == KEYED_GRANT,
            m.AuditEntry.subject == key,
        )
        .order_by(m.AuditEntry.id)
    ).first()
    if first is None:
        return None
    detail: dict[str, Any] = first.detail
    if detail["request"] != request:
        differs = sorted(k for k in request if detail["request"].get(k) != request[k])
        raise IdempotencyConflict(
            f"idempotency key {key!r} was already used for another credit grant ("
            f"{', '.join(differs)} differ); send the same request again to get its result, "
            "or use a new key for a new grant"
        )
    entry = session.get(m.CreditEntry, detail["entry"])
    if entry is None:  # the ledger never deletes grants; refuse rather than grant again
        raise IdempotencyConflict(f"idempotency key {key!r}: its grant is no longer stored")
    return Granted(entry, Decimal(detail["balance"]), replayed=True)


def grant_credit(
    runtime: Runtime,
    tenant: str,
    customer_id: str,
    amount_text: str,
    comment: str,
    actor: str,
    currency: str | None = None,
    idempotency_key: str | None = None,
) -> Granted:
    """Grant a customer credit (the seeds' "Add Credit"), audited, in one transaction.

    The currency defaults to the customer's invoice currency, and must be it: statements
    are in that currency and use only credit in it. The amount must fit its minor unit.
    With ``idempotency_key``, a retried grant is applied once: the same key with the
    same request gives back the first grant (``replayed``), with a different request
    raises :class:`IdempotencyConflict`.
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
    currency = check_currency(customer, currency)
    check_minor_units(amount, amount_text, currency)
    key = None if idempotency_key is None else check_idempotency_key(idempotency_key)
    request = _request(customer.id, amount, currency, comment.strip())
    with runtime.db.transaction() as session:
        # The ledger's foreign key needs the tenant row; customers come along with it.
        # sync_tenant also locks the tenant row, which serialises grants with one key.
        sync_tenant(session, config)
        if key is not None:
            replayed = _replay(session, tenant, key, request)
            if replayed is not None:
                return replayed
        entry = add_grant(session, tenant, customer.id, amount, currency, comment.strip(), actor)
        left = balance(session, tenant, customer.id, currency)
        record(
            session,
            tenant,
            actor,
            "credit.grant",
            f"customer:{customer.id}",
            {"entry": entry.id, "amount": str(amount), "currency": currency, "comment": comment},
        )
        if key is not None:
            detail = {"entry": entry.id, "request": request, "balance": str(left)}
            record(session, tenant, actor, KEYED_GRANT, key, detail)
    return Granted(entry, left)


def grant(runtime: Runtime, tenant: str, *args: Any, **kwargs: Any) -> m.CreditEntry:
    """:func:`grant_credit` (the same arguments), for callers that need only the entry."""
    return grant_credit(runtime, tenant, *args, **kwargs).entry


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


def ledger_sums(session: Session, tenant: str) -> dict[tuple[str, str], list[Decimal]]:
    """``[granted, applied]`` per customer and currency of the tenant's ledger, summed
    exactly in Python (SQLite would sum the stored text as floats)."""
    sums: dict[tuple[str, str], list[Decimal]] = {}
    rows = session.execute(
        select(
            m.CreditEntry.customer_id,
            m.CreditEntry.currency,
            m.CreditEntry.kind,
            m.CreditEntry.amount,
        ).where(m.CreditEntry.tenant_id == tenant, m.CreditEntry.kind.in_((GRANT, APPLICATION)))
    )
    for customer_id, currency, kind, amount in rows:
        granted_applied = sums.setdefault((customer_id, currency), [ZERO, ZERO])
        granted_applied[0 if kind == GRANT else 1] += amount
    return sums


def balances(session: Session, tenant: str) -> list[CreditBalance]:
    """Granted, applied and left per customer and currency, for customers with entries."""
    totals = ledger_sums(session, tenant)
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
