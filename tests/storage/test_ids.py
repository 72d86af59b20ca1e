"""Statement ids are version 7 UUIDs: unique, and each after the one before."""

from __future__ import annotations

import uuid

from connector.storage import ids
from connector.storage.ids import uuid7


def test_ids_are_version_7_uuids_in_the_order_they_were_made() -> None:
    made = [uuid7() for _ in range(5000)]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in made)
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    assert [str(u) for u in made] == sorted(str(u) for u in made)  # as stored: text


def test_the_timestamp_is_the_millisecond_the_id_was_made(monkeypatch) -> None:
    monkeypatch.setattr(ids, "_last", [0, 0])
    monkeypatch.setattr(ids.time, "time_ns", lambda: 1_790_000_000_123_456_789)
    assert uuid7().int >> 80 == 1_790_000_000_123


def test_within_one_millisecond_the_sequence_counts_then_borrows_the_next(monkeypatch) -> None:
    monkeypatch.setattr(ids, "_last", [0, 0])
    monkeypatch.setattr(ids.time, "time_ns", lambda: 5_000_000)  # the clock stands still
    made = [uuid7() for _ in range(4097)]
    assert made == sorted(made) and len(set(made)) == 4097
    assert [u.int >> 80 for u in made[:4096]] == [5] * 4096
    assert [(u.int >> 64) & 0xFFF for u in made[:3]] == [0, 1, 2]
    assert made[4096].int >> 80 == 6 and (made[4096].int >> 64) & 0xFFF == 0
