"""Issue 24: exporting a month's statements reads them a chunk at a time (one query,
not a round trip per statement) and makes each chunk's files durable together
(:class:`PrivateBatch`), keeping what each file was promised: whole or absent, ``0600``,
one statement's failure its own."""

from __future__ import annotations

import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import event

from connector import safe_paths
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.publish.export import export_statements
from connector.safe_paths import PrivateBatch
from tests.pipeline.test_reconcile import AFTER_CLOSE, OCTOBER


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def built(runtime) -> list[str]:
    """The three Drafts of the bundled October CUR (customers 1001, 1002, 1003)."""
    ingest(runtime, "acme", "aws")
    report = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    return sorted((s.customer_id, s.id) for s in report.generated)


def test_a_statement_whose_document_cannot_be_made_fails_alone(runtime, tmp_path):
    (first, good), (second, bad), (third, last) = built(runtime)
    config = runtime.tenant("acme")
    config.customers = [c for c in config.customers if c.id != second]  # gone since the build
    done = export_statements(
        runtime, "acme", [good, bad, last, "no-such-id"], ["csv"], tmp_path, chunk=2
    )
    assert [(i, fmt) for i, fmt, _ in done.failed] == [(bad, "csv"), ("no-such-id", "csv")]
    assert "KeyError" in done.failed[0][2] and second in done.failed[0][2]
    assert "has no statement no-such-id" in done.failed[1][2]
    # aws-2026-10-CUSTOMER-draft-ID.csv: the other two are written all the same
    assert [p.name.split("-")[3] for p in done.written] == [first, third]
    assert all(p.read_bytes() for p in done.written)


def test_exported_files_are_private_and_no_temp_file_is_left(runtime, tmp_path, umask_022):
    ids = [i for _, i in built(runtime)]
    out = tmp_path / "new" / "statements"
    done = export_statements(runtime, "acme", ids, ["csv", "html"], out, chunk=2)
    assert len(done.written) == 6 and not done.failed
    assert sorted(out.iterdir()) == sorted(done.written)  # no hidden temp file beside them
    assert {mode(p) for p in done.written} == {0o600}
    assert mode(out) == mode(out.parent) == 0o700


def test_statements_are_read_one_query_per_chunk_and_each_chunk_is_durable_first(runtime, tmp_path):
    ids = [i for _, i in built(runtime)]
    out = tmp_path / "out"
    seen_at_each_query: list[int] = []

    def executed(conn, cursor, statement, parameters, context, executemany) -> None:
        if "FROM statements" in statement:
            seen_at_each_query.append(len(list(out.glob("*"))) if out.exists() else 0)

    event.listen(runtime.db.engine, "before_cursor_execute", executed)
    try:
        done = export_statements(runtime, "acme", ids, ["csv"], out, chunk=2)
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", executed)
    assert len(done.written) == 3
    # One statements query per chunk of two (not a get and a lazy load per statement),
    # and the first chunk's two files are in place before the second chunk is read.
    assert seen_at_each_query == [0, 2]


def test_batch_files_take_their_names_only_when_the_batch_ends(tmp_path, umask_022):
    out = tmp_path / "made" / "here"
    with PrivateBatch() as batch:
        batch.write(out / "a.csv", b"a")
        batch.write(out / "b.csv", b"bb")
        assert not (out / "a.csv").exists() and not (out / "b.csv").exists()
        assert len(list(out.iterdir())) == 2  # the temp files, hidden
        assert all(p.name.startswith(".") for p in out.iterdir())
    assert batch.written == [out / "a.csv", out / "b.csv"]
    assert [p.read_bytes() for p in batch.written] == [b"a", b"bb"]
    assert sorted(out.iterdir()) == batch.written
    assert {mode(p) for p in batch.written} == {0o600} and mode(out) == 0o700


def test_an_error_inside_the_batch_leaves_neither_files_nor_temp_files(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"before")
    with pytest.raises(RuntimeError, match="renderer died"), PrivateBatch() as batch:
        batch.write(tmp_path / "a.csv", b"after")
        batch.write(tmp_path / "b.csv", b"b")
        raise RuntimeError("renderer died")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv"]
    assert (tmp_path / "a.csv").read_bytes() == b"before" and batch.written == []


def test_a_failed_fsync_gives_no_file_its_name(tmp_path, monkeypatch):
    def failing(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(safe_paths.os, "fsync", failing)
    with pytest.raises(OSError, match="Input/output"), PrivateBatch() as batch:
        batch.write(tmp_path / "a.csv", b"a")
    assert list(tmp_path.iterdir()) == [] and batch.written == []


def test_a_crash_inside_the_batch_leaves_no_final_named_file(tmp_path):
    script = (
        "import os, sys\n"
        "from connector.safe_paths import PrivateBatch\n"
        "with PrivateBatch() as batch:\n"
        "    batch.write(sys.argv[1] + '/a.pdf', b'%PDF' * 1000)\n"
        "    batch.write(sys.argv[1] + '/b.pdf', b'%PDF' * 1000)\n"
        "    os._exit(9)  # killed before the batch ends: no cleanup runs\n"
    )
    crashed = subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=False)
    assert crashed.returncode == 9
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and all(name.startswith((".a.pdf.", ".b.pdf.")) for name in left)


def test_batch_fsyncs_wait_together_then_the_folder_once(tmp_path, monkeypatch):
    # Two fsyncs must be waiting at the same time for either to go on: one after the
    # other (what made export slow) would break the barrier.
    both = threading.Barrier(2, timeout=10)
    calls: list[int] = []
    real = safe_paths.os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) <= 2:
            both.wait()
        real(fd)

    monkeypatch.setattr(safe_paths.os, "fsync", fsync)
    with PrivateBatch() as batch:
        batch.write(tmp_path / "a.csv", b"a")
        batch.write(tmp_path / "b.csv", b"b")
    assert len(calls) == 3  # each file, then the folder holding both
    assert [p.read_bytes() for p in batch.written] == [b"a", b"b"]


def test_a_batch_into_new_folders_makes_their_entries_durable_too(tmp_path, monkeypatch):
    synced: list[Path] = []
    real = safe_paths._fsync_path

    def record(path: Path) -> None:
        synced.append(Path(path))
        real(path)

    monkeypatch.setattr(safe_paths, "_fsync_path", record)
    with PrivateBatch() as batch:
        batch.write(tmp_path / "new" / "sub" / "a.csv", b"a")
    files = [p for p in synced if p.name.startswith(".a.csv.")]
    folders = {p for p in synced if p not in files}
    assert len(files) == 1
    # sub holds a.csv; new holds sub; tmp_path holds new: a crash loses none of them.
    assert folders == {tmp_path / "new" / "sub", tmp_path / "new", tmp_path}
