"""The daemon's sense of time, injected so tests can freeze and move it."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Protocol


class Clock(Protocol):
    """What the daemon asks the time: leases, due markers, period close, due dates."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware UTC."""
        ...

    def today(self) -> dt.date:
        """The business date (UTC) used for period close and due dates."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        return self.now().date()


class FrozenClock:
    """A clock that moves only when told to (tests, replaying a month in seconds)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def today(self) -> dt.date:
        return self.now().date()

    def advance(self, **delta: float) -> dt.datetime:
        """Move forward by ``timedelta(**delta)``; returns the new time."""
        with self._lock:
            self._now += dt.timedelta(**delta)
            return self._now

    def set(self, when: dt.datetime) -> None:
        with self._lock:
            self._now = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
