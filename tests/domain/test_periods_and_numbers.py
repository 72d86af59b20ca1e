from __future__ import annotations

import datetime as dt

import pytest

from connector.domain.business_days import closes_on
from connector.domain.numbering import format_invoice_number
from connector.domain.periods import billing_day_period, due_date, parse_period


def test_parse_period() -> None:
    period = parse_period("2026-12")
    assert (period.start, period.end) == (dt.date(2026, 12, 1), dt.date(2027, 1, 1))
    with pytest.raises(ValueError, match="use YYYY-MM"):
        parse_period("2026-13")


@pytest.mark.parametrize(
    ("term", "value", "expected"),
    [
        ("net", 30, dt.date(2026, 12, 6)),
        ("on_receipt", 0, dt.date(2026, 11, 6)),
        ("day_of_next_month", 31, dt.date(2026, 12, 31)),
        ("day_of_next_month", 15, dt.date(2026, 12, 15)),
        ("end_of_month", 0, dt.date(2026, 11, 30)),
        ("end_of_month", 3, dt.date(2027, 2, 28)),
    ],
)
def test_due_dates(term: str, value: int, expected: dt.date) -> None:
    """A statement issued on Friday 2026-11-06:
    net 30:               November has 30 days: Nov 6 + 24 = Nov 30, + 6 more = Dec 6
    on_receipt:           the issue date, Nov 6
    day_of_next_month 31: December has 31 days: Dec 31
    day_of_next_month 15: Dec 15
    end_of_month 0:       the last day of the issue month: Nov 30
    end_of_month 3:       three months on is February 2027 (not a leap year): Feb 28"""
    assert due_date(dt.date(2026, 11, 6), term, value) == expected


@pytest.mark.parametrize(("issued", "term", "value", "expected"), [
    (dt.date(2026, 12, 15), "net", 30, dt.date(2027, 1, 14)),
    (dt.date(2026, 1, 30), "day_of_next_month", 31, dt.date(2026, 2, 28)),
    (dt.date(2028, 1, 30), "day_of_next_month", 30, dt.date(2028, 2, 29)),
    (dt.date(2026, 12, 10), "day_of_next_month", 5, dt.date(2027, 1, 5)),
    (dt.date(2026, 12, 10), "end_of_month", 2, dt.date(2027, 2, 28)),
    (dt.date(2028, 1, 20), "end_of_month", 1, dt.date(2028, 2, 29)),
])  # fmt: skip
def test_due_dates_across_month_and_year_ends(
    issued: dt.date, term: str, value: int, expected: dt.date
) -> None:
    """net 30 from Dec 15: 16 days to Dec 31, 14 more: Jan 14, 2027.
    day_of_next_month 31 from Jan 30, 2026: February 2026 has 28 days: Feb 28.
    day_of_next_month 30 from Jan 30, 2028: February 2028 has 29 days: Feb 29.
    day_of_next_month 5 from Dec 10, 2026: the next month is January 2027: Jan 5.
    end_of_month 2 from Dec 10, 2026: two months on is February 2027: Feb 28.
    end_of_month 1 from Jan 20, 2028: February of a leap year: Feb 29."""
    assert due_date(issued, term, value) == expected


def test_an_unknown_term_type_says_what_is_valid() -> None:
    with pytest.raises(ValueError, match="use net, day_of_next_month, end_of_month"):
        due_date(dt.date(2026, 11, 6), "fortnightly", 14)


def test_business_day_close_skips_weekends_and_holidays() -> None:
    # October 2026 ends on a Saturday; Nov 2-6 are business days; Nov 11 (Veterans Day) is
    # a US federal holiday, so the 5th business day is Nov 6 and the 8th is Nov 12.
    end = dt.date(2026, 11, 1)
    assert closes_on(end, 5, "US") == dt.date(2026, 11, 6)
    assert closes_on(end, 8, "US") == dt.date(2026, 11, 12)


def test_invoice_number_format_and_quickbooks_limit() -> None:
    assert format_invoice_number("ACME-{number:05d}", 1001) == "ACME-01001"
    with pytest.raises(ValueError, match="at most 21"):
        format_invoice_number("VERY-LONG-PREFIX-{number:010d}", 1)


@pytest.mark.parametrize(("year", "month", "day", "start", "last"), [
    (2026, 10, 31, dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
    (2026, 10, 15, dt.date(2026, 9, 16), dt.date(2026, 10, 15)),
    (2026, 2, 30, dt.date(2026, 1, 31), dt.date(2026, 2, 28)),
    (2026, 3, 30, dt.date(2026, 3, 1), dt.date(2026, 3, 30)),
    (2028, 2, 31, dt.date(2028, 2, 1), dt.date(2028, 2, 29)),
    (2026, 1, 5, dt.date(2025, 12, 6), dt.date(2026, 1, 5)),
])  # fmt: skip
def test_billing_day_periods(year, month, day, start, last) -> None:
    """Azure Billing Day / SoftLayer anniversary: end on the day (clamped), start the
    day after the previous period's end."""
    period = billing_day_period(year, month, day)
    assert (period.start, period.end - dt.timedelta(days=1)) == (start, last)


def test_consecutive_billing_day_periods_neither_overlap_nor_leave_gaps() -> None:
    for day in (1, 15, 28, 29, 30, 31):
        periods = [billing_day_period(2026 + m // 12, m % 12 + 1, day) for m in range(24)]
        assert all(a.end == b.start for a, b in zip(periods, periods[1:], strict=False))
