"""Making many frozen slots dataclass objects quickly, for the hot loops that need to.

A frozen dataclass's ``__init__`` stores every field through ``object.__setattr__``
(it must get past the class's own ``__setattr__``, which refuses), several times the
cost of a plain attribute store. Building a large period makes hundreds of thousands
of statement lines, and an ingest hundreds of thousands of canonical charges.

:func:`unfrozen_twin` gives a plain class with the same slots: its objects' fields are
set by plain stores, then the object's ``__class__`` becomes the frozen class (Python
allows it: same slots, same layout). The result is the frozen class's own object, the
same as ``__init__`` makes (fields, equality, hash, repr, frozen again), in about a
third of the time. Every field must be set, as ``__init__`` would, defaults included.
"""

from __future__ import annotations

import dataclasses


def unfrozen_twin(cls: type) -> type | None:
    """A plain class with ``cls``'s slots, or ``None`` if its objects could not become
    ``cls`` objects exactly (not a slots dataclass, or one with a ``__post_init__``)."""
    slots = getattr(cls, "__slots__", None)
    if not dataclasses.is_dataclass(cls) or slots is None or hasattr(cls, "__post_init__"):
        return None
    if set(slots) != {f.name for f in dataclasses.fields(cls)}:
        return None
    twin = type(f"Unfrozen{cls.__name__}", (), {"__slots__": tuple(slots)})
    try:
        object.__new__(twin).__class__ = cls
    except TypeError:  # the layouts differ after all
        return None
    return twin
