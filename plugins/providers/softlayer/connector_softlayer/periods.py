"""SoftLayer billing periods: they run from the account's anniversary day to the next one.

A period starts on day D (the anniversary day, clamped to the month's length) of one month
and ends, half-open, on day D of the next: with D = 15, 2026-09-15 .. 2026-10-15. The
RECURRING invoice SoftLayer creates on the anniversary day bills the cycle that just
ended (hourly usage in arrears, monthly fees for the cycle starting), so it belongs to the
period before the one its date falls in, and its existence closes that period: no
invoice created later can belong to it.
"""

from __future__ import annotations

import datetime as dt

from connector.contracts import BillingPeriod
from connector.plugin_kit.periods import check_day_of_month, clamped_day, monthly_period

ONE_DAY = dt.timedelta(days=1)
RECURRING = "RECURRING"


def period_of(day: dt.date, anniversary_day: int) -> BillingPeriod:
    """The anniversary period holding ``day``.

    >>> period_of(dt.date(2026, 10, 14), 15)
    BillingPeriod(start=datetime.date(2026, 9, 15), end=datetime.date(2026, 10, 15))
    >>> period_of(dt.date(2026, 2, 28), 31)
    BillingPeriod(start=datetime.date(2026, 2, 28), end=datetime.date(2026, 3, 31))
    """
    check_day_of_month(anniversary_day, "anniversary day")
    return monthly_period(day, lambda year, month: clamped_day(year, month, anniversary_day))


def next_period(period: BillingPeriod, anniversary_day: int) -> BillingPeriod:
    """The period starting where ``period`` ends."""
    return period_of(period.end, anniversary_day)


def previous_period(period: BillingPeriod, anniversary_day: int) -> BillingPeriod:
    """The period ending where ``period`` starts."""
    return period_of(period.start - ONE_DAY, anniversary_day)


def invoice_period(type_code: str, created: dt.date, anniversary_day: int) -> BillingPeriod:
    """The period an invoice created on ``created`` belongs to.

    A RECURRING invoice closes the period before the one it is dated in (it is created on
    the anniversary day, or a day or two late); every other invoice (NEW, ONE-TIME-CHARGE,
    CREDIT, REFUND) belongs to the period it is dated in.
    """
    period = period_of(created, anniversary_day)
    if type_code == RECURRING:
        return previous_period(period, anniversary_day)
    return period


def periods_starting_in(requested: BillingPeriod, anniversary_day: int) -> list[BillingPeriod]:
    """The anniversary periods whose start lies in ``requested``.

    Operators name periods by month (``--period 2026-09`` is the calendar month); the
    anniversary period starting in that month is the one meant. An anniversary period
    passed in is returned as it is.
    """
    found = []
    period = period_of(requested.start, anniversary_day)
    if period.start < requested.start:
        period = next_period(period, anniversary_day)
    while period.start < requested.end:
        found.append(period)
        period = next_period(period, anniversary_day)
    return found
