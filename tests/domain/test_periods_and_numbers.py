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
    assert due_date(dt.date(2026, 11, 6), term, value) == expected


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
