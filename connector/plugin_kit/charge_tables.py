"""A period's charges handed to the core as a table whose rows stream from DuckDB.

A file-reading provider aggregates a month in DuckDB (:mod:`connector.plugin_kit.scratch`).
Made into a list of CanonicalCharges, a period's hundreds of thousands of charges grew
the ingest's memory with the month; the core stores a
:class:`~connector.contracts.ChargeTable` instead, reading its rows once, a chunk at a
time. :func:`period_table` numbers in DuckDB what many of a period's charges share
(their context and their account) and returns the table, its rows fetched
:data:`FETCH_ROWS` at a time as they are read (:class:`QueryRows`); :func:`checked_table`
checks its text as :func:`~connector.contracts.checked_charges` checks a list's, on the
distinct values only. The aws provider's rows are :class:`QueryRows` as well.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING, overload

from connector.contracts import (
    CHARGE_CONTEXT_FIELDS,
    CHARGE_TEXT_LIMITS,
    CanonicalCharge,
    ChargeTable,
    charge_text_problem,
    checked_charges,
    checked_text,
)

if TYPE_CHECKING:
    import duckdb

# Charge rows fetched from DuckDB at a time while a period streams into storage.
FETCH_ROWS = 50_000

# Positions of a context tuple (CHARGE_CONTEXT_FIELDS) whose text storage limits.
_TEXT_FIELDS = tuple(
    (position, name) for position, name in enumerate(CHARGE_CONTEXT_FIELDS)
    if name in CHARGE_TEXT_LIMITS
)  # fmt: skip


class QueryRows(Sequence[tuple]):
    """The charge rows of one period, fetched from DuckDB :data:`FETCH_ROWS` at a time as
    they are iterated, while the provider's aggregate is open.

    Storing a period reads its rows once, so they stream into the database and memory
    stays flat however large the month (a period's rows held as Python tuples took
    220 MiB more at 5,000,000 CUR rows). Indexing or slicing fetches and keeps them all.
    The provider calls :meth:`release` before it closes the aggregate: rows not read
    through by then are kept (a caller that lists every batch first still has them);
    rows that were are gone, and reading them again raises.

    :param what: the rows' source in messages, e.g. ``"CUR"``.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, sql: str, params: dict, count: int, what: str
    ) -> None:
        self._con: duckdb.DuckDBPyConnection | None = con
        self._sql = sql
        self._params = params
        self._count = count
        self._what = what
        self._held: list[tuple] | None = None
        self._read_through = False
        self._result: duckdb.DuckDBPyConnection | None = None

    def __len__(self) -> int:
        return self._count

    @property
    def held(self) -> bool:
        """Whether the rows were fetched and are kept (reading them streams nothing)."""
        return self._held is not None

    def __iter__(self) -> Iterator[tuple]:
        if self._held is not None:
            return iter(self._held)
        return self._stream()

    def _stream(self) -> Iterator[tuple]:
        if self._con is None:
            raise RuntimeError(
                f"these {self._what} rows were read through while the provider streamed them "
                f"and are no longer held; fetch the batch again to read them"
            )
        result = self._result
        if result is None:
            result = self._con.execute(self._sql, self._params)
        self._result = None
        read = 0
        while chunk := result.fetchmany(FETCH_ROWS):
            read += len(chunk)
            yield from chunk
        if read != self._count:  # another statement on the aggregate cut the result short
            raise RuntimeError(
                f"read {read} of the period's {self._count} {self._what} charge rows"
            )
        self._read_through = True

    @overload
    def __getitem__(self, index: int) -> tuple: ...
    @overload
    def __getitem__(self, index: slice) -> list[tuple]: ...
    def __getitem__(self, index: int | slice) -> tuple | list[tuple]:
        return self._hold()[index]

    def _hold(self) -> list[tuple]:
        if self._held is None:
            self._held = list(self._stream())
        return self._held

    def prepare(self) -> None:
        """Run the query now (DuckDB works without the GIL), to be read later: the
        aggregate's next statement would discard it, so only the last one before the
        rows are read may call this."""
        if self._con is not None and self._held is None:
            self._result = self._con.execute(self._sql, self._params)

    def release(self) -> None:
        """Let go of the aggregate: keep the rows unless they were read through."""
        if self._con is not None and not self._read_through:
            self._hold()
        self._con = None


class StreamedCharges(ChargeTable):
    """A :class:`~connector.contracts.ChargeTable` of :func:`period_table`: the core stores
    it as it is. Iterated while its rows stream, it makes the charges as they come;
    once the rows are held (the provider let go of them unread, see
    :meth:`QueryRows.release`), it makes them once and keeps them, as a list would, and
    it compares equal to a list of the same charges."""

    __slots__ = ("_kept",)

    def __iter__(self) -> Iterator[CanonicalCharge]:
        rows = self.rows
        if isinstance(rows, QueryRows) and not rows.held:
            return self._made(rows)
        try:
            kept = self._kept
        except AttributeError:
            kept = list(self._made(rows))
            object.__setattr__(self, "_kept", kept)  # frozen: set once, as a cache
        return iter(kept)

    def __eq__(self, other: object) -> bool:
        """Equal to a sequence of the same charges in the same order, as a list is (rows
        that stream are read through)."""
        if not isinstance(other, Sequence) or isinstance(other, str | bytes | tuple):
            return NotImplemented
        return len(self) == len(other) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]  # equal by content: unhashable, as a list

    def _made(self, rows: Iterable[tuple]) -> Iterator[CanonicalCharge]:
        contexts = [dict(zip(CHARGE_CONTEXT_FIELDS, c, strict=True)) for c in self.contexts]
        accounts, dates = self.accounts, self.dates
        for context, account, billed, listed, quantity, start, end in rows:
            yield CanonicalCharge(
                sub_account_id=accounts[account],
                billed_cost=Decimal(billed),
                list_cost=Decimal(listed),
                quantity=Decimal(quantity),
                charge_period_start=dates[start],
                charge_period_end=dates[end],
                **contexts[context],
            )

    def release(self) -> None:
        """See :meth:`QueryRows.release`: the provider calls it when the batch was
        handed on, before its aggregate closes."""
        if isinstance(self.rows, QueryRows):
            self.rows.release()


