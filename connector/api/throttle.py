"""Throttling of failed authentication: per client address and per key id.

A token bucket per address and per key id (the ``<id>`` of ``bc_<id>_<secret>``):
each failed authentication takes a token, tokens come back at ``failures`` per
``window`` seconds, and while a bucket is empty every request it covers answers 429
with ``Retry-After`` before any key is checked. Successful requests take nothing, so
a client with a good key is never slowed unless its address is already locked out.

Buckets live in memory, at most ``max_entries`` of them (least recently touched
dropped first): a daemon restart forgets them, and so does one process of several
behind a load balancer; the limit is per process. A hand-written bucket rather than a
rate-limit library: the rule is ten lines and needs no storage backend.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

log = logging.getLogger(__name__)

# The key id is shown in lists and the audit trail; it may be logged, the secret never.
_KEY_ID = re.compile(r"\s*bc_([0-9a-f]{12})_")


def subjects(address: str | None, token: str | None) -> tuple[str, ...]:
    """The buckets a request from ``address`` presenting ``token`` counts against."""
    found = [f"address {address or 'unknown'}"]
    match = _KEY_ID.match(token or "")
    if match:
        found.append(f"key {match[1]}")
    return tuple(found)


class FailureThrottle:
    """Failed authentications allowed per subject: ``failures`` in a burst, refilled
    at ``failures`` per ``window`` seconds. Thread-safe (sync routes use it too)."""

    def __init__(
        self,
        failures: int = 60,
        window: float = 60.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1 or window <= 0:
            raise ValueError("failures must be at least 1 and window more than 0 seconds")
        self.failures, self.window = failures, window
        self._rate = failures / window  # tokens back per second
        self._max_entries = max_entries
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def _tokens(self, subject: str, now: float) -> float:
        tokens, updated = self._buckets.get(subject, (float(self.failures), now))
        return min(float(self.failures), tokens + (now - updated) * self._rate)

    def retry_after(self, found: tuple[str, ...]) -> int | None:
        """Seconds until ``found`` may try again, or None when none of them is locked out."""
        now = self._clock()
        with self._lock:
            waits = [
                (1 - tokens) / self._rate
                for subject in found
                if subject in self._buckets and (tokens := self._tokens(subject, now)) < 1
            ]
        if not waits:
            return None
        seconds = max(1, math.ceil(max(waits)))
        log.warning("too many failed authentications from %s: 429 for %d s",
                    ", ".join(found), seconds)  # fmt: skip
        return seconds

    def failed(self, found: tuple[str, ...]) -> None:
        """Record one failed authentication against each of ``found``."""
        now = self._clock()
        with self._lock:
            for subject in found:
                self._buckets[subject] = (max(0.0, self._tokens(subject, now) - 1), now)
                self._buckets.move_to_end(subject)
            while len(self._buckets) > self._max_entries:
                self._buckets.popitem(last=False)
