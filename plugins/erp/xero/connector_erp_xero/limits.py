"""Xero's per-organisation limits, kept before Xero has to enforce them.

Xero allows an organisation 60 calls in any minute, 5 calls in progress at once and
5,000 calls a day, and answers 429 past them. :class:`RateLimiter` holds a call back
until it fits all three, and pauses everyone after a 429 for its ``Retry-After``.
It counts calls in this process; Xero's own ``X-MinLimit-Remaining`` and
``X-DayLimit-Remaining`` headers, fed to :meth:`RateLimiter.observe`, bring it in line
with calls made elsewhere (another daemon, the reseller's other apps).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator

from connector.contracts import PluginError

MINUTE = 60.0
# Xero counts a call when it arrives, we when we send it: a quarter second more per
# window keeps the small delay between the two from costing a 429 at the cap.
ARRIVAL_MARGIN = 0.25
DAY = 86_400.0
PER_MINUTE = 60
PER_DAY = 5_000
CONCURRENT = 5
#: Longer than this and a call is not waited for: the push fails and is retried later.
MAX_WAIT = 300.0


class LimitExhausted(PluginError):
    """The organisation's allowance is used up for longer than a push should wait."""


class RateLimiter:
    """Sliding-window call budget and concurrency cap for one Xero organisation.

    :param clock: seconds, monotonic (injectable so tests need not wait).
    :param sleep: how to wait (injectable likewise).
    """

    def __init__(
        self,
        per_minute: int = PER_MINUTE,
        per_day: int = PER_DAY,
        concurrent: int = CONCURRENT,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = MAX_WAIT,
    ) -> None:
        self.per_minute, self.per_day = per_minute, per_day
        self.clock, self.sleep, self.max_wait = clock, sleep, max_wait
        self._slots = threading.BoundedSemaphore(concurrent)
        self._lock = threading.Lock()
        self._minute: deque[float] = deque()
        self._day: deque[float] = deque()
        self._hold_until = float("-inf")

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one of the concurrent slots and one call of the budget for the block."""
        with self._slots:
            self.reserve()
            yield

    def reserve(self) -> None:
        """Take one call of the budget, waiting until the windows have room for it."""
        while True:
            with self._lock:
                now = self.clock()
                wait = self._wait(now)
                if wait <= 0:
                    self._minute.append(now)
                    self._day.append(now)
                    return
            if wait > self.max_wait:
                raise LimitExhausted(
                    f"Xero's call allowance for this organisation is used up for the next "
                    f"{wait:.0f} s (limits: {self.per_minute}/minute, {self.per_day}/day); "
                    "the push will be retried later"
                )
            self.sleep(wait)

    def hold(self, seconds: float) -> None:
        """Make every caller wait ``seconds`` from now (Xero said 429 with Retry-After)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self.clock() + seconds)

    def observe(self, minute_remaining: int | None, day_remaining: int | None) -> None:
        """Count calls Xero saw and we did not, from its remaining-allowance headers."""
        with self._lock:
            now = self.clock()
            self._prune(now)
            for window, limit, remaining in (
                (self._minute, self.per_minute, minute_remaining),
                (self._day, self.per_day, day_remaining),
            ):
                if remaining is None:
                    continue
                missing = (limit - remaining) - len(window)
                window.extend([now] * max(missing, 0))

    def used(self) -> tuple[int, int]:
        """Calls counted in the current minute and day windows."""
        with self._lock:
            self._prune(self.clock())
            return len(self._minute), len(self._day)

    def _prune(self, now: float) -> None:
        for window, span in ((self._minute, MINUTE + ARRIVAL_MARGIN), (self._day, DAY)):
            while window and window[0] <= now - span:
                window.popleft()

    def _wait(self, now: float) -> float:
        self._prune(now)
        waits = [self._hold_until - now]
        if len(self._minute) >= self.per_minute:
            oldest = self._minute[len(self._minute) - self.per_minute]
            waits.append(oldest + MINUTE + ARRIVAL_MARGIN - now)
        if len(self._day) >= self.per_day:
            waits.append(self._day[len(self._day) - self.per_day] + DAY - now)
        return max(waits)


_shared: dict[str, RateLimiter] = {}
_shared_lock = threading.Lock()


def limiter_for(tenant_id: str) -> RateLimiter:
    """The process-wide limiter of Xero organisation ``tenant_id``.

    The core builds a sink per push, so the budget must outlive sink instances: a
    module-level registry is the one place every instance in the process shares.
    """
    with _shared_lock:
        if tenant_id not in _shared:
            _shared[tenant_id] = RateLimiter()
        return _shared[tenant_id]
