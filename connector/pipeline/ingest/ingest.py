"""Ingest: provider data to stored canonical charges, once per distinct source."""

from __future__ import annotations

import datetime as dt
import inspect
import logging
from collections.abc import Generator, Iterable, Sequence
from contextlib import closing, nullcontext
from dataclasses import dataclass, replace

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector.config.references import resolve_references
from connector.contracts import (
    BillingPeriod,
    CanonicalCharge,
    ChargeBatch,
    ChargesIngested,
    ChargeTable,
    Provider,
)
from connector.domain.money import ZERO, total
from connector.pipeline.close.finality import Finality, finality
from connector.progress import NO_PROGRESS, Progress
from connector.runtime.runtime import Runtime
from connector.runtime.tenants import sync_tenant
from connector.storage import models as m
from connector.storage.bulk import charges_loading, insert_charge_table, insert_charges
from connector.storage.models import utcnow

log = logging.getLogger(__name__)

# Charges stored per insert: how often storing reports progress, and how many rows of a
# streamed period are held at once. Large enough that the extra statements cost nothing
# measurable (a COPY or executemany each).
STORE_CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What ingesting one period did.

    :param rows: charges stored by this run (0 when unchanged).
    :param charges: charges the source holds for the period, whatever the status.
    :param final: the provider marked this data final.
    :param finality: whether the period is final and by which signal (set by
        :func:`ingest`; ``None`` from :func:`store_batch` alone).
    """

    provider: str
    period: str
    source: str
    rows: int
    status: str  # new | unchanged | replaced
    charges: int = 0
    final: bool = False
    finality: Finality | None = None


def make_provider(runtime: Runtime, tenant: str, provider_key: str) -> Provider:
    """The tenant's configured provider plugin, instantiated with its settings.

    Settings the class takes from the tenant's invoice options (the Azure Billing Day)
    are filled in where the provider's own settings leave them out.
    """
    config = runtime.tenant(tenant)
    try:
        provider_config = config.providers[provider_key]
    except KeyError:
        known = ", ".join(sorted(config.providers)) or "none"
        raise LookupError(
            f"tenant {tenant!r} has no provider {provider_key!r} (providers: {known})"
        ) from None
    cls = runtime.plugins.providers.get(provider_config.plugin or provider_key)
    settings = resolve_references(provider_config.settings, config.base_dir)
    for setting, option in getattr(cls, "invoice_option_settings", {}).items():
        settings.setdefault(setting, getattr(config.invoice_options, option))
    return cls(settings, config.base_dir)


def store_batch(
    session: Session,
    tenant: str,
    provider: str,
    batch: ChargeBatch,
    progress: Progress = NO_PROGRESS,
) -> IngestResult:
    """Make ``batch`` the period's current data, storing it unless its source hash is known.

    A batch with a new hash supersedes the period's current one (kept for drift
    reporting). A hash already stored but superseded means the provider went back
    to that earlier version: it becomes current again. The same data newly said final
    (a setting turned on) only updates the flag. Runs inside the caller's transaction:
    all of it or none. ``progress`` counts the charges stored.
    """
    period = batch.period
    counts = {"charges": len(batch.charges), "final": batch.final}
    this_period = (
        m.ChargeBatch.tenant_id == tenant,
        m.ChargeBatch.provider == provider,
        m.ChargeBatch.period_start == period.start,
    )
    known = session.execute(
        select(m.ChargeBatch.id, m.ChargeBatch.superseded_at, m.ChargeBatch.final).where(
            *this_period, m.ChargeBatch.source_hash == batch.source_hash
        )
    ).one_or_none()
    if known is not None and known.superseded_at is None:
        if known.final != batch.final:  # the same data, now (or no longer) said final
            session.execute(
                update(m.ChargeBatch).where(m.ChargeBatch.id == known.id).values(final=batch.final)
            )
        return IngestResult(provider, period.key, batch.source, 0, "unchanged", **counts)
    superseded = session.execute(
        update(m.ChargeBatch)
        .where(*this_period, m.ChargeBatch.superseded_at.is_(None))
        .values(superseded_at=utcnow())
    ).rowcount
    status = "replaced" if superseded else "new"
    if known is not None:
        session.execute(
            update(m.ChargeBatch)
            .where(m.ChargeBatch.id == known.id)
            .values(superseded_at=None, final=batch.final, source=batch.source)
        )
        return IngestResult(
            provider, period.key, batch.source, len(batch.charges), status, **counts
        )
    table = batch.charges if isinstance(batch.charges, ChargeTable) else None
    row = m.ChargeBatch(
        tenant_id=tenant,
        provider=provider,
        period_start=period.start,
        period_end=period.end,
        source=batch.source,
        source_hash=batch.source_hash,
        row_count=len(batch.charges),
        # A table's rows are read once, as they stream: its total is summed on the way.
        billed_total=total(c.billed_cost for c in batch.charges) if table is None else ZERO,
        final=batch.final,
    )
    session.add(row)
    session.flush()
    progress.stage(f"storing {period.key} charges", total=len(batch.charges), unit="charges")
    with charges_loading(session):
        if table is None:
            _insert(session, row.id, batch.charges, progress)
        else:
            row.billed_total = insert_charge_table(
                session, row.id, table, STORE_CHUNK, progress.advance
            )
    return IngestResult(provider, period.key, batch.source, len(batch.charges), status, **counts)


def _insert(
    session: Session, batch_id: int, charges: Sequence[CanonicalCharge], progress: Progress
) -> None:
    for start in range(0, len(charges), STORE_CHUNK):
        part = charges[start : start + STORE_CHUNK]
        insert_charges(session, batch_id, part)
        progress.advance(len(part))


def _fetch(
    provider: Provider, key: str, period: BillingPeriod | None, progress: Progress
) -> Iterable[ChargeBatch]:
    """``provider.fetch(period)``, passing ``progress`` to a fetch that takes it; for one
    that does not, a stage without counts (a spinner, and a log line now and then)."""
    try:
        takes_progress = "progress" in inspect.signature(provider.fetch).parameters
    except (TypeError, ValueError):  # no signature to read (a C callable): not offered
        takes_progress = False
    if takes_progress:
        return provider.fetch(period, progress=progress)  # type: ignore[call-arg]
    progress.stage(f"reading {key} billing data", unit="batches")
    return provider.fetch(period)


def ingest(
    runtime: Runtime,
    tenant: str,
    provider_key: str,
    period: BillingPeriod | None = None,
    progress: Progress = NO_PROGRESS,
    today: dt.date | None = None,
) -> list[IngestResult]:
    """Fetch the provider's data and store each period's batch in its own transaction.

    Each result says whether the period is final on ``today`` and by which signal
    (:mod:`connector.pipeline.close.finality`); nothing is closed here. ``progress`` follows
    the provider's read (when its ``fetch`` reports it) and the charges stored.
    """
    config = runtime.tenant(tenant)
    provider = make_provider(runtime, tenant, provider_key)
    today = today or dt.date.today()
    with runtime.db.transaction() as session:
        sync_tenant(session, config)
    results = []
    batches = iter(_fetch(provider, provider_key, period, progress))
    # Closed however the loop ends: a provider streaming rows holds its files open.
    with closing(batches) if isinstance(batches, Generator) else nullcontext():
        for batch in batches:
            results.append(_ingest_batch(runtime, tenant, provider_key, batch, progress, today))
    return results


def _ingest_batch(
    runtime: Runtime,
    tenant: str,
    provider_key: str,
    batch: ChargeBatch,
    progress: Progress,
    today: dt.date,
) -> IngestResult:
    """Store one fetched batch in its own transaction, log it and announce it."""
    config = runtime.tenant(tenant)
    with runtime.db.transaction() as session:
        stored = store_batch(session, tenant, provider_key, batch, progress)
        final = finality(session, config, provider_key, batch.period, batch.final, today)
    result = replace(stored, finality=final)
    log.info(
        "ingested %s %s %s: %s (%d charges); %s: %s",
        tenant,
        provider_key,
        result.period,
        result.status,
        result.charges,
        "final" if final.final else "not final",
        final.why,
    )
    if result.status != "unchanged":
        runtime.emit(
            ChargesIngested(
                tenant=tenant, provider=provider_key, period=result.period, rows=result.rows
            )
        )
    return result
