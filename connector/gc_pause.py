"""Pausing Python's cycle collector around a build, which makes hundreds of thousands
of statement lines and details.

Those objects are acyclic and freed by reference counting, but every one of them counts
toward the next collection, and each collection re-scans all that are still alive in
its generations. Measured by ``benchmarks/tricks.py`` (best of 4 rounds, 1,000
customers, Python 3.11): the build takes 1.23-1.26x the CPU time without the pause, so
it stays, here only. An ingest gained 0.97-1.17x, under the 15 % that would justify a
trick, so providers build their charges with the collector on.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cycle_collector_paused() -> Iterator[None]:
    """Turn the cycle collector off for the ``with`` block, and back on after it (if it
    was on), however the block ends.

    What the block made and still holds would otherwise be scanned right away: the
    first allocation after the collector comes back finds the young generation far over
    its threshold, and scans it all (255,000 charges: 0.1 to 0.15 s), then again as they
    age. So, on leaving, the objects alive go straight to the oldest generation
    (``gc.freeze`` then ``gc.unfreeze``, which move them without scanning them), where
    they are looked at by the next full collection only. A cycle among them is freed by
    that collection, later but not never. When something else has frozen objects (a
    pre-fork server keeping pages shared), unfreezing would undo that, so then they are
    left to the collector as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if enabled:
            gc.enable()


def cycle_collector_off() -> None:
    """Turn the cycle collector off for the rest of a process that lives for one build
    (a build worker): what it makes is acyclic and gone when the process ends."""
    gc.disable()
