"""Running a folder provider in a test: its batches, its only batch, or its refusal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from connector.contracts import BillingPeriod, ChargeBatch, Provider, SourceDataError


@dataclass(frozen=True)
class FolderFetch:
    """Calls ``provider`` with ``{"path": folder, **settings}``, the folder as base dir.

    ``fetch = FolderFetch(FocusProvider)``; then ``fetch(folder)`` is its batches,
    ``fetch.only_batch(folder)`` the one batch there must be, ``fetch.error(folder)`` the
    :class:`SourceDataError` message there must be, and ``fetch.refused(folder)`` that
    message with the batches yielded before it.
    """

    provider: type[Provider]

    def __call__(
        self, folder: Path, period: BillingPeriod | None = None, **settings: object
    ) -> list[ChargeBatch]:
        return list(self.provider({"path": str(folder), **settings}, folder).fetch(period))

    def only_batch(self, folder: Path) -> ChargeBatch:
        (batch,) = self(folder)
        return batch

    def error(self, folder: Path) -> str:
        with pytest.raises(SourceDataError) as caught:
            self(folder)
        return str(caught.value)

    def refused(self, folder: Path) -> tuple[str, list[ChargeBatch]]:
        yielded: list[ChargeBatch] = []
        with pytest.raises(SourceDataError) as caught:
            for batch in self.provider({"path": str(folder)}, folder).fetch():
                yielded.append(batch)
        return str(caught.value), yielded

    def refusal(self, folder: Path) -> str:
        """The refusal's message; no batch may come before it (no partial ingest)."""
        message, yielded = self.refused(folder)
        assert yielded == []
        return message
