"""Pausing Python's cycle collector around the loops that make hundreds of thousands of
objects: a provider's canonical charges, a build's statement lines and details.

Those objects are acyclic and freed by reference counting, but every one of them counts
toward the next collection, and each collection re-scans all that are still alive in
its generations: with the collector on, a large build spent about a quarter of its time
there, and an ingest's charge building a third.
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
