"""Approval: Draft -> Open, the next gapless invoice number, and an outbox row.

A distributor's month end approves tens of thousands of Drafts in one transaction (the
numbering is all or nothing, and gapless). So approval locks and reads only the few
columns it orders and checks by, then numbers and writes ``CHUNK`` statements at a time
and lets go of each chunk: its memory does not grow with the month (issue 24).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, fields, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from connector.config.tenant import TenantConfig
from connector.contracts import StatementApproved
from connector.domain.numbering import format_invoice_number
from connector.pipeline.build.documents import CHUNK
from connector.progress import NO_PROGRESS, Progress
from connector.runtime import webhook_events
from connector.runtime.audit import record_many
from connector.runtime.runtime import Runtime
from connector.runtime.tenants import lock_tenant, sync_tenant_once
from connector.storage import models as m
from connector.storage.models import utcnow
from connector.storage.statistics import analyze_after_load
from connector.webhooks import APPROVED


class ApprovalError(Exception):
    pass


def idempotency_key(statement: m.Statement) -> str:
    """Stable per statement revision: the same push retried never creates twice."""
    return _idempotency_key(statement.tenant_id, statement.id, statement.revision)


def _idempotency_key(tenant: str, statement_id: str, revision: int) -> str:
    return f"{tenant}:{statement_id}:r{revision}"


def queue_push(session: Session, sink: str, statement: m.Statement) -> None:
    """Put ``statement`` in the outbox for ``sink``: pushed once its transaction commits."""
    session.add(
        m.OutboxEntry(
            tenant_id=statement.tenant_id,
            statement_id=statement.id,
            sink=sink,
            idempotency_key=idempotency_key(statement),
        )
    )


# Statement ids are UUIDv7s, whose first characters are the time they were made: every
# statement of one build starts alike. Ids are shown git-style, cut to the shortest
# prefix no other statement of the tenant shares, and any unique prefix is taken back.
SHORT_ID = 8  # the shortest id shown
MIN_PREFIX = 4  # the shortest prefix looked up, as git: "0" would fit every statement
CANDIDATES = 10  # how many statements an ambiguous prefix lists
_HEADS_PER_QUERY = 100  # id beginnings looked up per query by short_ids
_ID_CHARACTERS = frozenset("0123456789abcdef-")


def find_statements(session: Session, tenant: str, refs: Sequence[str]) -> list[m.Statement]:
    """Statements of ``tenant`` by id, invoice number or unique id prefix, in the order
    asked.

    An exact id or invoice number wins; any other ref of at least ``MIN_PREFIX`` hex
    digits (dashes allowed, any case) is taken as the start of an id, as git takes a
    commit's. Every ref that fits no statement, or several, is reported at once in one
    ApprovalError: an ambiguous prefix lists its candidates (short id, number, status,
    customer), an unknown ref says how to list the tenant's statements. One query per
    chunk of exact refs, then one per prefix.
    """
    by_ref: dict[str, m.Statement] = {}
    for start in range(0, len(refs), CHUNK):
        chunk = list(refs[start : start + CHUNK])
        for statement in session.scalars(
            select(m.Statement).where(
                m.Statement.tenant_id == tenant,
                m.Statement.id.in_(chunk) | m.Statement.number.in_(chunk),
            )
        ):
            by_ref[statement.id] = statement
            if statement.number:
                by_ref[statement.number] = statement
    unknown: list[str] = []
    ambiguous: list[str] = []
    for ref in dict.fromkeys(r for r in refs if r not in by_ref):
        found = _by_prefix(session, tenant, ref)
        if len(found) == 1:
            by_ref[ref] = found[0]
        elif found:
            ambiguous.append(_ambiguity(session, tenant, ref, found))
        else:
            unknown.append(ref)
    if unknown or ambiguous:
        problems = [f"tenant {tenant!r} has no statement {ref!r}" for ref in unknown]
        if unknown:
            problems[-1] += (
                f" (no id, id prefix or invoice number fits; `connector statements list "
                f"--tenant {tenant}` lists them)"
            )
        raise ApprovalError("\n".join(problems + ambiguous))
    return [by_ref[ref] for ref in refs]


def id_prefix(ref: str) -> str | None:
    """``ref`` as the start of a statement id (lower case), or None when it cannot be
    one: shorter than ``MIN_PREFIX``, or not hex digits and dashes."""
    prefix = ref.lower()
    if len(prefix) < MIN_PREFIX or not set(prefix) <= _ID_CHARACTERS:
        return None
    return prefix


def _by_prefix(session: Session, tenant: str, ref: str) -> list[m.Statement]:
    """Up to ``CANDIDATES + 1`` statements whose id starts with ``ref``; none when ``ref``
    cannot be the start of an id (too short, or not hex digits and dashes)."""
    prefix = id_prefix(ref)
    if prefix is None:
        return []
    return list(
        session.scalars(
            select(m.Statement)
            .where(
                m.Statement.tenant_id == tenant,
                m.Statement.id.startswith(prefix, autoescape=True),
            )
            .order_by(m.Statement.id)
            .limit(CANDIDATES + 1)
        )
    )


def _ambiguity(session: Session, tenant: str, ref: str, found: list[m.Statement]) -> str:
    """What an ambiguous prefix fits: each candidate by its own short id."""
    shown = found[:CANDIDATES]
    shorts = short_ids(session, tenant, [s.id for s in shown])
    lines = [
        f"  {shorts[s.id]}  {s.number or '(no number)'}  {s.status}  customer "
        f"{s.customer_id}  {s.provider} {s.period_start:%Y-%m}"
        for s in shown
    ]
    more = ""
    if len(found) > CANDIDATES:
        count = session.scalar(
            select(func.count())
            .select_from(m.Statement)
            .where(
                m.Statement.tenant_id == tenant,
                m.Statement.id.startswith(ref.lower(), autoescape=True),
            )
        )
        more = f" (the first {CANDIDATES} of {count} shown)"
    return (
        f"statement id prefix {ref!r} of tenant {tenant!r} fits several statements{more}; "
        "give more of the id, or the invoice number:\n" + "\n".join(lines)
    )


def short_ids(session: Session, tenant: str, ids: Collection[str]) -> dict[str, str]:
    """Each of ``ids`` (statements of ``tenant``) as shown: its shortest prefix of at
    least ``SHORT_ID`` characters, not ending in a dash, that starts no other statement
    id of the tenant and is no invoice number (a number is found before a prefix).

    Only ids sharing their first ``SHORT_ID`` characters can need more, so only those
    are read. Sorted in Python, not by the database: PostgreSQL's collation may order
    dashes apart from code points, and common prefixes need code-point order.
    """
    heads = sorted({ident[:SHORT_ID] for ident in ids})
    near = set(ids)
    for start in range(0, len(heads), _HEADS_PER_QUERY):
        chosen = heads[start : start + _HEADS_PER_QUERY]
        near.update(
            session.scalars(
                select(m.Statement.id).where(
                    m.Statement.tenant_id == tenant,
                    or_(*(m.Statement.id.startswith(h, autoescape=True) for h in chosen)),
                )
            )
        )
    ordered = sorted(near)
    position = {ident: index for index, ident in enumerate(ordered)}
    length: dict[str, int] = {}
    for ident in ids:
        index = position[ident]
        neighbours = ordered[max(index - 1, 0) : index] + ordered[index + 1 : index + 2]
        shared = max((_common_length(ident, other) for other in neighbours), default=0)
        length[ident] = max(shared + 1, SHORT_ID)
    while True:
        shorts = {ident: _cut(ident, n) for ident, n in length.items()}
        taken = _numbers_among(session, tenant, set(shorts.values()))
        clashing = [i for i, short in shorts.items() if short in taken and short != i]
        if not clashing:
            return shorts
        for ident in clashing:
            length[ident] = len(shorts[ident]) + 1


def _common_length(a: str, b: str) -> int:
    return len(os.path.commonprefix([a, b]))


def _cut(ident: str, length: int) -> str:
    """``ident`` cut to ``length`` characters, one more when that would end in a dash
    (an id lengthened past an invoice number it equals: ``01a24ecc-``)."""
    short = ident[:length]
    return ident[: length + 1] if short.endswith("-") else short


def _numbers_among(session: Session, tenant: str, candidates: set[str]) -> set[str]:
    """The invoice numbers of ``tenant`` among ``candidates``."""
    wanted = sorted(candidates)
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        found.update(
            session.scalars(
                select(m.Statement.number).where(
                    m.Statement.tenant_id == tenant,
                    m.Statement.number.in_(wanted[start : start + CHUNK]),
                )
            )
        )
    return found


def numbering_order(statement: m.Statement | Approved) -> tuple[dt.date, str, str, str, int]:
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


def reserve_numbers(session: Session, tenant: str, count: int) -> int:
    """Lock the tenant row, the invoice counter's lock, until the transaction ends, and
    move the counter on by ``count``: the first of the numbers reserved, in one round
    trip (approvals and voids; a lock then an ORM flush of the counter were two, while
    every other approval of the tenant waited). A transaction that fails after this
    gives the numbers back as it rolls back."""
    counter = m.Tenant.next_invoice_number
    return session.execute(
        update(m.Tenant)
        .where(m.Tenant.id == tenant)
        .values(next_invoice_number=counter + count)
        .returning(counter - count)
        .execution_options(synchronize_session=False)
    ).scalar_one()


@dataclass(frozen=True, slots=True)
class Approved:
    """A statement as approval locks, checks and returns it: the columns it is ordered
    and checked by, and what callers show of it (every field of the API's summary and
    of a webhook event). Read before numbering, ``number`` and ``status`` are as stored
    (a Draft has no number).

    Small on purpose: approving a distributor's month hands back tens of thousands of
    these, where full statements held by one session made memory grow with the month.
    Read the statement itself for anything more (its lines, its details).
    """

    id: str
    number: str | None
    status: str
    customer_id: str
    provider: str
    period_start: dt.date
    kind: str
    part: int
    revision: int
    currency: str
    total: Decimal
    period_end: dt.date
    issue_date: dt.date
    due_date: dt.date
    subtotal: Decimal
    tax: Decimal
    billing_currency: str | None
    exchange_rate: Decimal | None


# Locked and read in the order of Approved's fields: none of the JSON or the details.
_COLUMNS = tuple(getattr(m.Statement, f.name) for f in fields(Approved))


_TABLE = m.Statement.__table__
# Opening a numbered statement: one UPDATE sent for a whole chunk (executemany), not
# the ORM's bulk update by primary key, which cost a millisecond a call to set up.
_OPEN = (
    update(_TABLE)
    .where(_TABLE.c.id == bindparam("b_id"))
    .values(number=bindparam("b_number"), status="Open", approved_at=bindparam("b_at"))
)


def _locked(query: Select) -> Select:
    # Row locks in id order (two approvers cannot deadlock), the columns read by the
    # locking query itself: the status checked is the status changed.
    return query.order_by(m.Statement.id).with_for_update()


def _lock_drafts(session: Session, tenant: str, provider: str | None) -> list[Approved]:
    """Every Draft of ``tenant`` (of ``provider`` when given), locked and read."""
    query = select(*_COLUMNS).where(m.Statement.tenant_id == tenant, m.Statement.status == "Draft")
    if provider:
        query = query.where(m.Statement.provider == provider)
    # Read a chunk at a time from a server-side cursor: every Draft of the month.
    return [
        Approved(*row) for row in session.execute(_locked(query).execution_options(yield_per=CHUNK))
    ]


def exact_refs(
    reader: Session | Connection, seen: Sequence[ColumnElement[bool]], refs: Sequence[str]
) -> dict[str, tuple[str, str | None]]:
    """Each of ``refs`` that is exactly the id or the invoice number of a statement
    ``seen`` selects, with that statement's (id, number); the others are left out.
    Reads those two columns only, ``CHUNK`` refs a query."""
    found: dict[str, tuple[str, str | None]] = {}
    for start in range(0, len(refs), CHUNK):
        chunk = list(refs[start : start + CHUNK])
        named = m.Statement.id.in_(chunk) | m.Statement.number.in_(chunk)
        for ident, number in reader.execute(
            select(m.Statement.id, m.Statement.number).where(*seen, named)
        ):
            found[ident] = (ident, number)
            if number:
                found[number] = (ident, number)
    return found


def _named(session: Session, tenant: str, refs: Sequence[str]) -> dict[str, str]:
    """The statements ``refs`` name, as :func:`find_statements` finds them, in the order
    named: each id, with how an error names it (its number, else its id). Exact ids and
    numbers are read as those two columns; only the other refs go to find_statements."""
    by_ref = exact_refs(session, [m.Statement.tenant_id == tenant], refs)
    rest = [ref for ref in refs if ref not in by_ref]
    if rest:
        for ref, statement in zip(rest, find_statements(session, tenant, rest), strict=True):
            by_ref[ref] = (statement.id, statement.number)
    return {ident: number or ident for ident, number in (by_ref[ref] for ref in refs)}


def _lock_named(session: Session, tenant: str, named: dict[str, str]) -> list[Approved]:
    """``named`` (ids, each with how an error names it) locked and read; one deleted
    meanwhile is an ApprovalError."""
    ids = sorted(named)
    locked = [
        Approved(*row)
        for start in range(0, len(ids), CHUNK)
        for row in session.execute(
            _locked(select(*_COLUMNS).where(m.Statement.id.in_(ids[start : start + CHUNK])))
        )
    ]
    held = {s.id for s in locked}
    gone = [label for ident, label in named.items() if ident not in held]
    if gone:
        raise ApprovalError(
            f"tenant {tenant!r} has no statement {gone[0]!r} any more (deleted meanwhile)"
        )
    return locked


def _event_rows(chunk: Sequence[Approved]) -> list[dict[str, Any]]:
    """The chunk as webhook events describe it (webhook_events.statement_data)."""
    return [asdict(s) for s in chunk]


def _approve_chunk(
    session: Session,
    first: int,
    config: TenantConfig,
    actor: str,
    drafts: Sequence[Approved],
    announce: bool,
) -> list[Approved]:
    """Number ``drafts`` (in numbering order) from the reserved number ``first``, open
    them, queue them for the ERP, audit and announce them; then write it all and let go
    of what the session held, so each chunk's memory is given back before the next. The
    statements as approved."""
    fmt, tenant = config.invoice_options.invoice_number_format, config.tenant
    approved = [
        replace(s, number=format_invoice_number(fmt, first + i), status="Open")
        for i, s in enumerate(drafts)
    ]
    now = utcnow()
    session.execute(_OPEN, [{"b_id": s.id, "b_number": s.number, "b_at": now} for s in approved])
    session.execute(
        insert(m.OutboxEntry),
        [{"tenant_id": tenant, "statement_id": s.id, "sink": config.erp.sink,
          "idempotency_key": _idempotency_key(tenant, s.id, s.revision)} for s in approved],
    )  # fmt: skip
    entries = [(s.id, {"number": s.number}) for s in approved]
    record_many(session, tenant, actor, "statement.approve", entries)
    if announce:
        webhook_events.record(session, config, APPROVED, _event_rows(approved))
    session.flush()
    session.expunge_all()
    return approved


def approve(
    runtime: Runtime,
    tenant: str,
    ids: Sequence[str] | None,
    actor: str,
    provider: str | None = None,
    progress: Progress = NO_PROGRESS,
) -> list[Approved]:
    """Approve the given Drafts (all Drafts of the tenant, or of ``provider``, when ids is None).

    Each statement is locked and re-read before its status is checked: a Draft deleted
    or approved by someone else while this waited for the lock is refused, never
    numbered twice or numbered after its deletion.

    Numbers come from the tenant row, locked for the transaction, so approvals by
    several processes at once stay unique and gapless. They follow
    :func:`numbering_order` (period start, customer id, provider, kind, part), whatever
    order ``ids`` are given or stored in; the statements are returned in that order,
    as :class:`Approved` records. All are approved in one transaction, written
    ``CHUNK`` at a time. ``progress`` counts the statements numbered.
    """
    config = runtime.tenant(tenant)
    # The tenant file's counter and customers are in the database before numbering:
    # synced once per loaded file, not on every approval (sync_tenant_once says why).
    sync_tenant_once(runtime.db, config)
    with runtime.db.transaction() as session:
        # Which statements the refs name is read before the tenant's lock, which every
        # approval of the tenant waits for; the same statement named twice (by id and
        # by number) is approved once.
        named = None if ids is None else _named(session, tenant, ids)
        # Then the tenant row is locked before any status is read: a second approver
        # waits here, then sees the first one's numbers and statuses. Named statements
        # reserve their numbers as they lock it (any not a Draft any more fails the
        # transaction, and the numbers with it); every Draft, once counted.
        if named is None:
            lock_tenant(session, tenant)
            statements = _lock_drafts(session, tenant, provider)
            first = reserve_numbers(session, tenant, len(statements))
        else:
            first = reserve_numbers(session, tenant, len(named))
            statements = _lock_named(session, tenant, named)
        statements.sort(key=numbering_order)
        not_drafts = [s.number or s.id for s in statements if s.status != "Draft"]
        if not_drafts:
            raise ApprovalError(
                f"only Drafts can be approved; already approved: {', '.join(not_drafts)}"
            )
        progress.stage("approving Drafts", total=len(statements), unit="statements")
        announce = any(endpoint.wants(APPROVED) for endpoint in config.webhooks)
        for start in range(0, len(statements), CHUNK):
            chunk = statements[start : start + CHUNK]
            statements[start : start + CHUNK] = _approve_chunk(
                session, first + start, config, actor, chunk, announce
            )
            progress.advance(len(chunk))
        # The pushes claim them through the outbox's due index.
        analyze_after_load(session, m.OutboxEntry.__tablename__, len(statements))
    for statement in statements:
        runtime.emit(
            StatementApproved(tenant=tenant, statement_id=statement.id, number=statement.number)
        )
    return statements
