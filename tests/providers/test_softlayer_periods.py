"""SoftLayer anniversary periods: day D of one month to day D of the next."""

from __future__ import annotations

import calendar
import datetime as dt

import pytest
from connector_softlayer.periods import (
    invoice_period,
    next_period,
    period_of,
    periods_starting_in,
    previous_period,
)
from hypothesis import given
from hypothesis import strategies as st

from connector.contracts import BillingPeriod

D = dt.date


def test_a_day_before_the_anniversary_belongs_to_the_period_started_last_month():
    assert period_of(D(2026, 10, 14), 15) == BillingPeriod(D(2026, 9, 15), D(2026, 10, 15))


def test_the_anniversary_day_starts_a_new_period():
    assert period_of(D(2026, 10, 15), 15) == BillingPeriod(D(2026, 10, 15), D(2026, 11, 15))


def test_periods_cross_the_year_end():
    assert period_of(D(2027, 1, 3), 15) == BillingPeriod(D(2026, 12, 15), D(2027, 1, 15))


@pytest.mark.parametrize(
    ("day", "anniversary", "expected"),
    [
        # Day 31 is clamped to the month's length: February starts on the 28th.
        (D(2026, 2, 28), 31, BillingPeriod(D(2026, 2, 28), D(2026, 3, 31))),
        (D(2026, 2, 27), 31, BillingPeriod(D(2026, 1, 31), D(2026, 2, 28))),
        (D(2028, 2, 29), 30, BillingPeriod(D(2028, 2, 29), D(2028, 3, 30))),
        (D(2026, 4, 30), 31, BillingPeriod(D(2026, 4, 30), D(2026, 5, 31))),
        (D(2026, 3, 1), 1, BillingPeriod(D(2026, 3, 1), D(2026, 4, 1))),
    ],
)
def test_anniversary_days_past_a_months_end_are_clamped(day, anniversary, expected):
    assert period_of(day, anniversary) == expected


def test_an_anniversary_day_outside_1_to_31_is_refused():
    with pytest.raises(ValueError, match="1..31"):
        period_of(D(2026, 1, 1), 0)


@given(day=st.dates(D(2000, 1, 1), D(2100, 12, 31)), anniversary=st.integers(1, 31))
def test_every_day_lies_in_its_period_and_periods_follow_each_other(day, anniversary):
    period = period_of(day, anniversary)
    assert day in period
    assert 28 <= (period.end - period.start).days <= 31
    assert next_period(period, anniversary).start == period.end
    assert previous_period(period, anniversary).end == period.start
    month_length = calendar.monthrange(period.start.year, period.start.month)[1]
    assert period.start.day == min(anniversary, month_length)


@pytest.mark.parametrize("created", [D(2026, 10, 15), D(2026, 10, 16), D(2026, 10, 17)])
def test_a_recurring_invoice_closes_the_period_before_its_date(created):
    """Created on the anniversary day (or a day or two late): it bills 09-15 .. 10-15."""
    assert invoice_period("RECURRING", created, 15) == BillingPeriod(
        D(2026, 9, 15), D(2026, 10, 15)
    )


@pytest.mark.parametrize("type_code", ["NEW", "ONE-TIME-CHARGE", "CREDIT", "REFUND"])
def test_other_invoices_belong_to_the_period_of_their_date(type_code):
    assert invoice_period(type_code, D(2026, 10, 15), 15) == BillingPeriod(
        D(2026, 10, 15), D(2026, 11, 15)
    )


def test_a_calendar_month_selects_the_anniversary_period_starting_in_it():
    october = BillingPeriod(D(2026, 10, 1), D(2026, 11, 1))
    assert periods_starting_in(october, 15) == [BillingPeriod(D(2026, 10, 15), D(2026, 11, 15))]


def test_an_anniversary_period_selects_itself():
    period = BillingPeriod(D(2026, 10, 15), D(2026, 11, 15))
    assert periods_starting_in(period, 15) == [period]


def test_a_range_without_an_anniversary_selects_nothing():
    assert periods_starting_in(BillingPeriod(D(2026, 10, 1), D(2026, 10, 10)), 15) == []
