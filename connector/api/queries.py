"""Statements as one key may see them: its tenant's, and a customer key only its own
customer's statements that are no longer Drafts.

Every lookup goes through here, so no route can forget the scoping. Something outside
the caller's view is simply not found (404), never forbidden: a 403 would tell a key of
tenant A that tenant B has a statement with that id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from connector.access.api_keys import Principal
from connector.api.errors import NotFound
from connector.config.tenant import TenantConfig
from connector.runtime.periods import in_month
from connector.storage import models as m


def visible(principal: Principal) -> Select:
    """The statements ``principal`` may see, as a query to narrow further."""
    query = select(m.Statement).where(m.Statement.tenant_id == principal.tenant)
    if principal.scope == "customer":
        query = query.where(
            m.Statement.customer_id == principal.customer_id, m.Statement.status != "Draft"
        )
    return query


@dataclass(frozen=True, slots=True)
class StatementFilter:
    provider: str | None = None
    period: str | None = None
    status: str | None = None
    customer: str | None = None


def _shown(ident: str) -> str:
    """An id as an error message quotes it: never more than the longest valid one."""
    return repr(ident) if len(ident) <= 64 else repr(ident[:64] + "...")


def check_customer(config: TenantConfig, customer_id: str) -> str:
    """``customer_id`` when the tenant has it, else :class:`NotFound`: the one answer
    every operation gives for an unknown customer."""
    try:
        config.customer(customer_id)
    except KeyError:
        raise NotFound(f"tenant {config.tenant!r} has no customer {_shown(customer_id)}") from None
    return customer_id


def find_visible(
    session: Session,
    principal: Principal,
    wanted: StatementFilter,
    limit: int | None = None,
    offset: int = 0,
    *,
    lines: bool = True,
) -> tuple[list[m.Statement], int]:
    """Statements matching ``wanted``, newest period first, and how many match in all.

    ``lines``: load each statement's lines with it (one more query); a list of summaries
    does without them, and must not touch ``Statement.lines`` then (one query each).
    """
    query = visible(principal)
    if wanted.provider:
        query = query.where(m.Statement.provider == wanted.provider)
    if wanted.period:
        query = query.where(in_month(wanted.period))
    if wanted.status:
        query = query.where(m.Statement.status == wanted.status)
    if wanted.customer:
        query = query.where(m.Statement.customer_id == wanted.customer)
    count = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    query = query.order_by(
        m.Statement.period_start.desc(),
        m.Statement.provider,
        m.Statement.customer_id,
        m.Statement.kind,
        m.Statement.part,
    ).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    if lines:
        query = query.options(selectinload(m.Statement.lines))
    return list(session.scalars(query)), count


def get_visible(
    session: Session, principal: Principal, ident: str, *, lines: bool = True
) -> m.Statement:
    """One statement by id or invoice number, or :class:`NotFound`; ``lines``: with its
    lines loaded."""
    query = visible(principal).where((m.Statement.id == ident) | (m.Statement.number == ident))
    if lines:
        query = query.options(selectinload(m.Statement.lines))
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"tenant {principal.tenant!r} has no statement {_shown(ident)}")
    return found


def get_all_visible(
    session: Session, principal: Principal, idents: Sequence[str]
) -> list[m.Statement]:
    """Each named statement (all must exist, else :class:`NotFound` for the first missing)."""
    return list(dict.fromkeys(get_visible(session, principal, ident) for ident in idents))


def previous_statement(session: Session, statement: m.Statement) -> m.Statement | None:
    """The customer's latest statement of the same provider and kind before this one's
    period (Drafts too: an unapproved September still shows what changed)."""
    return session.scalar(
        select(m.Statement)
        .where(
            m.Statement.tenant_id == statement.tenant_id,
            m.Statement.customer_id == statement.customer_id,
            m.Statement.provider == statement.provider,
            m.Statement.kind == statement.kind,
            m.Statement.period_start < statement.period_start,
        )
        .order_by(m.Statement.period_start.desc(), m.Statement.part.desc())
        .limit(1)
        .options(selectinload(m.Statement.lines))
    )
