"""Statements as one key may see them: its tenant's, and a customer key only its own
customer's statements that are no longer Drafts.

Every lookup goes through here, so no route can forget the scoping. Something outside
the caller's view is simply not found (404), never forbidden: a 403 would tell a key of
tenant A that tenant B has a statement with that id.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Row, Select, func, select
from sqlalchemy.orm import Session, selectinload

from connector.access.api_keys import Principal
from connector.api.errors import NotFound
from connector.config.tenant import TenantConfig
from connector.runtime.periods import in_month
from connector.storage import models as m
from connector.storage.db import Database

# The list's order, which ix_statements_listing (migration 0009) holds.
LIST_ORDER = (
    m.Statement.period_start.desc(),
    m.Statement.provider,
    m.Statement.customer_id,
    m.Statement.kind,
    m.Statement.part,
)
# What a summary shows (connector.api.schemas.StatementSummary), and nothing else: not
# the JSON columns, whose decoding was a tenth of a list's time.
SUMMARY_COLUMNS = (
    m.Statement.id,
    m.Statement.number,
    m.Statement.customer_id,
    m.Statement.provider,
    m.Statement.period_start,
    m.Statement.period_end,
    m.Statement.status,
    m.Statement.currency,
    m.Statement.subtotal,
    m.Statement.tax,
    m.Statement.total,
    m.Statement.revision,
    m.Statement.kind,
    m.Statement.part,
    m.Statement.issue_date,
    m.Statement.due_date,
    m.Statement.billing_currency,
    m.Statement.exchange_rate,
)


def _seen_by(principal: Principal) -> list[ColumnElement[bool]]:
    seen = [m.Statement.tenant_id == principal.tenant]
    if principal.scope == "customer":
        seen += [m.Statement.customer_id == principal.customer_id, m.Statement.status != "Draft"]
    return seen


def visible(principal: Principal) -> Select:
    """The statements ``principal`` may see, as a query to narrow further."""
    return select(m.Statement).where(*_seen_by(principal))


@dataclass(frozen=True, slots=True)
class StatementFilter:
    provider: str | None = None
    period: str | None = None
    status: str | None = None
    customer: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        wanted = []
        if self.provider:
            wanted.append(m.Statement.provider == self.provider)
        if self.period:
            wanted.append(in_month(self.period))
        if self.status:
            wanted.append(m.Statement.status == self.status)
        if self.customer:
            wanted.append(m.Statement.customer_id == self.customer)
        return wanted


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
    session: Session, principal: Principal, wanted: StatementFilter
) -> list[m.Statement]:
    """Statements matching ``wanted`` with their lines, newest period first (the API's
    list of summaries is :func:`summary_page`)."""
    query = visible(principal).where(*wanted.conditions()).order_by(*LIST_ORDER)
    return list(session.scalars(query.options(selectinload(m.Statement.lines))))


@contextmanager
def reading(db: Database) -> Iterator[Connection]:
    """A connection for a read that is one SQL statement: on PostgreSQL in autocommit,
    which spares it the BEGIN and COMMIT round trips (one statement reads one snapshot
    anyway); SQLite reads in a transaction as it always does."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        yield conn


def summary_page(
    conn: Connection, principal: Principal, wanted: StatementFilter, limit: int, offset: int
) -> tuple[Sequence[Row], int]:
    """One page of the list (the summary's columns, no lines), and how many match in
    all, in one query.

    The count rides along as a scalar subquery, which PostgreSQL runs once beside a page
    still read from ix_statements_listing in order; ``count(*) OVER ()`` would read and
    sort every match instead (12 ms against 0.6 ms for 5,000). Only a page past the end,
    which has no row to carry the count, asks for it again.
    """
    where = _seen_by(principal) + wanted.conditions()
    count = select(func.count()).select_from(m.Statement).where(*where)
    page = conn.execute(
        select(*SUMMARY_COLUMNS, count.scalar_subquery().label("matching"))
        .where(*where)
        .order_by(*LIST_ORDER)
        .offset(offset)
        .limit(limit)
    ).all()
    if page:
        return page, page[0].matching
    return page, (conn.scalar(count) or 0) if offset else 0


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
