"""Business days after month end, for the period-close rule.

A business day is the country's own: its weekend (Friday and Saturday in Saudi Arabia
and Israel, Friday alone in Iran, Saturday and Sunday in most places) and its public
holidays, both as the ``holidays`` library keeps them.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

import holidays


class WorkingDays(Protocol):
    """A calendar that knows which days are worked (``holidays.HolidayBase`` is one)."""

    def is_working_day(self, day: dt.date) -> bool: ...


def country_holidays(country: str, years: range) -> holidays.HolidayBase:
    """Public holidays and weekend of ``country`` (ISO 3166 alpha-2) in ``years``."""
    try:
        return holidays.country_holidays(country, years=years)
    except NotImplementedError:
        raise ValueError(
            f"no holiday calendar for country {country!r}: use an ISO 3166 code such as US, GB, DE"
        ) from None


def nth_business_day_after(day: dt.date, n: int, calendar: WorkingDays) -> dt.date:
    """The ``n``-th working day of ``calendar`` after ``day`` (``day`` itself if 0)."""
    current = day
    while n > 0:
        current += dt.timedelta(days=1)
        if calendar.is_working_day(current):
            n -= 1
    return current


def closes_on(period_end: dt.date, business_days: int, country: str) -> dt.date:
    """The day a period ending (exclusive) on ``period_end`` closes under the business-day rule."""
    last_day = period_end - dt.timedelta(days=1)
    calendar = country_holidays(country, range(last_day.year, last_day.year + 2))
    return nth_business_day_after(last_day, business_days, calendar)
