"""The plugin kit's in-memory token store, checked: a token is saved only under its
key's lock, and every save is kept for the tests to count."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from connector.testing.sink import MemoryTokenStore as KitTokenStore


class MemoryTokenStore(KitTokenStore):
    """A :class:`connector.contracts.TokenStore` in memory that keeps its saves."""

    def __init__(self, tokens: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        super().__init__(tokens)
        self.saves: list[dict[str, Any]] = []
        self.held: set[str] = set()

    def save(self, key: str, token: Mapping[str, Any]) -> None:
        assert key in self.held, "a token must be saved under its lock"
        super().save(key, token)
        self.saves.append(dict(token))

    @contextlib.contextmanager
    def lock(self, key: str) -> Iterator[None]:
        with super().lock(key):
            self.held.add(key)
            try:
                yield
            finally:
                self.held.discard(key)
