"""The business-day close skips the public holidays of the tenant's country.

April 2026 ends on Thursday the 30th. Five business days on, in the US: Fri 1, Mon 4,
Tue 5, Wed 6, Thu 7 May, so it closes on 7 May. In Great Britain Monday 4 May is the
Early May bank holiday: Fri 1, Tue 5, Wed 6, Thu 7, Fri 8, so it closes on 8 May.
"""

from __future__ import annotations

import datetime as dt

import pytest

from connector.contracts import BillingPeriod
from connector.pipeline.close.close import detect_close
from connector.runtime.tenants import sync_tenant

APRIL = BillingPeriod(dt.date(2026, 4, 1), dt.date(2026, 5, 1))
US_CLOSE, GB_CLOSE = dt.date(2026, 5, 7), dt.date(2026, 5, 8)


def set_countries(runtime, profile: str, close: str | None = None) -> None:
    config = runtime.tenants["acme"]
    aws = config.providers["aws"]
    providers = {
        **config.providers,
        "aws": aws.model_copy(update={"close": aws.close.model_copy(update={"country": close})}),
    }
    runtime.tenants["acme"] = config.model_copy(
        update={
            "profile": config.profile.model_copy(update={"country": profile}),
            "providers": providers,
        }
    )
    with runtime.db.transaction() as session:
        sync_tenant(session, runtime.tenant("acme"))


@pytest.mark.parametrize(
    ("profile", "close", "closes"),
    [
        ("US", None, US_CLOSE),
        ("GB", None, GB_CLOSE),
        ("US", "GB", GB_CLOSE),
        ("GB", "US", US_CLOSE),
    ],
)
def test_the_close_waits_for_the_countrys_business_days(runtime, profile, close, closes):
    """The provider's ``close.country``, when set, overrides the profile's country."""
    set_countries(runtime, profile, close)
    day_before = closes - dt.timedelta(days=1)
    assert detect_close(runtime, "acme", "aws", APRIL, day_before) is None
    assert detect_close(runtime, "acme", "aws", APRIL, closes) == "business-days"
