"""The ERP sinks' tests' clock: monotonic seconds that move only when something sleeps."""

from __future__ import annotations

import threading


class FakeClock:
    """Monotonic seconds that only move when someone sleeps; records the sleeps.

    Read it as ``clock()`` (the xero sink's limiter) or ``clock.monotonic()`` (the
    quickbooks sink's); pass ``clock.sleep`` where the code under test waits.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        return self.now

    __call__ = monotonic

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
