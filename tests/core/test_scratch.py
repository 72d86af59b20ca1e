"""connector.plugin_kit.scratch: the providers' scratch DuckDB and their file hashes."""

from __future__ import annotations

import hashlib
import mmap
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from connector.plugin_kit import scratch
from connector.plugin_kit.scratch import (
    MEMORY_LIMIT,
    THREADS,
    ScratchDuckDB,
    combined_digest,
    file_digest,
)
from tests.conftest import REPO


def setting(con: duckdb.DuckDBPyConnection, name: str) -> object:
    return con.execute("SELECT current_setting(?)", [name]).fetchone()[0]


def run_python(code: str, **env: str) -> str:
    """``code`` run by a fresh interpreter (``env`` added to ours); its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@contextmanager
def no_implicit_cleanup() -> Iterator[None]:
    """Fails if a temporary folder is left for the garbage collector to remove (it warns)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        yield
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_limits_are_the_shared_ones():
    assert MEMORY_LIMIT == "512MB"
    assert min(4, os.cpu_count() or 1) == THREADS


def test_connection_is_capped_and_keeps_no_insertion_order():
    with duckdb.connect(":memory:", config={"memory_limit": MEMORY_LIMIT}) as plain:
        capped = setting(plain, "memory_limit")
    with duckdb.connect(":memory:") as plain:
        default = setting(plain, "memory_limit")
    assert capped != default  # else the check below would prove nothing
    with ScratchDuckDB("connector-test-") as con:
        assert setting(con, "memory_limit") == capped
        assert setting(con, "threads") == THREADS
        assert setting(con, "preserve_insertion_order") is False
        assert setting(con, "enable_progress_bar") is False
        assert con.execute("SELECT 41 + 1").fetchone() == (42,)


def test_time_zone_is_utc_only_when_asked():
    # A fresh interpreter in a zone that is not UTC: DuckDB takes its default from the host.
    code = (
        "from connector.plugin_kit.scratch import ScratchDuckDB\n"
        "for utc in (False, True):\n"
        "    with ScratchDuckDB('connector-test-', utc=utc) as con:\n"
        "        print(con.execute(\"SELECT current_setting('TimeZone')\").fetchone()[0])\n"
    )
    assert run_python(code, TZ="America/New_York").split() == ["America/New_York", "UTC"]
    with ScratchDuckDB("connector-test-", utc=True) as con:
        assert setting(con, "TimeZone") == "UTC"


def test_spill_directory_lives_while_entered():
    with no_implicit_cleanup(), ScratchDuckDB("connector-test-") as con:
        spill = Path(setting(con, "temp_directory"))
        assert spill.is_dir()
        assert spill.name.startswith("connector-test-")
    assert not spill.exists()
    with pytest.raises(duckdb.ConnectionException):
        con.execute("SELECT 1")  # closed


def test_spill_directory_is_removed_after_an_error_inside():
    with (
        no_implicit_cleanup(),
        pytest.raises(RuntimeError, match="boom"),
        ScratchDuckDB("connector-test-") as con,
    ):
        spill = Path(setting(con, "temp_directory"))
        (spill / "left-behind").write_text("spilled")
        raise RuntimeError("boom")
    assert not spill.exists()


def test_a_failed_enter_closes_the_connection_and_removes_the_folder(monkeypatch):
    made: list[tuple[Path, FailingConnection]] = []

    class FailingConnection:
        closed = False

        def execute(self, sql: str) -> None:
            raise duckdb.IOException(f"cannot run {sql}")

        def close(self) -> None:
            self.closed = True

    def connect(database: str, config: dict) -> FailingConnection:
        made.append((Path(config["temp_directory"]), FailingConnection()))
        assert made[-1][0].is_dir()
        return made[-1][1]

    monkeypatch.setattr(duckdb, "connect", connect)
    scratch_db = ScratchDuckDB("connector-test-")
    with no_implicit_cleanup(), pytest.raises(duckdb.IOException, match="enable_progress_bar"):
        scratch_db.__enter__()
    ((spill, con),) = made
    assert con.closed
    assert not spill.exists()
    scratch_db.__exit__(None, None, None)  # leaving again does nothing


def test_the_core_imports_without_duckdb():
    code = (
        "import sys\nsys.modules['duckdb'] = None\n"
        "import connector.plugin_kit.scratch\nprint('ok')\n"
    )
    assert run_python(code) == "ok"


@pytest.mark.parametrize("window", [scratch.WINDOW, mmap.PAGESIZE])
def test_file_digest_is_sha256_of_the_bytes(tmp_path, monkeypatch, window):
    monkeypatch.setattr(scratch, "WINDOW", window)
    path = tmp_path / "cur.csv.gz"
    data = os.urandom(3 * mmap.PAGESIZE + 123)  # with a page-sized window, the last is short
    path.write_bytes(data)
    assert file_digest(path) == hashlib.sha256(data).hexdigest()
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert file_digest(empty) == hashlib.sha256(b"").hexdigest()


def test_combined_digest_hashes_the_hex_digests_in_order():
    digests = [hashlib.sha256(text).hexdigest() for text in (b"a", b"b", b"c")]
    expected = hashlib.sha256("".join(digests).encode("ascii")).hexdigest()
    assert combined_digest(digests) == expected
    assert combined_digest(iter(digests)) == expected  # any iterable, read once
    assert combined_digest(reversed(digests)) != expected
    assert combined_digest([]) == hashlib.sha256(b"").hexdigest()


def test_hashes_are_those_stored_before(tmp_path):
    # Values the providers' own helpers gave: a change here changes every stored source hash.
    cur = tmp_path / "cur.csv"
    cur.write_bytes(b"line_item_type,cost\nUsage,1.5\n")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    digests = [file_digest(cur), file_digest(empty)]
    assert digests == [
        "b02da44618372d76e63f4bc8eec6af8d6b62f0ed564a9cc9f90093914d0dab1b",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]
    assert combined_digest(digests) == (
        "83e8503204691c97cd310b884a659fa9719bb909a02394931ddc71af64e6a784"
    )
