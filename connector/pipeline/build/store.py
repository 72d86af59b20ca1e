"""The statement builder's reads and writes: one query per kind of row, bulk inserts.

Building a period for thousands of customers must not cost a query (or an ORM object)
per customer, line or detail row: what each account was billed in is read in one pass
(the charges themselves by the build's parts, :mod:`connector.pipeline.build.parts`),
earlier drafts are found and removed together, the customers
whose credit is used are locked together, and statements, lines, detail rows, credit
applications and audit entries are written in bulk, all in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, overload

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from connector.contracts import BillingPeriod
from connector.domain.money import tidy
from connector.pipeline.build.parts import Made
from connector.pipeline.credits import APPLICATION, ZERO, CreditError, ledger_sums
from connector.storage import bulk
from connector.storage import models as m
from connector.storage.db import Database

# Bound parameters per IN list: far below SQLite's and PostgreSQL's limits.
CHUNK = 500


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True, slots=True)
class StoredStatement:
    """What the builder needs to know about a statement already stored for the period."""

    id: str
    status: str
    number: str | None
    revision: int
    part: int


def stored_statements(
    session: Session, tenant: str, provider: str, period: BillingPeriod
) -> dict[str, StoredStatement]:
    """The period's usage statements for ``provider``, by customer id."""
    rows = session.execute(
        select(
            m.Statement.customer_id,
            m.Statement.id,
            m.Statement.status,
            m.Statement.number,
            m.Statement.revision,
            m.Statement.part,
        )
        .where(
            m.Statement.tenant_id == tenant,
            m.Statement.provider == provider,
            m.Statement.period_start == period.start,
            m.Statement.kind == "usage",
        )
        .order_by(m.Statement.part)
    )
    # The latest part of each customer: a voided statement's successor, if it has one.
    return {customer: StoredStatement(*rest) for customer, *rest in rows}


def customer_currencies(
    session: Session,
    batch_ids: Sequence[int],
    accounts: dict[str, list[str]],
    claimed: Collection[str],
) -> tuple[dict[str, set[str]], dict[tuple[str, str], Decimal]]:
    """The billing currencies of each customer's charges in the batches (``customer ->
    accounts``; a customer without charges is left out), and the billed cost per
    ``(account, currency)`` of each account no customer of the tenant claims
    (``claimed`` are the accounts any customer lists): reported, never dropped.
    """
    by_account = bulk.account_currencies(session, batch_ids)
    found: dict[str, set[str]] = {}
    for customer, listed in accounts.items():
        currencies = set().union(*(by_account.get(account, ()) for account in listed))
        if currencies:
            found[customer] = currencies
    strays = [account for account in by_account if account not in claimed]
    return found, bulk.account_costs(session, batch_ids, strays) if strays else {}


def remove_drafts(session: Session, statement_ids: Sequence[str]) -> None:
    """Delete Drafts being rebuilt, with their lines, returning their credit.

    The bulk form of ``credits.release`` followed by deleting the statement.
    """
    for ids in chunks(statement_ids):
        session.execute(
            delete(m.CreditEntry).where(
                m.CreditEntry.statement_id.in_(ids), m.CreditEntry.kind == APPLICATION
            )
        )
        session.execute(delete(m.StatementLine).where(m.StatementLine.statement_id.in_(ids)))
        session.execute(delete(m.Statement).where(m.Statement.id.in_(ids)))


def lock_customers(session: Session, tenant: str, customer_ids: Sequence[str]) -> None:
    """Hold the customers' rows until the transaction ends (``credits.lock_customer``).

    Locked in id order, so two builds that need the same customers cannot deadlock;
    on SQLite the transaction already holds the write lock (BEGIN IMMEDIATE).
    """
    wanted = sorted(set(customer_ids))
    locked: set[str] = set()
    for ids in chunks(wanted):
        locked.update(
            session.scalars(
                select(m.Customer.id)
                .where(m.Customer.tenant_id == tenant, m.Customer.id.in_(ids))
                .order_by(m.Customer.id)
                .with_for_update()
            )
        )
    for customer_id in customer_ids:
        if customer_id not in locked:
            # Nothing to lock means nothing serialises the balance check: refuse instead.
            raise CreditError(f"tenant {tenant} has no stored customer {customer_id}")


def credit_balances(
    session: Session, tenant: str, currencies: dict[str, str]
) -> dict[str, Decimal]:
    """Each customer's credit left in its currency (``customer -> currency``).

    Σ grants − Σ applications (``credits.ledger_sums``); read under the customers' locks.
    """
    sums = ledger_sums(session, tenant)
    left: dict[str, Decimal] = {}
    for customer_id, currency in currencies.items():
        granted, applied = sums.get((customer_id, currency), (ZERO, ZERO))
        left[customer_id] = tidy(granted - applied, currency)
    return left


