"""Xero's limits kept before they are hit, Retry-After read, and amounts Xero adds up as we do."""

from __future__ import annotations

import threading
import time
from decimal import ROUND_HALF_UP, Decimal

import pytest
from connector_erp_xero.amounts import exact, unit_price
from connector_erp_xero.limits import LimitExhausted, RateLimiter
from connector_erp_xero.transport import retry_after_seconds
from hypothesis import given
from hypothesis import strategies as st

from connector.contracts import PluginError, StatementLine
from connector.plugin_kit.invoice_lines import allocate
from tests.erp.fake_clock import FakeClock

CENT = Decimal("0.01")


def limiter(clock: FakeClock, **kwargs) -> RateLimiter:
    return RateLimiter(clock=clock, sleep=clock.sleep, **kwargs)


def test_sixty_calls_in_a_minute_go_at_once_and_the_61st_waits_for_the_first_to_age_out():
    clock = FakeClock()
    limits = limiter(clock)
    for _ in range(30):
        limits.reserve()
    clock.now = 10.0
    for _ in range(30):
        limits.reserve()
    assert clock.sleeps == []

    limits.reserve()

    # The first 30 calls were at t=0: the window has room again at t=60 (plus the quarter
    # second Xero may see them later than we sent them), 50.25 s from t=10.
    assert clock.sleeps == [50.25]
    assert limits.used() == (31, 61)


def test_the_daily_allowance_waits_a_day_from_the_oldest_call_or_gives_up():
    clock = FakeClock()
    patient = limiter(clock, per_minute=1000, per_day=5, max_wait=10**6)
    for _ in range(5):
        patient.reserve()
    patient.reserve()
    assert clock.sleeps == [86_400.0]

    impatient = limiter(FakeClock(), per_minute=1000, per_day=5)
    for _ in range(5):
        impatient.reserve()
    with pytest.raises(LimitExhausted, match="5/day"):
        impatient.reserve()


def test_at_most_five_calls_are_in_progress_at_once():
    limits = RateLimiter()
    inside, peak = 0, 0
    guard = threading.Lock()
    release = threading.Event()

    def call() -> None:
        nonlocal inside, peak
        with limits.slot():
            with guard:
                inside += 1
                peak = max(peak, inside)
            release.wait(5)
            with guard:
                inside -= 1

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 5
    while inside < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # give a sixth caller the chance to get in, were it let
    assert inside == 5
    release.set()
    for thread in threads:
        thread.join(5)
    assert peak == 5


def test_a_429_holds_every_caller_for_the_retry_after():
    clock = FakeClock()
    limits = limiter(clock)
    limits.hold(2.0)
    limits.reserve()
    assert clock.sleeps == [2.0]


def test_xeros_remaining_allowance_headers_count_calls_made_elsewhere():
    clock = FakeClock()
    limits = limiter(clock)
    limits.reserve()
    limits.observe(minute_remaining=2, day_remaining=4000)  # 58 used in the minute, 1000 today
    assert limits.used() == (58, 1000)
    limits.reserve()
    limits.reserve()
    assert clock.sleeps == []
    limits.reserve()
    assert clock.sleeps == [60.25]  # a minute and the arrival margin


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2", 2.0), ("0.5", 0.5), (None, 60.0), ("Thu, 01 Jan 2026 00:00:30 GMT", 30.0)],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(header, seconds):
    midnight = 1_767_225_600.0  # 2026-01-01T00:00:00Z
    assert retry_after_seconds(header, now=lambda: midnight) == seconds


@given(
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False),
    st.lists(
        st.decimals(min_value=-500, max_value=5000, places=2, allow_nan=False),
        min_size=1,
        max_size=12,
    ),
)
def test_allocated_shares_always_add_up_to_the_amount(amount, weights):
    shares = allocate(amount, weights, CENT)
    assert sum(shares) == amount
    assert all(share == share.quantize(CENT) for share in shares)


def test_the_rounding_remainder_goes_to_the_largest_line_not_a_small_negative_one():
    """Tax 1.03 over lines 10.05, 20.05, 30.05 and -0.01 (base 60.14).

    Proportional shares: 0.1721 -> 0.17, 0.3434 -> 0.34, 0.5147 -> 0.51, -0.0002 -> 0.00,
    which make 1.02. Left on the last line, the cent would be tax of +0.01 on a -0.01
    line; the largest line, 30.05, takes it instead: 0.52.
    """
    weights = [Decimal("10.05"), Decimal("20.05"), Decimal("30.05"), Decimal("-0.01")]
    shares = allocate(Decimal("1.03"), weights, CENT)
    assert shares == [Decimal("0.17"), Decimal("0.34"), Decimal("0.52"), Decimal("0.00")]


@given(
    st.integers(min_value=-(10**13), max_value=10**13),
    st.sampled_from([Decimal("0.01"), Decimal("0.0001")]),
)
def test_amounts_of_up_to_15_digits_survive_the_sdks_float_conversion_exactly(units, quantum):
    amount = Decimal(units) * quantum
    if len(amount.normalize().as_tuple().digits) > 15:
        with pytest.raises(PluginError):
            exact(amount, "test")
        return
    sent = exact(amount, "test")
    assert Decimal(repr(float(sent))) == amount


@pytest.mark.parametrize(
    ("amount", "quantity", "expected"),
    [
        # 3 x 3.33 = 9.99: 2 places cannot make 10.00; 3 x 3.3333 = 9.9999 -> 10.00.
        ("10.00", "3", ("3", "3.3333", True)),
        # 4 x 2.50 = 10.00 exactly: no need for 4 places.
        ("10.00", "4", ("4", "2.50", False)),
        # Quantity 1 is a plain line.
        ("12.34", "1", ("1", "12.34", False)),
        # 7 decimals of quantity are more than Xero holds: one unit at the amount.
        ("5.00", "0.1234567", ("1", "5.00", False)),
        # No unit price of 4 places gives 0.01 for 10,000 units: one unit at the amount.
        ("0.01", "10000", ("1", "0.01", False)),
    ],
)
def test_unit_prices_reproduce_the_line_amount_exactly(amount, quantity, expected):
    line = StatementLine(1, "service", "x", Decimal(amount), quantity=Decimal(quantity))
    got_quantity, unit, four = unit_price(line, CENT)
    assert (got_quantity, unit, four) == (Decimal(expected[0]), Decimal(expected[1]), expected[2])
    assert (got_quantity * unit).quantize(CENT, ROUND_HALF_UP) == Decimal(amount)
