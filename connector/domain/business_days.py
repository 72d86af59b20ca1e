"""Business days after month end, for the period-close rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Container

import holidays


def country_holidays(country: str, years: range) -> Container[dt.date]:
    """Public holidays of ``country`` (ISO 3166 alpha-2) in ``years``."""
    try:
        return holidays.country_holidays(country, years=years)
    except NotImplementedError:
        raise ValueError(
            f"no holiday calendar for country {country!r}: use an ISO 3166 code such as US, GB, DE"
        ) from None


def nth_business_day_after(day: dt.date, n: int, closed: Container[dt.date]) -> dt.date:
    """The ``n``-th weekday after ``day`` that is not in ``closed`` (``day`` itself if 0)."""
    current = day
    while n > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5 and current not in closed:
            n -= 1
    return current


def closes_on(period_end: dt.date, business_days: int, country: str) -> dt.date:
    """The day a period ending (exclusive) on ``period_end`` closes under the business-day rule."""
    last_day = period_end - dt.timedelta(days=1)
    closed = country_holidays(country, range(last_day.year, last_day.year + 2))
    return nth_business_day_after(last_day, business_days, closed)
