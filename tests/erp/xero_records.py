"""The simulated Xero's records by id, indexed by the fields its look-ups filter on.

Xero finds an invoice by its number or a contact by its name in the same time however
many the organisation holds. The simulator used to walk every record for each look-up,
so a month-end benchmark's push got slower as the month grew, which Xero does not.
:class:`Records` is a plain ``dict`` of records by id (tests read and set it as one)
that keeps an index per field up to date as records are set and removed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

Record = dict[str, Any]


class Records(dict[str, Record]):
    """Records by id; :meth:`having` finds those whose ``field`` is a value, in the order
    the dict holds them. A record's indexed fields are not changed in place (set the
    record again to change them)."""

    def __init__(self, *fields: str) -> None:
        super().__init__()
        self._index: dict[str, dict[Any, set[str]]] = {field: {} for field in fields}
        # The dict keeps a key where it was first set: its place, to sort matches by.
        self._place: dict[str, int] = {}
        self._places = itertools.count()

    def having(self, field: str, values: Iterable[Any]) -> list[Record]:
        """The records whose ``field`` is one of ``values``, in the dict's order."""
        index = self._index[field]
        keys = set().union(*(index.get(value, ()) for value in values))
        return [self[key] for key in sorted(keys, key=self._place.__getitem__)]

    def __setitem__(self, key: str, record: Record) -> None:
        if key in self:
            self._forget(key)
        else:
            self._place[key] = next(self._places)
        super().__setitem__(key, record)
        for field, index in self._index.items():
            index.setdefault(record.get(field), set()).add(key)

    def __delitem__(self, key: str) -> None:
        self._forget(key)
        del self._place[key]
        super().__delitem__(key)

    def _forget(self, key: str) -> None:
        record = self[key]
        for field, index in self._index.items():
            keys = index[record.get(field)]
            keys.discard(key)
            if not keys:
                del index[record.get(field)]

    def pop(self, key: str, *default: Any) -> Any:
        if key not in self:
            return super().pop(key, *default)
        record = self[key]
        del self[key]
        return record

    def popitem(self) -> tuple[str, Record]:
        key = next(reversed(self))
        return key, self.pop(key)

    def setdefault(self, key: str, default: Record) -> Record:  # type: ignore[override]
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, record in dict(*args, **kwargs).items():
            self[key] = record

    def __ior__(self, other: Any) -> Records:  # type: ignore[override]
        self.update(other)
        return self

    def clear(self) -> None:
        super().clear()
        self._place.clear()
        for index in self._index.values():
            index.clear()
