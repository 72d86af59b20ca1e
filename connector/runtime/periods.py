"""Which billing period an operator means by ``YYYY-MM``, for one tenant and provider."""

from __future__ import annotations

from sqlalchemy import select

from connector.contracts import BillingPeriod
from connector.domain.periods import parse_period
from connector.runtime.runtime import Runtime
from connector.storage import models as m


def resolve_period(runtime: Runtime, tenant: str, provider: str, key: str) -> BillingPeriod:
    """The period ``key`` names: the stored period that starts in that month, else the
    calendar month.

    A period is named by the month it starts in (``BillingPeriod.key``). Most are
    calendar months, but Azure's billing day and SoftLayer's anniversary day start
    them mid-month (2026-09-16 .. 2026-10-16 is ``2026-09``); the provider plugin
    decided those bounds when the data was ingested, so they are read back here.

    :raises ValueError: ``key`` is not ``YYYY-MM``.
    """
    month = parse_period(key)
    with runtime.db.transaction() as session:
        found = session.execute(
            select(m.ChargeBatch.period_start, m.ChargeBatch.period_end)
            .where(
                m.ChargeBatch.tenant_id == tenant,
                m.ChargeBatch.provider == provider,
                m.ChargeBatch.period_start >= month.start,
                m.ChargeBatch.period_start < month.end,
            )
            .order_by(m.ChargeBatch.period_start)
            .limit(1)
        ).first()
    return month if found is None else BillingPeriod(*found)


def in_month(key: str):  # type: ignore[no-untyped-def]
    """A filter on statements whose period starts in month ``key`` (``YYYY-MM``)."""
    month = parse_period(key)
    return (m.Statement.period_start >= month.start) & (m.Statement.period_start < month.end)
