"""connector.plugin_kit.rows: re-reading an export to name the line behind bad data."""

from __future__ import annotations

import gzip
import os
import random
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from connector.contracts import SourceDataError
from connector.plugin_kit.files import Wording
from connector.plugin_kit.rows import bad_value, csv_rows
from tests.conftest import REPO

WORDING = Wording(what="a Foo export", empty="", encoding="Foo exports are UTF-8", row="Foo row")


def test_rows_are_numbered_by_the_physical_line_they_start_on(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text('name,note\nalpha,"two\nlines"\nbeta,one\n')
    assert list(csv_rows(path, 2, WORDING)) == [(2, ["alpha", "two\nlines"]), (4, ["beta", "one"])]


def test_a_row_with_another_number_of_fields_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("name,note\nalpha,1\nbeta,2,3\n")
    with pytest.raises(SourceDataError) as raised:
        list(csv_rows(path, 2, WORDING))
    assert str(raised.value) == (
        f"{path}: line 3 has 3 fields but the header has 2; every Foo row needs one value per "
        "column (quote values that contain commas)"
    )


def test_a_line_that_is_not_utf8_is_named_with_its_byte(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"name,note\nalpha,1\nb\xffta,2\n")
    with pytest.raises(SourceDataError) as raised:
        list(csv_rows(path, 2, WORDING, shown="s3://b/a.csv"))
    assert str(raised.value) == (
        "s3://b/a.csv: line 3 is not UTF-8 text (byte 2 of the line); Foo exports are UTF-8"
    )


def _damaged_gzip(path: Path) -> Path:
    """A gzip stream with 64 bytes overwritten mid-way: it decompresses to garbage rows
    before it fails its check."""
    rows = b"".join(b"row-%d,%d\n" % (i, i * 7919 % 104729) for i in range(20_000))
    data = bytearray(gzip.compress(b"name,value\n" + rows, mtime=0))
    data[len(data) // 2 : len(data) // 2 + 64] = random.Random(0).randbytes(64)
    path.write_bytes(bytes(data))
    return path


def test_gzip_damage_is_reported_with_the_last_good_line(tmp_path: Path) -> None:
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(b"name,value\n" + b"x,1\n" * 50_000)[:-40])
    with pytest.raises(SourceDataError, match=r"a\.csv\.gz: the gzip data is cut off or corrupt "
                       r"after line \d+ \(.+\); download the export again"):  # fmt: skip
        list(csv_rows(path, 2, WORDING))


def test_with_damage_first_a_garbage_row_is_reported_as_the_damage(tmp_path: Path) -> None:
    path = _damaged_gzip(tmp_path / "a.csv.gz")
    words = {"what": "x", "empty": "", "encoding": "", "damaged_gzip": "damaged {where}({error})"}
    with pytest.raises(SourceDataError, match="fields but the header has 2"):
        list(csv_rows(path, 2, Wording(**words)))
    with pytest.raises(SourceDataError) as raised:
        list(csv_rows(path, 2, Wording(**words, damage_first=True)))
    assert str(raised.value).startswith(f"{path}: damaged (CRC check failed")


def test_parquet_rows_are_numbered_from_1_with_values_as_utc_text(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            "COPY (SELECT i AS n, TIMESTAMPTZ '2026-10-01 00:30:00+00' AS at, NULL AS empty "
            f"FROM range(3) t(i)) TO '{path}' (FORMAT parquet)"
        )
    # A process in New York: DuckDB's default zone would make it 2026-09-30 20:30.
    code = (
        "import sys\nfrom pathlib import Path\n"
        "from connector.plugin_kit.rows import parquet_rows\n"
        "print(list(parquet_rows(Path(sys.argv[1]), ['at', 'n', 'empty'])))\n"
    )
    env = {**os.environ, "TZ": "America/New_York"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=env,
        cwd=REPO, check=True,
    ).stdout  # fmt: skip
    assert out.strip() == str(
        [(number, ("2026-10-01 00:30:00+00", str(number - 1), None)) for number in (1, 2, 3)]
    )


def test_a_bad_value_message_names_file_line_column_value_and_what_is_valid() -> None:
    assert bad_value("a.csv", "line 7", "Cost", "12,5", "a decimal number") == (
        "a.csv: line 7, column Cost is '12,5'; it must be a decimal number"
    )
    assert bad_value("a.parquet", "row 2", "Cost", None, "a number").endswith(
        "column Cost is empty; it must be a number"
    )
    assert "column Cost is empty" in bad_value("a.csv", "line 3", "Cost", "  ", "a number")
