"""The csv sink's export ledger costs a push what the push adds: changes are appended
to a journal (not the whole ledger rewritten), folded into the snapshot only once the
journal outgrows it, and a crash mid-append or mid-fold loses nothing acknowledged."""

from __future__ import annotations

from pathlib import Path

import pytest
from connector_erp_csv import ledger as ledger_module
from connector_erp_csv.ledger import JOURNAL_NAME, LEDGER_NAME, ExportLedger

from tests.erp.csv_exports import csv_files, export_dir, ledger
from tests.erp.test_csv_sink import make_sink
from tests.factories import make_statement


def statements(first: int, count: int) -> list:  # type: ignore[type-arg]
    return [
        make_statement(statement_id=f"st-{n:05d}", number=f"NW-{n:05d}")
        for n in range(first, first + count)
    ]


def test_each_push_appends_its_own_entries_and_never_rewrites_the_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rewrites: list[str] = []
    real = ledger_module.atomic_write
    monkeypatch.setattr(
        ledger_module,
        "atomic_write",
        lambda path, data: (rewrites.append(path.name), real(path, data)),
    )
    journal = export_dir(tmp_path) / JOURNAL_NAME
    grown = []
    for push in range(20):
        before = journal.stat().st_size if journal.exists() else 0
        results = make_sink(tmp_path, run_id=f"run-{push:02d}").push(statements(push * 5, 5))
        assert all(r.ok for r in results)
        grown.append(journal.stat().st_size - before)
    assert rewrites == []  # the snapshot is never rewritten on a push
    assert max(grown) == min(grown)  # the 20th push writes what the 1st did
    assert len(ledger(tmp_path)) == 100
    assert {e["state"] for e in ledger(tmp_path).values()} == {"exported"}


def test_the_journal_is_folded_into_the_snapshot_once_it_outgrows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_module, "FOLD_AFTER", 8)
    for push in range(10):
        make_sink(tmp_path, run_id=f"run-{push}").push(statements(push * 3, 3))
    directory = export_dir(tmp_path)
    assert (directory / LEDGER_NAME).exists()
    lines = (directory / JOURNAL_NAME).read_text().splitlines() if (
        directory / JOURNAL_NAME).exists() else []  # fmt: skip
    assert len(lines) <= max(8, 30)
    assert sorted(ledger(tmp_path)) == sorted(d.idempotency_key for d in statements(0, 30))
    # Pushed again after the fold: nothing is exported twice.
    again = make_sink(tmp_path, run_id="run-again").push(statements(0, 30))
    assert all(r.message.startswith("already exported in") for r in again)
    assert len(csv_files(tmp_path)) == 10


def test_an_append_a_crash_cut_short_is_ignored_and_cut_off(tmp_path: Path) -> None:
    make_sink(tmp_path).push(statements(0, 2))
    journal = export_dir(tmp_path) / JOURNAL_NAME
    with open(journal, "ab") as handle:
        handle.write(b'{"key":"northwind:st-09999:r1","file":"x.c')  # no line end
    assert len(ExportLedger.load(export_dir(tmp_path)).entries) == 2
    results = make_sink(tmp_path, run_id="run-2").push(statements(2, 1))
    assert results[0].ok
    assert journal.read_bytes().endswith(b"\n")
    assert len(ledger(tmp_path)) == 3  # every line whole again


class Crash(BaseException):
    """The process dying at this point."""


def test_a_crash_between_the_fold_and_removing_the_journal_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_sink(tmp_path).push(statements(0, 4))
    directory = export_dir(tmp_path)
    real_unlink = Path.unlink

    def die_before_removing_the_journal(path: Path, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if path.name == JOURNAL_NAME:
            raise Crash
        real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(ledger_module, "FOLD_AFTER", 1)
    monkeypatch.setattr(Path, "unlink", die_before_removing_the_journal)
    with pytest.raises(Crash):  # the fold of the next push's pending entries
        make_sink(tmp_path, run_id="run-2").push(statements(4, 4))
    monkeypatch.undo()
    assert len((directory / JOURNAL_NAME).read_text().splitlines()) == 8  # still there
    entries = ExportLedger.load(directory).entries
    assert {k: e.state for k, e in entries.items()} == {
        **{d.idempotency_key: "exported" for d in statements(0, 4)},
        **{d.idempotency_key: "pending" for d in statements(4, 4)},
    }
    results = make_sink(tmp_path, run_id="run-3").push(statements(0, 8))
    assert [r.message.startswith("already exported in") for r in results] == [True] * 4 + [
        False
    ] * 4
    assert all(r.ok for r in results)
    assert len(csv_files(tmp_path)) == 2


def test_a_damaged_line_before_the_last_stops_the_push(tmp_path: Path) -> None:
    make_sink(tmp_path).push(statements(0, 2))
    journal = export_dir(tmp_path) / JOURNAL_NAME
    journal.write_bytes(b"{not json\n" + journal.read_bytes())
    with pytest.raises(Exception, match=r"unreadable.*line 1"):
        make_sink(tmp_path, run_id="run-2").push(statements(2, 1))
