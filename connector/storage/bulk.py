"""Bulk reads and writes of the hot tables: charges and statement lines.

A month of a large reseller's AWS data is hundreds of thousands of aggregated charges,
and building its statements writes as many detail rows; the ORM's per-object and
per-value bind processing costs more than the billing itself, so these rows go
through the driver directly: COPY on PostgreSQL, a prepared executemany on SQLite
(with the same exact-decimal text, ISO dates and 0/1 booleans the ORM stores there).
A provider's :class:`~connector.contracts.ChargeTable` is stored as it is, without a
CanonicalCharge or a Decimal made per row, its rows read once as they stream from the
provider, a chunk at a time (:func:`insert_charge_table`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from itertools import islice
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, DropConstraint

from connector.contracts import CHARGE_CONTEXT_FIELDS, CanonicalCharge, ChargeTable, StatementLine
from connector.domain.statement import CustomerCharge
from connector.storage.models import Charge

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a NOWAIT lock held elsewhere

CHARGE_COLUMNS = (
    "batch_id", "billing_account_id", "sub_account_id", "charge_category", "charge_class",
    "service_name", "service_category", "sku", "publisher", "is_marketplace", "billed_cost",
    "list_cost", "quantity", "billing_currency", "charge_period_start", "charge_period_end",
    "invoice_id", "line_item_type", "charge_frequency",
)  # fmt: skip


def _rows(batch_id: int, charges: Iterable[CanonicalCharge], text: bool) -> Iterator[tuple]:
    # text=True gives SQLite's representation: exact decimal strings, ISO dates, 0/1.
    for c in charges:
        if text:
            yield (
                batch_id, c.billing_account_id, c.sub_account_id, str(c.charge_category),
                c.charge_class, c.service_name, c.service_category, c.sku, c.publisher,
                int(c.is_marketplace), str(c.billed_cost), str(c.list_cost), str(c.quantity),
                c.billing_currency, c.charge_period_start.isoformat(),
                c.charge_period_end.isoformat(), c.invoice_id, c.line_item_type,
                c.charge_frequency,
            )  # fmt: skip
        else:
            yield (
                batch_id, c.billing_account_id, c.sub_account_id, str(c.charge_category),
                c.charge_class, c.service_name, c.service_category, c.sku, c.publisher,
                c.is_marketplace, c.billed_cost, c.list_cost, c.quantity, c.billing_currency,
                c.charge_period_start, c.charge_period_end, c.invoice_id, c.line_item_type,
                c.charge_frequency,
            )  # fmt: skip


def is_postgresql(session: Session) -> bool:
    return session.connection().dialect.name == "postgresql"


def _write(session: Session, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Insert ``rows`` (already in the dialect's representation) in the session's transaction."""
    with _writer(session, table, columns) as write:
        write(rows)


@contextmanager
def _writer(
    session: Session, table: str, columns: Sequence[str], queued: bool = False
) -> Iterator[Callable[[Iterable[tuple]], None]]:
    """A function inserting rows into ``table`` in the session's transaction, as often as
    it is called: on PostgreSQL all into one COPY (a COPY per call would wait, each time,
    for the server to take in the last rows), on SQLite one prepared executemany each.

    ``queued``: the COPY's data goes to the server from a thread of psycopg's (at most
    32 MB queued), so the server takes in rows while this thread makes the next ones
    (and the provider reads them) instead of the two taking turns; worth its thread for
    a large load only.
    """
    connection = session.connection()
    column_list = ", ".join(columns)
    driver: Any = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        from psycopg.copy import QueuedLibpqWriter  # psycopg is only an extra

        with (
            driver.cursor() as cursor,
            cursor.copy(
                f"COPY {table} ({column_list}) FROM STDIN",
                writer=QueuedLibpqWriter(cursor) if queued else None,
            ) as copy,
        ):
            write_row = copy.write_row

            def copy_rows(rows: Iterable[tuple]) -> None:
                for row in rows:
                    write_row(row)

            yield copy_rows
        return
    placeholders = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})"
    # The raw cursor: SQLAlchemy's executemany would first copy every row into a list.
    cursor = driver.cursor()
    try:
        yield partial(cursor.executemany, sql)
    finally:
        cursor.close()


def insert_charges(session: Session, batch_id: int, charges: Iterable[CanonicalCharge]) -> None:
    """Insert ``charges`` (a :class:`ChargeTable` too) under ``batch_id`` in the session's
    transaction."""
    text = not is_postgresql(session)
    if isinstance(charges, ChargeTable):
        _write(session, "charges", TABLE_COLUMNS, _table_rows(batch_id, charges, text))
    else:
        _write(session, "charges", CHARGE_COLUMNS, _rows(batch_id, charges, text))


