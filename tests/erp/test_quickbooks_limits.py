"""The per-company rate limiter, Retry-After parsing and the retry wait."""

from __future__ import annotations

import email.utils

import pytest
from connector_erp_quickbooks.limits import (
    MAX_RETRY_AFTER,
    RateLimiter,
    Throttled,
    TransientError,
    WaitRetryAfter,
    parse_retry_after,
    shared_limiter,
)
from tenacity import RetryCallState, Retrying

from tests.erp.fake_clock import FakeClock


def starts(limiter: RateLimiter, clock: FakeClock, count: int) -> list[float]:
    times = []
    for _ in range(count):
        limiter.acquire()
        times.append(clock.now)
    return times


def test_ten_requests_start_at_once_and_the_eleventh_waits_a_second():
    clock = FakeClock()
    times = starts(RateLimiter(clock=clock.monotonic, sleep=clock.sleep), clock, 11)
    assert times[:10] == [0.0] * 10
    assert times[10] == 1.0


def test_the_501st_request_waits_for_the_minute_to_pass():
    """10 a second fill 500 by second 49; the 501st must wait for the first to be 60 s old."""
    clock = FakeClock()
    times = starts(RateLimiter(clock=clock.monotonic, sleep=clock.sleep), clock, 511)
    assert times[499] == 49.0
    assert times[500] == 60.0
    for index, start in enumerate(times):
        assert sum(1 for t in times if start <= t < start + 1) <= 10, index
        assert sum(1 for t in times if start <= t < start + 60) <= 500, index


def test_windows_are_configurable():
    clock = FakeClock()
    limiter = RateLimiter(windows=[(2.0, 1)], clock=clock.monotonic, sleep=clock.sleep)
    assert starts(limiter, clock, 3) == [0.0, 2.0, 4.0]


def test_a_limiter_needs_a_window():
    with pytest.raises(ValueError):
        RateLimiter(windows=[])


def test_sink_instances_of_one_company_share_its_limiter():
    assert shared_limiter("123") is shared_limiter("123")
    assert shared_limiter("123") is not shared_limiter("456")


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("0", 0.0), ("2.5", 2.5), ("-3", 0.0), ("100000", MAX_RETRY_AFTER), ("", None)],
)
def test_retry_after_in_seconds(header, seconds):
    assert parse_retry_after(header) == seconds


def test_retry_after_as_an_http_date():
    now = 1_750_000_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after(header, now=lambda: now) == 30.0


def test_an_unreadable_retry_after_is_ignored():
    assert parse_retry_after("soon") is None


def state_after(error: Exception, attempt: int) -> RetryCallState:
    state = RetryCallState(Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(error), error, None))
    return state


def test_a_throttle_waits_what_quickbooks_asked():
    assert WaitRetryAfter()(state_after(Throttled("429", 7.0), 1)) == 7.0


def test_a_throttle_without_retry_after_waits_a_minute():
    assert WaitRetryAfter()(state_after(Throttled("429", None), 1)) == 60.0


def test_other_failures_back_off_exponentially_with_jitter():
    """initial 1, doubling per attempt, plus up to 1 s of jitter, capped at 30."""
    wait = WaitRetryAfter()
    for attempt, low in ((1, 1), (2, 2), (3, 4), (4, 8)):
        values = {wait(state_after(TransientError("503"), attempt)) for _ in range(20)}
        assert all(low <= value <= low + 1 for value in values)
        assert len(values) > 1  # jittered, so workers do not retry in step
    assert wait(state_after(TransientError("503"), 12)) <= 30
