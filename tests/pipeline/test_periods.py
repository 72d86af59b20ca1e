"""``YYYY-MM`` on the command line names the stored period that starts in that month."""

from __future__ import annotations

import datetime as dt

from connector.contracts import BillingPeriod, ChargeBatch
from connector.pipeline.ingest.ingest import store_batch
from connector.runtime.periods import resolve_period
from connector.runtime.tenants import sync_tenant

ANNIVERSARY = BillingPeriod(dt.date(2026, 9, 15), dt.date(2026, 10, 15))


def test_a_mid_month_period_is_found_by_the_month_it_starts_in(runtime) -> None:
    """SoftLayer's anniversary day 15: 2026-09 is 2026-09-15 .. 2026-10-15; a month
    without stored data is the calendar month; another tenant's data does not count."""
    with runtime.db.transaction() as session:
        sync_tenant(session, runtime.tenant("acme"))
        store_batch(session, "acme", "aws", ChargeBatch(ANNIVERSARY, "test", "h1", []))
    assert resolve_period(runtime, "acme", "aws", "2026-09") == ANNIVERSARY
    assert resolve_period(runtime, "acme", "aws", "2026-10") == BillingPeriod(
        dt.date(2026, 10, 1), dt.date(2026, 11, 1)
    )
    assert resolve_period(runtime, "acme", "azure", "2026-09") == BillingPeriod(
        dt.date(2026, 9, 1), dt.date(2026, 10, 1)
    )
