"""Publish: render statements to files and deliver approved ones through the outbox."""

from __future__ import annotations

import datetime as dt
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import or_, select

from connector.config.references import resolve_references
from connector.config.tenant import TenantConfig
from connector.contracts import Renderer, SinkContext, StatementDocument, StatementPushed
from connector.pipeline.documents import statement_document
from connector.pipeline.runtime import Runtime
from connector.pipeline.tokens import DatabaseTokenStore, fernet
from connector.storage import models as m
from connector.storage.models import utcnow

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
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


def _renderer(config: TenantConfig, cls: type) -> Renderer:
    """A renderer, given the tenant's ``renderers.<name>`` settings when it has any."""
    settings = config.renderers.get(cls.name)
    return cls() if settings is None else cls(settings, config.base_dir)


def renderer_for(
    runtime: Runtime, config: TenantConfig
) -> Callable[[StatementDocument, str], bytes]:
    """``render(document, fmt)`` with the installed renderers, for sinks' attachments."""

    def render(document: StatementDocument, fmt: str) -> bytes:
        return _renderer(config, runtime.plugins.renderers.get(fmt)).render(document, fmt)

    return render


def token_store(runtime: Runtime, tenant: str) -> DatabaseTokenStore | None:
    """The tenant's ERP token store; None until the daemon has a token key."""
    key = runtime.settings.token_key
    return None if not key else DatabaseTokenStore(runtime.db, tenant, fernet(key))


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
    chosen = [(fmt, _renderer(config, renderers.get(fmt))) for fmt in formats]  # fail first
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


def push(runtime: Runtime, tenant: str) -> list[PushOutcome]:
    """Deliver the tenant's due outbox entries to its ERP sink in one batch.

    Entries are marked in flight (committed) before the sink is called, so a crash
    leaves them to be retried after the lease; sinks are idempotent per statement
    revision, so the retry never creates a second invoice.
    """
    config = runtime.tenant(tenant)
    sink_cls = runtime.plugins.sinks.get(config.erp.sink)
    with runtime.db.transaction() as session:
        entries = _due_entries(session, tenant)
        for entry in entries:
            entry.state, entry.attempts = "in_flight", entry.attempts + 1
        ids = [e.id for e in entries]
        documents = [
            statement_document(config, session.get(m.Statement, e.statement_id)) for e in entries
        ]
    if not ids:
        return []
    context = SinkContext(
        tenant=tenant,
        output_dir=runtime.output_dir / tenant,
        run_id=runtime.run_id,
        tokens=token_store(runtime, tenant),
        render=renderer_for(runtime, config),
    )
    sink = sink_cls(resolve_references(config.erp.settings, config.base_dir), context)
    try:
        results = {r.statement_id: r for r in sink.push(documents)}
    except Exception as exc:  # the sink as a whole failed: every entry retries later
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
                entry.next_attempt_at = utcnow() + dt.timedelta(minutes=2**entry.attempts)
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
