"""Azure billing periods: they end on the tenant's Billing Day, clamped to the month."""

from __future__ import annotations

import datetime as dt

from connector.contracts import BillingPeriod
from connector.plugin_kit.periods import check_day_of_month, clamped_day, monthly_period

ONE_DAY = dt.timedelta(days=1)


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
    check_day_of_month(billing_day, "billing day")
    # A period starts the day after the previous one's billing day.
    return monthly_period(day, lambda year, month: clamped_day(year, month, billing_day) + ONE_DAY)
