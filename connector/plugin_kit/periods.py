"""Billing periods that turn on a day of the month rather than on the 1st.

Clouds bill some accounts in periods anchored on a day of the month: Azure on the
tenant's Billing Day (a period ends on day D), SoftLayer on the account's anniversary day
(a period starts on day D). Both clamp the day to the month's length (31 is 28 February)
and both periods are months from one anchor to the next: :func:`monthly_period` finds the
one holding a date, given the anchor of each month. :func:`dates_within` keeps a
charge's dates inside its batch's period.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Callable

from connector.contracts import BillingPeriod


def check_day_of_month(day: int, what: str) -> int:
    """``day`` when it is 1..31; ValueError ``"<what> must be 1..31, not <day>"`` else."""
    if not 1 <= day <= 31:
        raise ValueError(f"{what} must be 1..31, not {day}")
    return day


def clamped_day(year: int, month: int, day: int) -> dt.date:
    """Day ``day`` of the month, clamped to its length (31 -> 28 February 2026)."""
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def shift_month(year: int, month: int, months: int) -> tuple[int, int]:
    """``(year, month)`` moved by ``months`` (negative: back)."""
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def monthly_period(day: dt.date, anchor: Callable[[int, int], dt.date]) -> BillingPeriod:
    """The period ``anchor(month) .. anchor(next month)`` (half-open) that holds ``day``.

    :param anchor: the date month ``(year, month)``'s period starts on; it must lie after
        the start of the month before and on or before the 1st of the month after (day D
        of the month, or the day after it), so that the period holding ``day`` starts in
        ``day``'s month or the one before.
    """
    year, month = day.year, day.month
    if day < anchor(year, month):
        year, month = shift_month(year, month, -1)
    return BillingPeriod(anchor(year, month), anchor(*shift_month(year, month, 1)))


def dates_within(period: BillingPeriod, start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """A charge's dates ``[start, end)`` clamped to its batch's ``period``; the whole
    period when they do not overlap it.

    A charge must lie in its batch's period, but a provider may date it by something else:
    FOCUS by when it was incurred (a correction of an earlier month), Partner Center by a
    license term (10/20 .. 11/19) or the purchase a cancellation takes back.
    """
    first, stop = max(start, period.start), min(end, period.end)
    return (first, stop) if first < stop else (period.start, period.end)