def insert_charge_table(
    session: Session,
    batch_id: int,
    table: ChargeTable,
    chunk: int,
    stored: Callable[[int], object] = len,
) -> Decimal:
    """Insert ``table``'s charges under ``batch_id`` in the session's transaction, reading
    its rows once, ``chunk`` at a time as they stream from the provider (memory stays
    flat however large the period), and return their billed cost summed exactly.

    ``stored(n)`` is called after each chunk of ``n`` rows. A failure on any chunk,
    the provider's or the database's, leaves the transaction to be rolled back whole.
    """
    heads = _heads(batch_id, table, text=not is_postgresql(session))
    accounts = table.accounts
    dates = {key: day.isoformat() for key, day in table.dates.items()}
    billed_total = Decimal(0)
    rows = iter(table.rows)
    with _writer(session, "charges", TABLE_COLUMNS, queued=True) as write:
        while part := list(islice(rows, chunk)):
            write(_joined(part, heads, accounts, dates))
            billed_total = sum(map(Decimal, map(itemgetter(2), part)), billed_total)
            stored(len(part))
    return billed_total


# A ChargeTable's columns: a context's, then a row's (see ChargeTable.rows).
TABLE_COLUMNS = (
    "batch_id", *CHARGE_CONTEXT_FIELDS, "sub_account_id", "billed_cost", "list_cost",
    "quantity", "charge_period_start", "charge_period_end",
)  # fmt: skip


def _table_rows(batch_id: int, table: ChargeTable, text: bool) -> Iterator[tuple]:
    dates = {key: day.isoformat() for key, day in table.dates.items()}
    return _joined(table.rows, _heads(batch_id, table, text), table.accounts, dates)


def _heads(batch_id: int, table: ChargeTable, text: bool) -> list[tuple]:
    # Each context's values are made once, in the database's representation; a row
    # joins them to its own. The amounts' exact text is what SQLite keeps and what
    # PostgreSQL's COPY parses into NUMERIC; dates go as ISO text to both.
    marketplace = CHARGE_CONTEXT_FIELDS.index("is_marketplace")
    category = CHARGE_CONTEXT_FIELDS.index("charge_category")
    heads = []
    for context in table.contexts:
        values = list(context)
        values[category] = str(values[category])
        values[marketplace] = int(values[marketplace]) if text else bool(values[marketplace])
        heads.append((batch_id, *values))
    return heads


def _joined(
    rows: Iterable[tuple], heads: Sequence[tuple], accounts: Sequence[str], dates: dict[int, str]
) -> Iterator[tuple]:
    for context, account, billed, listed, quantity, start, end in rows:
        yield heads[context] + (accounts[account], billed, listed, quantity, dates[start],
                                dates[end])  # fmt: skip


@contextmanager
def charges_loading(session: Session) -> Iterator[None]:
    """Around inserting a batch's charges: a first load, into an empty charges table, is
    made without the table's index (built after: one sort instead of a B-tree insert per
    row) and, on PostgreSQL, without its foreign key (added after: one join instead of a
    trigger's query per row). 255,513 charges: on SQLite 1.4 s of CPU with the index
    kept, 1.0 s without; on PostgreSQL the key and the index cost more than the COPY.

    The DDL is part of the transaction on both databases, so an error rolls it back with
    the rows. Into a table that holds charges nothing is dropped (rebuilding would cost
    more).
    """
    connection = session.connection()
    first = _first_load(connection)
    table = Charge.__table__
    indexes = sorted(table.indexes, key=lambda index: str(index.name))
    keys = sorted(table.foreign_key_constraints, key=lambda key: str(key.name))
    if connection.dialect.name != "postgresql":
        keys = []  # SQLite cannot drop a constraint
    if first:
        for key in keys:
            connection.execute(DropConstraint(key))
        for index in indexes:
            index.drop(connection)
    yield
    if first:
        for index in indexes:
            index.create(connection)
        for key in keys:
            connection.execute(AddConstraint(key))


def _first_load(connection: Connection) -> bool:
    """Whether the charges table is empty and, on PostgreSQL, locked for this transaction.

    PostgreSQL: the tables are locked only if no other transaction holds them (``NOWAIT``):
    waiting could deadlock with another ingest (each holding its own new batch row), and a
    build reading charges would make the load wait. Locked, no other transaction can have
    charges uncommitted, so the table is surely empty. (SQLite has one writer at a time.)
    """
    empty = "SELECT 1 FROM charges LIMIT 1"
    if connection.exec_driver_sql(empty).first() is not None:
        return False
    if connection.dialect.name != "postgresql":
        return True
    connection.exec_driver_sql("SAVEPOINT first_load")
    try:
        connection.exec_driver_sql("LOCK TABLE charge_batches IN SHARE ROW EXCLUSIVE MODE NOWAIT")
        connection.exec_driver_sql("LOCK TABLE charges IN ACCESS EXCLUSIVE MODE NOWAIT")
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        connection.exec_driver_sql("ROLLBACK TO SAVEPOINT first_load")
        return False
    connection.exec_driver_sql("RELEASE SAVEPOINT first_load")
    return connection.exec_driver_sql(empty).first() is None


# Reading charges back for the statement builder: CustomerCharge's fields, in its order.
CUSTOMER_CHARGE_COLUMNS = (
    "sub_account_id", "service_name", "service_category", "sku", "line_item_type",
    "charge_category", "is_marketplace", "billed_cost", "list_cost", "quantity",
    "charge_frequency",
)  # fmt: skip


