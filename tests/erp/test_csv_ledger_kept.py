"""A push reads the csv sink's export ledger only when its files changed since this
process read or saved them: a month end of many pushes does not read the whole month
again on each (each push would cost more than the one before), and a push by another
process, or a save that failed, is never missed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from connector_erp_csv import ledger as ledger_module
from connector_erp_csv.ledger import ExportLedger

from tests.erp.csv_exports import csv_files, export_dir, ledger
from tests.erp.test_csv_ledger import statements
from tests.erp.test_csv_sink import make_sink

ROOT = Path(__file__).resolve().parents[2]


def test_a_push_reads_only_what_it_adds_however_many_pushes_came_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for push in range(40):  # a sink per push, as the daemon makes one per chunk
        make_sink(tmp_path, run_id=f"run-{push:02d}").push(statements(push * 5, 5))
    entries_made: list[str] = []
    real_put = ExportLedger._put
    monkeypatch.setattr(
        ExportLedger,
        "_put",
        lambda self, key, export: (entries_made.append(key), real_put(self, key, export)),
    )
    results = make_sink(tmp_path, run_id="run-40").push(statements(200, 5))
    assert all(r.ok for r in results)
    # Its own five entries, not the 200 before them read back from disk.
    assert sorted(entries_made) == sorted(d.idempotency_key for d in statements(200, 5))
    assert len(ledger(tmp_path)) == 205


def _push_in_another_process(tmp_path: Path, first: int, count: int, run_id: str) -> None:
    script = (
        "import sys; from pathlib import Path\n"
        "from tests.erp.test_csv_ledger import statements\n"
        "from tests.erp.test_csv_sink import make_sink\n"
        f"r = make_sink(Path({str(tmp_path)!r}), run_id={run_id!r})"
        f".push(statements({first}, {count}))\n"
        "sys.exit(0 if all(x.ok for x in r) else 1)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path])}
    subprocess.run([sys.executable, "-c", script], check=True, cwd=ROOT, env=env)


@pytest.mark.parametrize("fold_after", [1000, 1])  # appended to the journal; folded
def test_what_another_process_exported_meanwhile_is_never_exported_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fold_after: int
) -> None:
    monkeypatch.setattr(ledger_module, "FOLD_AFTER", fold_after)
    make_sink(tmp_path).push(statements(0, 3))  # this process keeps the ledger read
    _push_in_another_process(tmp_path, 3, 3, "other-run")
    results = make_sink(tmp_path, run_id="run-2").push(statements(0, 8))
    assert [r.message.startswith("already exported in") for r in results] == (
        [True] * 6 + [False] * 2
    )
    assert len(csv_files(tmp_path)) == 3
    exported = ledger(tmp_path)
    assert sorted(exported) == sorted(d.idempotency_key for d in statements(0, 8))
    assert {e["state"] for e in exported.values()} == {"exported"}


def test_a_ledger_whose_save_failed_is_read_again_from_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_sink(tmp_path).push(statements(0, 2))
    real_append = ExportLedger._append
    calls = []

    def append_fails_once_after_writing(self: ExportLedger) -> None:
        real_append(self)  # the pending entries reach the disk ...
        if not calls:
            calls.append(1)
            raise OSError("disk full")  # ... but the push is told it failed

    monkeypatch.setattr(ExportLedger, "_append", append_fails_once_after_writing)
    failed = make_sink(tmp_path, run_id="run-2").push(statements(2, 2))
    assert not any(r.ok for r in failed)
    monkeypatch.undo()
    # What the disk holds decides (pending with no file: forgotten), not what the
    # failed push had in memory.
    results = make_sink(tmp_path, run_id="run-3").push(statements(0, 4))
    assert [r.ok for r in results] == [True] * 4
    assert [r.message.startswith("already exported in") for r in results] == [
        True,
        True,
        False,
        False,
    ]
    assert {e["state"] for e in ledger(tmp_path).values()} == {"exported"}
    assert len(ExportLedger.load(export_dir(tmp_path)).entries) == 4
