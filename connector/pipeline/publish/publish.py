"""Publish: deliver approved statements exactly once through the tenant's ERP outbox."""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased
from tenacity import RetryCallState, Retrying, wait_exponential_jitter

from connector.config.settings import ScheduleSettings
from connector.config.tenant import TenantConfig
from connector.contracts import (
    CheckedSink,
    PushResult,
    StatementDocument,
    StatementPushed,
)
from connector.masking import mask_secrets
from connector.pipeline.build.documents import CHUNK, load_documents
from connector.pipeline.publish.erp import make_sink
from connector.pipeline.publish.outbox import known_secrets
from connector.progress import NO_PROGRESS, Progress, counted
from connector.runtime import webhook_events
from connector.runtime.runtime import Runtime
from connector.storage import models as m
from connector.storage.models import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A failed delivery waits about 1, 2, 4, 8 minutes (capped at an hour), with up to half
# a minute of jitter so many tenants' retries after an ERP outage do not arrive at once.
_RETRY_WAIT = wait_exponential_jitter(multiplier=60, max=3600, jitter=30)


def retry_delay(attempt: int) -> dt.timedelta:
    """How long a delivery that failed its ``attempt``-th time waits (tenacity's wait)."""
    state = RetryCallState(Retrying(), None, (), {})
    state.attempt_number = attempt
    return dt.timedelta(seconds=_RETRY_WAIT(state))


# The default of ``schedule.lease_seconds``: how long an entry stays "in flight" before
# it is taken to belong to a pusher that died (the runtime's own setting is used).
IN_FLIGHT_LEASE = dt.timedelta(seconds=ScheduleSettings().lease_seconds)


def in_flight_lease(runtime: Runtime) -> dt.timedelta:
    """The daemon's ``schedule.lease_seconds``: a pusher's hold on the entries it claimed."""
    return dt.timedelta(seconds=runtime.settings.schedule.lease_seconds)


@dataclass(frozen=True, slots=True)
class PushOutcome:
    statement_id: str
    number: str | None
    state: str
    message: str


@dataclass(frozen=True, slots=True)
class Claim:
    """An outbox entry this push holds: ``attempts`` (its count once claimed) is the
    claim's token, so a pusher whose lease ran out cannot overwrite its successor."""

    entry_id: int
    statement_id: str
    attempts: int


def _due(now: dt.datetime, lease: dt.timedelta, entry=m.OutboxEntry):  # type: ignore[no-untyped-def]
    return or_(
        entry.state == "pending",
        (entry.state == "failed") & (entry.next_attempt_at <= now),
        (entry.state == "in_flight") & (entry.updated_at <= now - lease),
    )


