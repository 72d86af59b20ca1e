"""The billing report's reads: GROUP BY in the database, exact sums on both databases.

A month of a large reseller is millions of stored rows; the report never brings them
to Python one by one. Each query groups them to usage-type lines in the database and
streams the groups back a partition at a time. PostgreSQL sums NUMERIC exactly. SQLite
stores money as exact text (see ``models.Money``) and its own SUM would go through
floats, so there the sum is an aggregate registered on the connection that adds the
text as Decimal: still one GROUP BY inside SQLite, no float anywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from connector.domain.statement import BILLABLE_CATEGORIES
from connector.storage import models as m
from connector.storage.details import read_details

# Groups fetched per round trip; also how often progress is reported.
PARTITION = 5000
# Statements per IN list: far below SQLite's and PostgreSQL's parameter limits.
CHUNK = 500
SQLITE_SUM = "connector_decimal_sum"

Progress = Callable[[str, int], None]


class _DecimalSum:
    """SQLite aggregate: the exact Decimal sum of text amounts, returned as text."""

    def __init__(self) -> None:
        self.total = Decimal(0)

    def step(self, value: Any) -> None:
        if value is not None:
            self.total += Decimal(value)

    def finalize(self) -> str:
        return str(self.total)


def exact_sum(session: Session, column: Any) -> ColumnElement[Decimal]:
    """``SUM(column)`` at full precision on the session's database, read as Decimal."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # Registered on the DBAPI connection in use; doing it again is harmless.
        connection.connection.driver_connection.create_aggregate(SQLITE_SUM, 1, _DecimalSum)
        return type_coerce(getattr(func, SQLITE_SUM)(column), m.Money())
    return type_coerce(func.sum(column), m.Money())


def _stream(session: Session, query: Any, stage: str, progress: Progress | None) -> Iterator[tuple]:
    done = 0
    result = session.execute(query.execution_options(yield_per=PARTITION))
    for partition in result.partitions():
        yield from partition
        done += len(partition)
        if progress is not None:
            progress(stage, done)


def current_batches(
    session: Session, tenant: str, provider: str, first: dt.date, last: dt.date
) -> list[tuple[dt.date, dt.date, bool]]:
    """``(period_start, period_end, final)`` of the current batches overlapping the days."""
    rows = session.execute(
        select(m.ChargeBatch.period_start, m.ChargeBatch.period_end, m.ChargeBatch.final).where(
            m.ChargeBatch.tenant_id == tenant,
            m.ChargeBatch.provider == provider,
            m.ChargeBatch.superseded_at.is_(None),
            m.ChargeBatch.period_start <= last,
            m.ChargeBatch.period_end > first,
        )
    )
    return [tuple(r) for r in rows]


def charge_groups(
    session: Session,
    tenant: str,
    provider: str,
    first: dt.date,
    last: dt.date,
    accounts: Sequence[str] | None,
    progress: Progress | None = None,
) -> Iterator[tuple]:
    """The current billable charges from ``first`` to ``last``, grouped to usage types.

    Rows: period_start, account, charge category, marketplace, service category,
    service name, usage type (SKU), line item type, currency, Σ cost, Σ list cost,
    Σ quantity. A billing period wholly inside the days gives all its charges (late
    charges dated outside it are still its charges); one only partly inside gives the
    charges whose usage dates overlap the days (charges are stored at the provider's
    grain, so a charge spanning the edge comes whole).
    """
    c, b = m.Charge, m.ChargeBatch
    keys = (
        b.period_start,
        c.sub_account_id,
        c.charge_category,
        c.is_marketplace,
        c.service_category,
        c.service_name,
        c.sku,
        c.line_item_type,
        c.billing_currency,
    )
    query = (
        select(
            *keys,
            exact_sum(session, c.billed_cost),
            exact_sum(session, c.list_cost),
            exact_sum(session, c.quantity),
        )
        .join(b, b.id == c.batch_id)
        .where(
            b.tenant_id == tenant,
            b.provider == provider,
            b.superseded_at.is_(None),
            b.period_start <= last,
            b.period_end > first,
            c.charge_category.in_([str(x) for x in BILLABLE_CATEGORIES]),
            or_(
                and_(b.period_start >= first, b.period_end <= last + dt.timedelta(days=1)),
                and_(c.charge_period_start <= last, c.charge_period_end >= first),
            ),
        )
        .group_by(*keys)
    )
    if accounts is not None:
        query = query.where(c.sub_account_id.in_(list(accounts)))
    return _stream(session, query, "charges", progress)


def statements_in(
    session: Session, tenant: str, provider: str, first: dt.date, last: dt.date
) -> list[m.Statement]:
    """The statements of periods overlapping the days (columns only, no lines)."""
    return list(
        session.scalars(
            select(m.Statement)
            .where(
                m.Statement.tenant_id == tenant,
                m.Statement.provider == provider,
                m.Statement.period_start <= last,
                m.Statement.period_end > first,
            )
            .order_by(m.Statement.period_start, m.Statement.customer_id)
        )
    )


def statement_details(
    session: Session, statement_ids: Sequence[str], progress: Progress | None = None
) -> Iterator[tuple[str, Sequence[Any]]]:
    """``(statement id, detail rows)`` of each statement, a chunk of statements at a time.

    The rows are the statement's locked snapshot at full precision (account, service
    category, service, usage type, line item type, marketplace, quantity, cost, price).
    """
    done = 0
    for start in range(0, len(statement_ids), CHUNK):
        ids = list(statement_ids[start : start + CHUNK])
        for statement_id, text in session.execute(
            select(m.Statement.id, m.Statement.detail_rows).where(m.Statement.id.in_(ids))
        ):
            yield statement_id, read_details(text)
        done += len(ids)
        if progress is not None:
            progress("statements", done)


def price_lines(session: Session, statement_ids: Sequence[str]) -> list[tuple]:
    """The statements' service and marketplace lines as stored (rounded): statement id,
    kind, service category, account (None unless grouped by account), amount."""
    line = m.StatementLine
    found: list[tuple] = []
    for start in range(0, len(statement_ids), CHUNK):
        query = select(
            line.statement_id, line.kind, line.service_category, line.account_id, line.amount
        ).where(
            line.statement_id.in_(list(statement_ids[start : start + CHUNK])),
            line.kind.in_(("service", "marketplace")),
            # A marketplace fees' rounding adjustment is a marketplace line without a
            # service category (connector.domain.statement._rounding_lines): not a line
            # of a service, like the "Rounding adjustment" line.
            line.service_category.is_not(None),
        )
        found.extend(tuple(r) for r in session.execute(query))
    return found