def _in_batches(batch_ids: Sequence[int], marker: str) -> str:
    return f"batch_id IN ({', '.join([marker] * len(batch_ids))})"


def customer_charges(
    session: Session, batch_ids: Sequence[int], accounts: Sequence[str]
) -> Iterator[list[CustomerCharge]]:
    """The charges of ``accounts`` in ``batch_ids`` as CustomerCharges, a list at a time,
    by batch, account and id: the order of the batch and account index, which finds
    them without reading the batches' other charges.

    Money comes back as Decimal and ``is_marketplace`` as bool on both databases, the
    values the Money and Boolean column types would give; each charge is made straight
    from the row (a build reads millions).
    """
    if not batch_ids:
        return
    for chosen in _chunks(sorted(set(accounts))):
        yield from _charge_rows(session, batch_ids, chosen)


def _chunks(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _charge_rows(
    session: Session, batch_ids: Sequence[int], accounts: Sequence[str]
) -> Iterator[list[CustomerCharge]]:
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    marker = "%s" if postgres else "?"
    sql = (
        f"SELECT {', '.join(CUSTOMER_CHARGE_COLUMNS)} FROM charges "
        f"WHERE {_in_batches(batch_ids, marker)} "
        f"AND sub_account_id IN ({', '.join([marker] * len(accounts))}) "
        "ORDER BY batch_id, sub_account_id, id"
    )
    driver: Any = connection.connection.driver_connection
    # PostgreSQL: a server-side cursor, so the rows arrive a batch at a time.
    cursor = driver.cursor(name="charge_rows") if postgres else driver.cursor()
    make = tuple.__new__
    try:
        cursor.execute(sql, (*batch_ids, *accounts))
        while rows := cursor.fetchmany(10_000):
            if postgres:  # psycopg gives Decimal for numeric and bool for boolean already
                yield [make(CustomerCharge, row) for row in rows]
                continue
            # The list cost is often the cost itself (no public price): one Decimal for both.
            yield [
                make(CustomerCharge, (a, b, c, d, e, f, bool(mp), billed := Decimal(cost),
                                      billed if listed == cost else Decimal(listed),
                                      Decimal(qty), fq))
                for a, b, c, d, e, f, mp, cost, listed, qty, fq in rows
            ]  # fmt: skip
    finally:
        cursor.close()


def account_currencies(session: Session, batch_ids: Sequence[int]) -> dict[str, set[str]]:
    """The billing currencies each account's charges in ``batch_ids`` are in."""
    if not batch_ids:
        return {}
    connection = session.connection()
    marker = "%s" if connection.dialect.name == "postgresql" else "?"
    rows = connection.exec_driver_sql(
        f"SELECT DISTINCT sub_account_id, billing_currency FROM charges "
        f"WHERE {_in_batches(batch_ids, marker)}",
        tuple(batch_ids),
    )
    found: dict[str, set[str]] = {}
    for account, currency in rows:
        found.setdefault(account, set()).add(currency)
    return found


def account_costs(
    session: Session, batch_ids: Sequence[int], accounts: Sequence[str]
) -> dict[tuple[str, str], Decimal]:
    """The billed cost of each of ``accounts`` in ``batch_ids`` per ``(account, billing
    currency)``, summed exactly: in Python, because SQLite keeps money as text and its
    SUM would add it as floats."""
    found: dict[tuple[str, str], Decimal] = {}
    if not batch_ids:
        return found
    connection = session.connection()
    marker = "%s" if connection.dialect.name == "postgresql" else "?"
    for chosen in _chunks(sorted(set(accounts))):
        rows = connection.exec_driver_sql(
            f"SELECT sub_account_id, billing_currency, billed_cost FROM charges "
            f"WHERE {_in_batches(batch_ids, marker)} "
            f"AND sub_account_id IN ({', '.join([marker] * len(chosen))})",
            (*batch_ids, *chosen),
        )
        for account, currency, cost in rows:
            key = (account, currency)
            found[key] = found.get(key, Decimal(0)) + Decimal(cost)
    return found


LINE_COLUMNS = (
    "statement_id", "position", "kind", "description", "amount", "cost", "service_category",
    "account_id", "quantity",
)  # fmt: skip


def line_rows(statement_id: str, lines: Sequence[StatementLine], text: bool) -> list[tuple]:
    """A statement's lines as rows of LINE_COLUMNS; ``text=True`` gives SQLite's
    representation of money (models.Money: the exact decimal string).

    Amounts must be Decimal, as built by the domain (Decimal arithmetic refuses floats,
    so a float cannot reach here without one being put in on purpose).
    """
    if text:
        return [
            (statement_id, x.position, x.kind, x.description, str(x.amount), str(x.cost),
             x.service_category, x.account_id, str(x.quantity))
            for x in lines
        ]  # fmt: skip
    return [
        (statement_id, x.position, x.kind, x.description, x.amount, x.cost,
         x.service_category, x.account_id, x.quantity)
        for x in lines
    ]  # fmt: skip


def insert_line_rows(session: Session, rows: Iterable[tuple]) -> None:
    """Insert statement lines made by :func:`line_rows` for this session's database."""
    _write(session, "statement_lines", LINE_COLUMNS, rows)