def _claim(
    session: Session, tenant: str, lease: dt.timedelta, after: int, limit: int
) -> list[Claim]:
    """Mark up to ``limit`` of the tenant's due entries with ids above ``after`` in flight
    for this push alone; returns them by id.

    One conditional UPDATE: PostgreSQL skips rows another pusher is claiming (``SKIP
    LOCKED``) and re-checks "still due" on any row it had to wait for, so an entry is
    never handed to two pushers; SQLite's ``BEGIN IMMEDIATE`` serialises the claims.
    """
    now = utcnow()
    other = aliased(m.OutboxEntry)
    candidates = (
        select(other.id)
        .where(other.tenant_id == tenant, other.id > after, _due(now, lease, other))
        .order_by(other.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.execute(
        update(m.OutboxEntry)
        .where(m.OutboxEntry.id.in_(candidates.scalar_subquery()), _due(now, lease))
        .values(state="in_flight", attempts=m.OutboxEntry.attempts + 1, updated_at=now)
        .returning(m.OutboxEntry.id, m.OutboxEntry.statement_id, m.OutboxEntry.attempts)
        .execution_options(synchronize_session=False)
    )
    return sorted((Claim(*row) for row in claimed), key=lambda c: c.entry_id)


def _held(claims: Sequence[Claim]):  # type: ignore[no-untyped-def]
    """Rows still in flight under these claims (nobody took them over)."""
    by_attempts: dict[int, list[int]] = {}
    for claim in claims:
        by_attempts.setdefault(claim.attempts, []).append(claim.entry_id)
    return (m.OutboxEntry.state == "in_flight") & or_(
        *(
            (m.OutboxEntry.attempts == attempts) & m.OutboxEntry.id.in_(ids)
            for attempts, ids in by_attempts.items()
        )
    )


@contextmanager
def _lease_kept(runtime: Runtime, claims: Sequence[Claim]) -> Iterator[None]:
    """Renew the claims' lease while the sink works: a slow ERP is not a dead pusher."""
    every = in_flight_lease(runtime).total_seconds() / 3
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(every):
            try:
                with runtime.db.transaction() as session:
                    session.execute(
                        update(m.OutboxEntry)
                        .where(_held(claims))
                        .values(updated_at=utcnow())
                        .execution_options(synchronize_session=False)
                    )
            except Exception:  # the next renewal tries again; the lease is the backstop
                log.warning("could not renew the outbox lease", exc_info=True)

    keeper = threading.Thread(target=renew, name="outbox-lease", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()


def _documents(
    session: Session, config: TenantConfig, claims: Sequence[Claim]
) -> tuple[list[StatementDocument], dict[str, str]]:
    """The claimed statements' documents, and why any cannot be delivered (by id).

    A statement that is gone, still a Draft, or cannot be made into a document is a
    problem of its entry alone: the others are delivered all the same.
    """
    ids = [c.statement_id for c in claims]
    found: dict[str, tuple[str, str | None]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        query = select(m.Statement.id, m.Statement.status, m.Statement.number)
        found.update((i, (status, n)) for i, status, n in session.execute(query.where(
            m.Statement.id.in_(chunk))))  # fmt: skip
    problems = {}
    for statement_id in ids:
        if statement_id not in found:
            problems[statement_id] = (
                f"statement {statement_id} is no longer in the database: nothing to deliver"
            )
        elif found[statement_id][0] == "Draft":
            problems[statement_id] = (
                f"statement {statement_id} is a Draft: only approved statements are delivered"
            )
    deliverable = [i for i in ids if i not in problems]
    try:
        return load_documents(session, config, deliverable), problems
    except Exception:  # one statement's fault: find which, and deliver the others
        log.warning("a claimed statement cannot be made into a document", exc_info=True)
    documents = []
    for statement_id in deliverable:
        try:
            documents.extend(load_documents(session, config, [statement_id]))
        except Exception as exc:
            name = found[statement_id][1] or statement_id
            problems[statement_id] = (
                f"statement {name} cannot be delivered: {type(exc).__name__}: {exc}"
            )
    return documents, problems


def _delivered_before(session, tenant: str) -> bool:  # type: ignore[no-untyped-def]
    return (
        session.scalar(
            select(m.OutboxEntry.id)
            .where(m.OutboxEntry.tenant_id == tenant, m.OutboxEntry.state == "delivered")
            .limit(1)
        )
        is not None
    )


def _blocked(runtime: Runtime, claims: Sequence[Claim], gaps: Sequence[str]) -> list[PushOutcome]:
    """Hand the entries back untouched: the ERP lacks mappings a person must add first."""
    message = mask_secrets("the ERP is missing mappings; nothing was sent:\n" + "\n".join(gaps))
    outcomes = []
    with runtime.db.transaction() as session:
        session.execute(
            update(m.OutboxEntry)
            .where(_held(claims))
            .values(state="pending", attempts=m.OutboxEntry.attempts - 1, last_error=message)
            .execution_options(synchronize_session=False)
        )
        for claim in claims:
            outcomes.append(
                PushOutcome(claim.statement_id, _number(session, claim), "blocked", message)
            )
    return outcomes


def _number(session: Session, claim: Claim) -> str | None:
    statement = session.get(m.Statement, claim.statement_id)
    return None if statement is None else statement.number


def _numbers(session: Session, claims: Sequence[Claim]) -> dict[str, str | None]:
    """The claimed statements' invoice numbers, by statement id, in one query."""
    query = select(m.Statement.id, m.Statement.number)
    ids = [c.statement_id for c in claims]
    return dict(session.execute(query.where(m.Statement.id.in_(ids))).all())


def _bury(session: Session, claim: Claim, message: str) -> PushOutcome:
    """Mark an entry that can never be delivered as it is dead (a person looks at it)."""
    session.execute(
        update(m.OutboxEntry)
        .where(m.OutboxEntry.id == claim.entry_id, _held([claim]))
        .values(state="dead", last_error=message, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    log.error("outbox entry %s is dead: %s", claim.entry_id, message)
    return PushOutcome(claim.statement_id, _number(session, claim), "dead", message)


# How many outbox entries one push claims, makes into documents and hands to the sink at
# a time: the push's memory is that of one chunk however large the month (a multiple of
# the Xero sink's 50 invoices a call, so its calls stay full).
PUSH_CHUNK = 500


def push(
    runtime: Runtime, tenant: str, progress: Progress = NO_PROGRESS, chunk: int = PUSH_CHUNK
) -> list[PushOutcome]:
    """Deliver the tenant's due outbox entries to its ERP sink, ``chunk`` entries at a time.

    Entries are claimed (marked in flight, committed) before the sink is called, each by
    one push only however many run at once; a push that dies leaves them to be claimed
    again once its lease (``schedule.lease_seconds``) has run out, and a live one renews
    the lease while the sink works. Sinks are idempotent per statement revision, so the
    retry never creates a second invoice. An entry whose statement is gone or cannot be
    delivered is marked dead and reported, and the others go on. Before the tenant's
    first delivery, a sink that can check its ERP's mappings does (``CheckedSink``), on
    every chunk of that push: at a gap nothing more is sent, every gap of the chunk
    reported at once. Chunks follow the
    entries' order, and each entry is claimed at most once per call (an entry that
    fails waits for its retry). ``progress`` counts the entries settled.
    """
    config = runtime.tenant(tenant)
    lease = in_flight_lease(runtime)
    with runtime.db.transaction() as session:
        due = session.scalar(
            select(func.count()).where(m.OutboxEntry.tenant_id == tenant, _due(utcnow(), lease))
        )
        first = not _delivered_before(session, tenant)
    if due:
        progress.stage(f"pushing to {config.erp.sink}", total=due, unit="statements")
    outcomes: list[PushOutcome] = []
    after = 0
    while True:
        claimed, settled, blocked = _push_chunk(
            runtime, config, lease, after, chunk, first, progress
        )
        outcomes += settled
        for outcome in settled:
            if outcome.state == "delivered":
                runtime.emit(StatementPushed(
                    tenant=tenant, statement_id=outcome.statement_id, number=outcome.number
                ))  # fmt: skip
        if blocked or len(claimed) < chunk:
            return outcomes
        after = claimed[-1].entry_id


def _push_chunk(
    runtime: Runtime,
    config: TenantConfig,
    lease: dt.timedelta,
    after: int,
    chunk: int,
    first: bool,
    progress: Progress,
) -> tuple[list[Claim], list[PushOutcome], bool]:
    """Claim and deliver the next ``chunk`` due entries after entry ``after``: the claims,
    their outcomes, and whether the ERP's mapping check, made when ``first`` (the push
    began before the tenant's first delivery), blocked them (nothing sent)."""
    tenant = config.tenant
    with runtime.db.transaction() as session:
        claimed = _claim(session, tenant, lease, after, chunk)
        documents, problems = _documents(session, config, claimed)
        buried = [_bury(session, c, problems[c.statement_id])
                  for c in claimed if c.statement_id in problems]  # fmt: skip
        webhook_events.record_outbox(session, config, [c.entry_id for c in claimed])  # buried
        claims = [c for c in claimed if c.statement_id not in problems]
    progress.advance(len(buried))
    if not claims:
        return claimed, buried, False
    try:
        with _lease_kept(runtime, claims):
            sink = make_sink(runtime, tenant)
            if first and isinstance(sink, CheckedSink):
                gaps = sink.preflight(documents)
                if gaps:
                    return claimed, buried + _blocked(runtime, claims, gaps), True
            results = {r.statement_id: r for r in sink.push(documents)}
    except Exception as exc:  # the sink as a whole failed (or its ERP was unreachable
        # for the check): every entry is failed and retried later, not left in flight
        log.exception("sink %s failed for tenant %s", config.erp.sink, tenant)
        results = {}
        error = f"{type(exc).__name__}: {exc}"
    else:
        error = "the sink returned no result for this statement"
    return claimed, buried + _settle(runtime, config, claims, results, error, progress), False


def _settle(
    runtime: Runtime,
    config: TenantConfig,
    claims: Sequence[Claim],
    results: dict[str, PushResult],
    error: str,
    progress: Progress,
) -> list[PushOutcome]:
    """Record the sink's result for each claim: delivered, or failed (retried later) or
    dead; ``error`` stands for a result the sink did not give."""
    # An ERP's message may echo the request, credentials included: never stored in clear.
    secrets = known_secrets(runtime, config.tenant)
    outcomes = []
    with runtime.db.transaction() as session:
        # The chunk's rows locked in one statement, in id order (as every pusher locks).
        entries = {
            entry.id: entry
            for entry in session.scalars(
                select(m.OutboxEntry)
                .where(m.OutboxEntry.id.in_([c.entry_id for c in claims]))
                .order_by(m.OutboxEntry.id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        }
        numbers = _numbers(session, claims)
        settled: list[int] = []  # delivered, failed or dead by this push: their events
        for claim in counted(claims, progress):
            entry = entries[claim.entry_id]
            result = results.get(claim.statement_id)
            ours = entry.state == "in_flight" and entry.attempts == claim.attempts
            if result is not None and result.ok:
                # Delivered is a fact even if our lease ran out and another push holds
                # the entry now: its own sink call finds the invoice, not a new one.
                if entry.state != "delivered":
                    entry.state, entry.remote_id, entry.last_error = (
                        "delivered", result.remote_id, None
                    )  # fmt: skip
                    settled.append(entry.id)
            elif ours:
                entry.last_error = mask_secrets(
                    result.message if result is not None else error, secrets
                )
                permanent = result is not None and result.permanent
                entry.state = "dead" if permanent or entry.attempts >= MAX_ATTEMPTS else "failed"
                entry.next_attempt_at = utcnow() + retry_delay(entry.attempts)
                settled.append(entry.id)
            outcomes.append(
                PushOutcome(
                    claim.statement_id,
                    numbers.get(claim.statement_id),
                    entry.state,
                    entry.last_error or mask_secrets(result.message if result else "", secrets),
                )
            )
        session.flush()  # the states the events are chosen by
        webhook_events.record_outbox(session, config, settled)
    return outcomes
