"""connector.plugin_kit.periods: billing periods turning on a day of the month."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.contracts import BillingPeriod
from connector.plugin_kit.periods import clamped_day, dates_within, monthly_period, shift_month

ONE_DAY = dt.timedelta(days=1)
days = st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2098, 12, 31))
anchor_days = st.integers(min_value=1, max_value=31)


def starting_on(anchor_day: int):
    return lambda year, month: clamped_day(year, month, anchor_day)


def ending_on(anchor_day: int):
    return lambda year, month: clamped_day(year, month, anchor_day) + ONE_DAY


def test_the_day_is_clamped_to_the_months_length() -> None:
    assert clamped_day(2026, 2, 31) == dt.date(2026, 2, 28)
    assert clamped_day(2028, 2, 30) == dt.date(2028, 2, 29)
    assert shift_month(2026, 1, -1) == (2025, 12)
    assert shift_month(2026, 12, 14) == (2028, 2)


def test_a_period_starting_on_the_anniversary_day() -> None:
    assert monthly_period(dt.date(2026, 10, 14), starting_on(15)) == BillingPeriod(
        dt.date(2026, 9, 15), dt.date(2026, 10, 15)
    )
    assert monthly_period(dt.date(2026, 2, 28), starting_on(31)) == BillingPeriod(
        dt.date(2026, 2, 28), dt.date(2026, 3, 31)
    )


def test_a_period_ending_on_the_billing_day() -> None:
    assert monthly_period(dt.date(2023, 9, 15), ending_on(15)) == BillingPeriod(
        dt.date(2023, 8, 16), dt.date(2023, 9, 16)
    )
    assert monthly_period(dt.date(2023, 9, 4), ending_on(31)) == BillingPeriod(
        dt.date(2023, 9, 1), dt.date(2023, 10, 1)
    )


@given(day=days, anchor_day=anchor_days, ends=st.booleans())
def test_periods_hold_the_day_and_tile_the_calendar(day, anchor_day, ends) -> None:
    anchor = ending_on(anchor_day) if ends else starting_on(anchor_day)
    period = monthly_period(day, anchor)
    assert period.start <= day < period.end
    assert period.start == anchor(period.start.year, period.start.month) or ends
    assert monthly_period(period.end, anchor).start == period.end
    assert monthly_period(period.start - ONE_DAY, anchor).end == period.start
    assert 28 <= (period.end - period.start).days <= 31


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ((10, 20), (11, 20), ((10, 20), (11, 1))),  # a license term past the period's end
        ((9, 25), (10, 24), ((10, 1), (10, 24))),  # a cancellation of last month's purchase
        ((10, 3), (10, 4), ((10, 3), (10, 4))),  # inside: as it is
        ((9, 1), (9, 30), ((10, 1), (11, 1))),  # no overlap: the whole period
    ],
)
def test_dates_within_clamp_a_charge_to_its_period(start, end, expected) -> None:
    october = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))

    def day(month_day: tuple[int, int]) -> dt.date:
        return dt.date(2026, *month_day)

    assert dates_within(october, day(start), day(end)) == (day(expected[0]), day(expected[1]))
