"""Ingest: provider data to stored canonical charges, once per distinct source."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector.config.references import resolve_references
from connector.contracts import BillingPeriod, ChargeBatch, ChargesIngested, Provider
from connector.domain.money import total
from connector.pipeline.runtime import Runtime
from connector.pipeline.tenants import sync_tenant
from connector.storage import models as m
from connector.storage.bulk import insert_charges
from connector.storage.models import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class IngestResult:
    provider: str
    period: str
    source: str
    rows: int
    status: str  # new | unchanged | replaced


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


def store_batch(session: Session, tenant: str, provider: str, batch: ChargeBatch) -> IngestResult:
    """Make ``batch`` the period's current data, storing it unless its source hash is known.

    A batch with a new hash supersedes the period's current one (kept for drift
    reporting). A hash already stored but superseded means the provider went back
    to that earlier version: it becomes current again. The same data newly said final
    (a setting turned on) only updates the flag. Runs inside the caller's transaction:
    all of it or none.
    """
    period = batch.period
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
        return IngestResult(provider, period.key, batch.source, 0, "unchanged")
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
        return IngestResult(provider, period.key, batch.source, len(batch.charges), status)
    row = m.ChargeBatch(
        tenant_id=tenant,
        provider=provider,
        period_start=period.start,
        period_end=period.end,
        source=batch.source,
        source_hash=batch.source_hash,
        row_count=len(batch.charges),
        billed_total=total(c.billed_cost for c in batch.charges),
        final=batch.final,
    )
    session.add(row)
    session.flush()
    insert_charges(session, row.id, batch.charges)
    return IngestResult(provider, period.key, batch.source, len(batch.charges), status)


def ingest(
    runtime: Runtime, tenant: str, provider_key: str, period: BillingPeriod | None = None
) -> list[IngestResult]:
    """Fetch the provider's data and store each period's batch in its own transaction."""
    provider = make_provider(runtime, tenant, provider_key)
    with runtime.db.transaction() as session:
        sync_tenant(session, runtime.tenant(tenant))
    results = []
    for batch in provider.fetch(period):
        with runtime.db.transaction() as session:
            result = store_batch(session, tenant, provider_key, batch)
        results.append(result)
        log.info(
            "ingested %s %s %s: %s (%d rows)",
            tenant,
            provider_key,
            result.period,
            result.status,
            result.rows,
        )
        if result.status != "unchanged":
            runtime.emit(
                ChargesIngested(
                    tenant=tenant, provider=provider_key, period=result.period, rows=result.rows
                )
            )
    return results