def period_table(
    con: duckdb.DuckDBPyConnection,
    charges_sql: str,
    params: Mapping[str, object],
    *,
    number: int,
    grain: Sequence[str],
    account: str,
    fields: Callable[[tuple], tuple],
    span: Callable[[dt.date, dt.date], tuple[dt.date, dt.date]],
    what: str,
) -> StreamedCharges:
    """One period's charges, the rows left in DuckDB to stream when read.

    :param charges_sql: selects the period's charges, one per ``grain``: its columns, the
        sums ``billed``, ``listed`` and ``quantity`` (DECIMAL) and the charge's
        ``first_day`` and ``last_day``; kept as the temporary table
        ``period_<number>_charges``.
    :param number: numbers the period's temporary tables, unique in the aggregate (the
        rows of every period can then be read after all were asked for).
    :param grain: the columns a charge is one of; the rows come in their order (the
        order the provider listed its charges in before).
    :param account: the grain's column of the ``sub_account_id``; the others are what a
        charge shares with many (its context).
    :param fields: turns one context's values, in the grain's order, into the values of
        :data:`~connector.contracts.CHARGE_CONTEXT_FIELDS` (once per context).
    :param span: turns a ``(first_day, last_day)`` into the charge's
        ``(charge_period_start, charge_period_end)`` (once per distinct pair).
    :param what: the rows' source in messages.

    Contexts and accounts are numbered in the order of their values, so a row is
    ``(context, account, billed, listed, quantity, start, end)`` of small integers and
    the sums' exact text, what a :class:`~connector.contracts.ChargeTable` holds.
    """
    name = f"period_{number}"
    charges = f"{name}_charges"
    context = [column for column in grain if column != account]
    days = ("first_day", "last_day")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {charges} AS {charges_sql}", dict(params))
    contexts = _dictionary(con, charges, f"{name}_contexts", context)
    accounts = [value for (value,) in _dictionary(con, charges, f"{name}_accounts", (account,))]
    spans = _dictionary(con, charges, f"{name}_spans", days)
    dates: dict[int, dt.date] = {}
    for key, (first, last) in enumerate(spans):
        dates[2 * key], dates[2 * key + 1] = span(first, last)
    same = " AND ".join(f"c.{column} IS NOT DISTINCT FROM x.{column}" for column in context)
    same_span = " AND ".join(f"c.{column} IS NOT DISTINCT FROM s.{column}" for column in days)
    sql = f"""
        SELECT x.id, a.id, CAST(c.billed AS VARCHAR), CAST(c.listed AS VARCHAR),
            CAST(c.quantity AS VARCHAR), 2 * s.id, 2 * s.id + 1
        FROM {charges} AS c
        JOIN {name}_contexts AS x ON {same}
        JOIN {name}_accounts AS a ON c.{account} IS NOT DISTINCT FROM a.{account}
        JOIN {name}_spans AS s ON {same_span}
        ORDER BY {", ".join(f"c.{column}" for column in grain)}
    """
    (count,) = con.execute(f"SELECT count(*) FROM {charges}").fetchone()  # type: ignore[misc]
    rows = QueryRows(con, sql, {}, count, what)
    return StreamedCharges([fields(values) for values in contexts], accounts, dates, rows)


def _dictionary(
    con: duckdb.DuckDBPyConnection, charges: str, table: str, columns: Sequence[str]
) -> list[tuple]:
    """Number the distinct ``columns`` of ``charges`` into ``table`` (``id`` from 0, in
    the order of their values) and return them in that order."""
    names = ", ".join(columns)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {table} AS
        SELECT row_number() OVER (ORDER BY {names}) - 1 AS id, *
        FROM (SELECT DISTINCT {names} FROM {charges})
    """)
    return con.execute(f"SELECT {names} FROM {table} ORDER BY id").fetchall()


def checked_table(table: StreamedCharges, where: Callable[[str, str], str]) -> StreamedCharges:
    """``table`` with its text checked as :func:`~connector.contracts.checked_charges`
    checks a list of its charges, with the same errors and warnings: each distinct value
    of a context or account is checked once, not per charge.

    When a value is refused, the charges are checked one by one in the rows' order, so
    the error names the value the list's check would have named first (``where(field,
    value)`` re-reads the files for it).
    """
    values = {(name, context[position]) for context in table.contexts
              for position, name in _TEXT_FIELDS}  # fmt: skip
    values.update(("sub_account_id", account) for account in table.accounts)
    if any(
        isinstance(value, str) and charge_text_problem(name, value) is not None
        for name, value in values
    ):
        checked_charges(table, where)  # raises at the first charge holding a refused value
        raise AssertionError("a refused value passed the check of every charge")
    fitted: dict[tuple[str, str], str] = {}

    def fit(name: str, value: object) -> object:
        if not isinstance(value, str) or not value:
            return value
        key = (name, value)
        if key not in fitted:
            fitted[key] = checked_text(name, value, lambda: where(name, value))
        return fitted[key]

    contexts = [
        tuple(fit(name, value) for name, value in zip(CHARGE_CONTEXT_FIELDS, context, strict=True))
        for context in table.contexts
    ]
    accounts = [fit("sub_account_id", account) for account in table.accounts]
    return replace(table, contexts=contexts, accounts=accounts)