@dataclass(frozen=True, slots=True)
class NewStatement:
    """A built statement about to be stored: the row's columns and what it is made of."""

    row: dict[str, Any]  # the statements table's columns but the detail snapshot
    made: Made  # its totals, detail snapshot and line rows
    audit: dict[str, Any]  # the audit entry's detail


def store(session: Session, tenant: str, statements: Sequence[NewStatement]) -> None:
    """Insert statements with their lines, detail rows, credit applications and audit."""
    if not statements:
        return
    connection = session.connection()
    now = m.utcnow()
    connection.execute(
        insert(m.Statement.__table__), [{**s.row, "details": s.made.details} for s in statements]
    )
    bulk.insert_line_rows(session, (row for s in statements for row in s.made.lines))
    applications = [
        {
            "tenant_id": tenant,
            "customer_id": s.row["customer_id"],
            "kind": APPLICATION,
            "amount": s.made.credits,
            "currency": s.row["currency"],
            "comment": "",
            "statement_id": s.row["id"],
            "created_by": "system",
            "created_at": now,
        }
        for s in statements
        if s.made.credits
    ]
    if applications:
        connection.execute(insert(m.CreditEntry.__table__), applications)
    connection.execute(
        insert(m.AuditEntry.__table__),
        [
            {
                "tenant_id": tenant,
                "actor": "system",
                "action": "statement.generate",
                "subject": s.row["id"],
                "detail": s.audit,
                "at": now,
            }
            for s in statements
        ],
    )


class GeneratedStatements(Sequence[m.Statement]):
    """The statements a build stored, as they were stored, made into objects when first read.

    A build of thousands of statements does not keep millions of line and detail
    objects in memory for a caller that may only count them. Each item is made (in
    chunks) the first time it is read: its columns from what the build wrote, detached
    like any object of a finished transaction; its lines and detail rows read back by
    statement id (they never change once written). A statement deleted or rebuilt
    since keeps its columns, and its lines are then not loaded (reading them raises
    DetachedInstanceError).
    """

    def __init__(self, db: Database, rows: Iterable[dict[str, Any]]) -> None:
        self._db = db
        self._rows = list(rows)
        self._made: list[m.Statement | None] = [None] * len(self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> m.Statement: ...
    @overload
    def __getitem__(self, index: slice) -> list[m.Statement]: ...
    def __getitem__(self, index: int | slice) -> m.Statement | list[m.Statement]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._rows)))]
        position = range(len(self._rows))[index]
        made = self._made[position]
        if made is None:
            self._make(position - position % CHUNK)
            made = self._made[position]
            assert made is not None
        return made

    def __iter__(self) -> Iterator[m.Statement]:
        for i in range(len(self._rows)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"GeneratedStatements({len(self._rows)} statements)"

    def _make(self, start: int) -> None:
        statements = {}
        for position in range(start, min(start + CHUNK, len(self._rows))):
            row = self._rows[position]
            # Own copies of the JSON columns: the build shares one list and dict.
            statement = m.Statement(
                **{**row, "batch_ids": list(row["batch_ids"]), "options": dict(row["options"])}
            )
            make_transient_to_detached(statement)
            statements[statement.id] = self._made[position] = statement
        lines: dict[str, list[m.StatementLine]] = {}
        with self._db.transaction() as session:
            details = dict(
                session.execute(
                    select(m.Statement.id, m.Statement.detail_rows).where(
                        m.Statement.id.in_(statements)
                    )
                ).all()
            )
            stored = set(details)
            for line in session.scalars(
                select(m.StatementLine)
                .where(m.StatementLine.statement_id.in_(stored))
                .order_by(m.StatementLine.position)
            ):
                lines.setdefault(line.statement_id, []).append(line)
        for statement_id in stored:
            statement = statements[statement_id]
            for line in lines.get(statement_id, []):
                set_committed_value(line, "statement", statement)
            set_committed_value(statement, "lines", lines.get(statement_id, []))
            set_committed_value(statement, "detail_rows", details[statement_id])


def statement_row(
    statement_id: str,
    tenant: str,
    customer_id: str,
    provider: str,
    period: BillingPeriod,
    built: Made,
    **columns: Any,
) -> dict[str, Any]:
    """A statements-table row for a new Draft of ``built``; ``columns`` gives the rest."""
    return {
        "id": statement_id,
        "tenant_id": tenant,
        "customer_id": customer_id,
        "provider": provider,
        "period_start": period.start,
        "period_end": period.end,
        "status": "Draft",
        "number": None,
        "subtotal": built.subtotal,
        "tax": built.tax,
        "total": built.total,
        "created_at": m.utcnow(),
        "approved_at": None,
        **columns,
    }
