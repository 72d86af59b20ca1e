"""QuickBooks Online's throttles, kept before they are hit, and the retry policy.

Intuit allows 500 requests a minute and 10 a second per company (realm), and answers
429 beyond that. A :class:`RateLimiter` per realm, shared by every sink instance in the
process, spaces requests to stay inside both windows; a 429 that still arrives (another
process on the same company) is honoured with its ``Retry-After``.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from tenacity import RetryCallState, wait_exponential_jitter

from connector.contracts import PluginError

#: (seconds, requests) windows per company: 10 a second and 500 a minute.
QUICKBOOKS_WINDOWS: tuple[tuple[float, int], ...] = ((1.0, 10), (60.0, 500))
#: A 429 without a usable Retry-After waits this long (Intuit's throttle resets per minute).
DEFAULT_RETRY_AFTER = 60.0
#: Never wait longer than this on one Retry-After.
MAX_RETRY_AFTER = 300.0


class TransientError(PluginError):
    """QuickBooks was unreachable, timed out or failed (5xx): worth trying again later."""


class Throttled(TransientError):
    """QuickBooks answered 429; ``retry_after`` is how long it asked us to wait (seconds)."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimiter:
    """Sliding windows of request start times; :meth:`acquire` waits for a free slot.

    :param windows: ``(seconds, limit)`` pairs that must all hold.
    :param clock: a monotonic clock; :param sleep: how to wait. Both injectable for tests.
    """

    def __init__(
        self,
        windows: Sequence[tuple[float, int]] = QUICKBOOKS_WINDOWS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not windows:
            raise ValueError("a rate limiter needs at least one window")
        self.windows = tuple(windows)
        self.clock = clock
        self.sleep = sleep
        self._starts: deque[float] = deque(maxlen=max(limit for _, limit in self.windows))
        self._lock = threading.Lock()

    def _wait_needed(self, now: float) -> float:
        wait = 0.0
        for seconds, limit in self.windows:
            if len(self._starts) >= limit:
                # The limit-th most recent start must have left the window.
                wait = max(wait, self._starts[-limit] + seconds - now)
        return wait

    def acquire(self) -> None:
        """Block until one more request fits every window, then count it."""
        while True:
            with self._lock:
                now = self.clock()
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._starts.append(now)
                    return
            self.sleep(wait)


_SHARED: dict[str, RateLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(realm_id: str) -> RateLimiter:
    """The process-wide limiter of one company: all sink instances count together."""
    with _SHARED_LOCK:
        limiter = _SHARED.get(realm_id)
        if limiter is None:
            limiter = _SHARED[realm_id] = RateLimiter()
        return limiter


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), if usable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = when.timestamp() - now()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class WaitRetryAfter:
    """tenacity wait: a 429's Retry-After when it gave one, else exponential backoff
    with jitter (so workers that failed together do not retry together)."""

    def __init__(self, initial: float = 1.0, maximum: float = 30.0) -> None:
        self.backoff = wait_exponential_jitter(initial=initial, max=maximum, jitter=initial)

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, Throttled):
            return error.retry_after if error.retry_after is not None else DEFAULT_RETRY_AFTER
        return float(self.backoff(retry_state))
