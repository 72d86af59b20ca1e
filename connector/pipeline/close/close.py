"""Period close: provider says final, an operator signals it, or N business days pass."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.config.tenant import TenantConfig
from connector.contracts import BillingPeriod
from connector.domain.business_days import closes_on
from connector.pipeline.close import period_config
from connector.runtime.runtime import Runtime
from connector.runtime.tenants import sync_tenant
from connector.storage import models as m


def closed_reason(
    session: Session, tenant: str, provider: str, period: BillingPeriod
) -> str | None:
    row = session.get(m.PeriodClose, (tenant, provider, period.start))
    return None if row is None else row.reason


def _record(
    session: Session, config: TenantConfig, provider: str, period: BillingPeriod, reason: str
) -> str:
    """Close the period, recording what prices it (a closed month stays closed)."""
    existing = closed_reason(session, config.tenant, provider, period)
    if existing is not None:
        return existing
    session.add(
        m.PeriodClose(
            tenant_id=config.tenant, provider=provider, period_start=period.start, reason=reason,
            config=period_config.take(config, period),
        )
    )  # fmt: skip
    return reason


def signal_close(runtime: Runtime, tenant: str, provider: str, period: BillingPeriod) -> str:
    """An operator says the period is final (the distributor's closure email)."""
    config = runtime.tenant(tenant)
    if provider not in config.providers:
        known = ", ".join(sorted(config.providers)) or "none"
        raise LookupError(f"tenant {tenant!r} has no provider {provider!r} (providers: {known})")
    with runtime.db.transaction() as session:
        sync_tenant(session, config)
        return _record(session, config, provider, period, "manual")


def detect_close(
    runtime: Runtime, tenant: str, provider: str, period: BillingPeriod, today: dt.date
) -> str | None:
    """Close the period if the provider marked its data final or the business days passed.

    Returns the reason it is closed for, or None while it is still open.
    """
    config = runtime.tenant(tenant)
    rule, country = config.providers[provider].close, config.close_country(provider)
    with runtime.db.transaction() as session:
        reason = closed_reason(session, tenant, provider, period)
        if reason is not None:
            return reason
        final = session.scalar(
            select(m.ChargeBatch.final).where(
                m.ChargeBatch.tenant_id == tenant,
                m.ChargeBatch.provider == provider,
                m.ChargeBatch.period_start == period.start,
                m.ChargeBatch.superseded_at.is_(None),
            )
        )
        if final:
            return _record(session, config, provider, period, "provider")
        if today >= closes_on(period.end, rule.business_days, country):
            return _record(session, config, provider, period, "business-days")
    return None
