"""Billing periods and due dates."""

from __future__ import annotations

import calendar
import datetime as dt
import re

from connector.contracts import BillingPeriod

_PERIOD_KEY = re.compile(r"^(\d{4})-(\d{2})$")


def month_period(year: int, month: int) -> BillingPeriod:
    """The calendar month ``[1st, 1st of next month)``."""
    start = dt.date(year, month, 1)
    end = dt.date(year + month // 12, month % 12 + 1, 1)
    return BillingPeriod(start, end)


def _clamped(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def billing_day_period(year: int, month: int, billing_day: int) -> BillingPeriod:
    """The period that ends on ``billing_day`` of this month (clamped to its length).

    It starts the day after the previous period's end: with billing day 15, the
    October 2026 period is 16 September to 15 October; with 31, the calendar month; with
    30, February ends on the 28th (or 29th) and March starts on 1 March. Used for Azure
    (the tenant's Azure Billing Day) and SoftLayer (the account's anniversary day).
    """
    if not 1 <= billing_day <= 31:
        raise ValueError(f"billing day {billing_day} is not valid: use 1 to 31")
    last = _clamped(year, month, billing_day)
    prev_year, prev_month = (year, month - 1) if month > 1 else (year - 1, 12)
    start = _clamped(prev_year, prev_month, billing_day) + dt.timedelta(days=1)
    return BillingPeriod(start, last + dt.timedelta(days=1))


def parse_period(key: str) -> BillingPeriod:
    """``2026-10`` -> October 2026; a clear error for anything else."""
    match = _PERIOD_KEY.match(key.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"period {key!r} is not valid: use YYYY-MM, for example 2026-10")
    return month_period(int(match.group(1)), int(match.group(2)))


def due_date(issue_date: dt.date, term_type: str, term_value: int) -> dt.date:
    """The due date a statement issued on ``issue_date`` gets under the tenant's terms.

    ``net``: term_value days after issue; ``day_of_next_month``: that day of the next
    month (clamped to its length); ``end_of_month``: the last day of the month
    term_value months after issue (0 = this month); ``on_receipt``: the issue date.
    """
    if term_type == "net":
        return issue_date + dt.timedelta(days=term_value)
    if term_type == "on_receipt":
        return issue_date
    if term_type == "day_of_next_month":
        year, month = issue_date.year + issue_date.month // 12, issue_date.month % 12 + 1
        day = min(max(term_value, 1), calendar.monthrange(year, month)[1])
        return dt.date(year, month, day)
    if term_type == "end_of_month":
        months = issue_date.month - 1 + term_value
        year, month = issue_date.year + months // 12, months % 12 + 1
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    raise ValueError(
        f"term type {term_type!r} is not valid: use net, day_of_next_month, end_of_month "
        "or on_receipt"
    )
