"""Publish: render statements to files and deliver approved ones through the outbox."""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select
from tenacity import RetryCallState, Retrying, wait_exponential_jitter

from connector.contracts import CheckedSink, StatementPushed
from connector.pipeline.documents import load_documents, statement_document
from connector.pipeline.erp import make_sink, tenant_renderer
from connector.pipeline.runtime import Runtime
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


# An entry left "in flight" this long belongs to a process that died mid-push.
IN_FLIGHT_LEASE = dt.timedelta(minutes=10)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all (temp file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def statement_basename(statement: m.Statement) -> str:
    label = statement.number or f"draft-{statement.id[:8]}"
    return f"{statement.provider}-{statement.period_start:%Y-%m}-{statement.customer_id}-{label}"


def export(
    runtime: Runtime,
    tenant: str,
    statement_ids: Sequence[str],
    formats: Sequence[str],
    out_dir: Path,
) -> list[Path]:
    """Render each statement in each format into ``out_dir``; returns the paths written."""
    config = runtime.tenant(tenant)
    renderers = runtime.plugins.renderers
    chosen = [(fmt, tenant_renderer(config, renderers.get(fmt))) for fmt in formats]  # fail first
    written = []
    with runtime.db.transaction() as session:
        for statement_id in statement_ids:
            statement = session.get(m.Statement, statement_id)
            document = statement_document(config, statement)
            for fmt, renderer in chosen:
                path = out_dir / f"{statement_basename(statement)}{renderers.suffix(fmt)}"
                write_atomically(path, renderer.render(document, fmt))
                written.append(path)
    return written


@dataclass(frozen=True, slots=True)
class PushOutcome:
    statement_id: str
    number: str | None
    state: str
    message: str


def _due_entries(session, tenant: str) -> list[m.OutboxEntry]:  # type: ignore[no-untyped-def]
    now = utcnow()
    return list(
        session.scalars(
            select(m.OutboxEntry)
            .where(
                m.OutboxEntry.tenant_id == tenant,
                or_(
                    m.OutboxEntry.state == "pending",
                    (m.OutboxEntry.state == "failed") & (m.OutboxEntry.next_attempt_at <= now),
                    (m.OutboxEntry.state == "in_flight")
                    & (m.OutboxEntry.updated_at <= now - IN_FLIGHT_LEASE),
                ),
            )
            .order_by(m.OutboxEntry.id)
        )
    )


def _delivered_before(session, tenant: str) -> bool:  # type: ignore[no-untyped-def]
    return (
        session.scalar(
            select(m.OutboxEntry.id)
            .where(m.OutboxEntry.tenant_id == tenant, m.OutboxEntry.state == "delivered")
            .limit(1)
        )
        is not None
    )


def _blocked(runtime: Runtime, ids: Sequence[int], gaps: Sequence[str]) -> list[PushOutcome]:
    """Hand the entries back untouched: the ERP lacks mappings a person must add first."""
    message = "the ERP is missing mappings; nothing was sent:\n" + "\n".join(gaps)
    outcomes = []
    with runtime.db.transaction() as session:
        for entry_id in ids:
            entry = session.get(m.OutboxEntry, entry_id)
            entry.state, entry.attempts, entry.last_error = "pending", entry.attempts - 1, message
            number = session.get(m.Statement, entry.statement_id).number
            outcomes.append(PushOutcome(entry.statement_id, number, "blocked", message))
    return outcomes


def push(runtime: Runtime, tenant: str) -> list[PushOutcome]:
    """Deliver the tenant's due outbox entries to its ERP sink in one batch.

    Entries are marked in flight (committed) before the sink is called, so a crash
    leaves them to be retried after the lease; sinks are idempotent per statement
    revision, so the retry never creates a second invoice. Before the tenant's first
    delivery, a sink that can check its ERP's mappings does (``CheckedSink``): any gap
    and nothing is sent, every gap reported at once.
    """
    config = runtime.tenant(tenant)
    with runtime.db.transaction() as session:
        entries = _due_entries(session, tenant)
        for entry in entries:
            entry.state, entry.attempts = "in_flight", entry.attempts + 1
        ids = [e.id for e in entries]
        documents = load_documents(session, config, [e.statement_id for e in entries])
        first_push = not _delivered_before(session, tenant)
    if not ids:
        return []
    try:
        sink = make_sink(runtime, tenant)
        if first_push and isinstance(sink, CheckedSink):
            gaps = sink.preflight(documents)
            if gaps:
                return _blocked(runtime, ids, gaps)
        results = {r.statement_id: r for r in sink.push(documents)}
    except Exception as exc:  # the sink as a whole failed (or its ERP was unreachable
        # for the check): every entry is failed and retried later, not left in flight
        log.exception("sink %s failed for tenant %s", config.erp.sink, tenant)
        results = {}
        error = f"{type(exc).__name__}: {exc}"
    else:
        error = "the sink returned no result for this statement"
    outcomes = []
    with runtime.db.transaction() as session:
        for entry_id in ids:
            entry = session.get(m.OutboxEntry, entry_id)
            result = results.get(entry.statement_id)
            if result is not None and result.ok:
                entry.state, entry.remote_id, entry.last_error = "delivered", result.remote_id, None
            else:
                entry.last_error = result.message if result is not None else error
                permanent = result is not None and result.permanent
                entry.state = "dead" if permanent or entry.attempts >= MAX_ATTEMPTS else "failed"
                entry.next_attempt_at = utcnow() + retry_delay(entry.attempts)
            statement = session.get(m.Statement, entry.statement_id)
            outcomes.append(
                PushOutcome(
                    entry.statement_id,
                    statement.number,
                    entry.state,
                    entry.last_error or (result.message if result else ""),
                )
            )
    for outcome in outcomes:
        if outcome.state == "delivered":
            runtime.emit(
                StatementPushed(
                    tenant=tenant, statement_id=outcome.statement_id, number=outcome.number
                )
            )
    return outcomes
