"""Azure billing periods: they end on the tenant's Billing Day, clamped to the month."""

from __future__ import annotations

import calendar
import datetime as dt

from connector.contracts import BillingPeriod

ONE_DAY = dt.timedelta(days=1)


def _last_day(year: int, month: int, billing_day: int) -> dt.date:
    """The day a period ending in ``year``-``month`` ends: D clamped to the month's length."""
    return dt.date(year, month, min(billing_day, calendar.monthrange(year, month)[1]))


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _previous_month(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def period_of(day: dt.date, billing_day: int) -> BillingPeriod:
    """The billing period holding ``day`` for Billing Day ``billing_day`` (1..31).

    The period ends on the billing day (clamped to the month's length) of ``day``'s month,
    or of the next month when ``day`` is past it, and starts the day after the previous
    period's end. Returned half-open: ``end`` is the day after the last day.

    >>> period_of(dt.date(2023, 9, 4), 31)
    BillingPeriod(start=datetime.date(2023, 9, 1), end=datetime.date(2023, 10, 1))
    >>> period_of(dt.date(2023, 9, 21), 15)
    BillingPeriod(start=datetime.date(2023, 9, 16), end=datetime.date(2023, 10, 16))
    """
    if not 1 <= billing_day <= 31:
        raise ValueError(f"billing day must be 1..31, not {billing_day}")
    year, month = day.year, day.month
    last = _last_day(year, month, billing_day)
    if day > last:
        year, month = _next_month(year, month)
        last = _last_day(year, month, billing_day)
    previous_last = _last_day(*_previous_month(year, month), billing_day)
    return BillingPeriod(previous_last + ONE_DAY, last + ONE_DAY)
