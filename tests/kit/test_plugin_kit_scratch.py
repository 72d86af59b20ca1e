"""connector.plugin_kit.scratch: the aggregate on a scratch DuckDB, DuckDB's errors."""

from __future__ import annotations

import tempfile
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pytest

from connector.contracts import PluginError, SourceDataError
from connector.plugin_kit.files import FoundExports
from connector.plugin_kit.scratch import QueryAggregate, checked_scan, explain_by, reading


class Groups(QueryAggregate):
    """The "headers" are the scan's SQL itself."""

    prefix = "connector-kit-test-"
    table = "kit_groups"
    headers: str

    def scan_sql(self) -> str:
        return self.headers


ROWS = (
    "SELECT * FROM (VALUES (0, 2, false), (0, 1, true), (1, 4, false)) t(file_no, row_count, bad)"
)


def _spill_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob(f"{Groups.prefix}*"))


def test_the_aggregate_counts_rows_per_file_and_sees_bad_rows() -> None:
    with Groups(ROWS) as groups:
        assert groups.file_rows() == {0: 3, 1: 4}
        assert groups.has_bad_rows()
    with Groups(ROWS.replace("true", "false")) as groups:
        assert not groups.has_bad_rows()


def test_a_failing_scan_closes_the_database_and_removes_its_folder() -> None:
    before = _spill_folders()
    aggregate = Groups("SELECT CAST('x' AS INTEGER) AS file_no")
    with pytest.raises(duckdb.ConversionException):
        aggregate.__enter__()
    assert _spill_folders() == before
    with pytest.raises(AssertionError, match="use Groups as a context manager"):
        aggregate.con  # noqa: B018


def test_duckdb_refusing_the_data_raises_the_providers_diagnosis() -> None:
    explained: list[Exception] = []

    def explain(exc: Exception) -> SourceDataError:
        explained.append(exc)
        return SourceDataError("a.csv: line 3, column Cost is 'x'")

    with (
        pytest.raises(SourceDataError, match="line 3") as raised,
        reading("a.csv", "the exports", explain),
        Groups("SELECT CAST('x' AS INT)"),
    ):
        pass
    assert isinstance(explained[0], duckdb.ConversionException)
    assert raised.value.__cause__ is None


def test_other_duckdb_errors_are_plugin_errors_naming_the_files() -> None:
    with (
        pytest.raises(PluginError) as raised,
        reading("a.csv, b.csv", "the exports", lambda exc: AssertionError(exc)),
    ):
        raise duckdb.OutOfMemoryException("could not allocate")
    assert str(raised.value) == "a.csv, b.csv: reading the exports failed: could not allocate"
    assert not isinstance(raised.value, SourceDataError)


def test_check_refuses_an_empty_file_and_names_the_line_of_a_bad_row(tmp_path: Path) -> None:
    paths = [tmp_path / "a.csv", tmp_path / "b.parquet"]
    empty_b = "SELECT * FROM (VALUES (0, 2, false)) t(file_no, row_count, bad)"
    with Groups(empty_b) as groups:
        with pytest.raises(SourceDataError, match=r"no data rows in .*b\.parquet"):
            groups.check(paths, {}, "a Foo export", lambda: None)
        groups.check(paths, {}, "a Foo export", lambda: None, empty_ok=[1])
    with Groups(ROWS) as groups:
        with pytest.raises(SourceDataError, match="^a.csv: line 3, column Cost is 'x'$"):
            groups.check(paths, {}, "x", lambda: "a.csv: line 3, column Cost is 'x'")
        with pytest.raises(SourceDataError) as raised:
            groups.check(paths, {}, "x", lambda: None)
    assert str(raised.value) == f"{paths[0]}, {paths[1]}: a row has an invalid required value"


def test_explain_by_gives_the_diagnosis_else_duckdbs_words() -> None:
    error = duckdb.ConversionException("Could not convert 'x'\nLINE 1: ...\nmore\nand more")
    found = explain_by(lambda: "a.csv: line 3, column Cost is 'x'", "a.csv", "the exports")
    assert str(found(error)) == "a.csv: line 3, column Cost is 'x'"
    nothing = explain_by(lambda: None, "a.csv", "the exports", "the Foo data")
    explained = nothing(error)
    assert isinstance(explained, SourceDataError)
    assert str(explained) == (
        "a.csv: DuckDB could not read the Foo data: Could not convert 'x' LINE 1: ... more"
    )
    io = nothing(duckdb.IOException("disk gone"))
    assert not isinstance(io, SourceDataError)
    assert str(io) == "a.csv: reading the exports failed: disk gone"

    def unreadable() -> str | None:
        raise PermissionError("a.csv")

    assert str(explain_by(unreadable, "a.csv", "the exports")(error)).startswith(
        "a.csv: reading the exports failed: a.csv"
    )


def test_checked_scan_refuses_what_the_scan_found_and_explains_duckdbs_refusal() -> None:
    headers = [SimpleNamespace(path=Path("a.csv")), SimpleNamespace(path=Path("b.parquet"))]
    found = FoundExports(headers, {})
    empty_parquet = "SELECT * FROM (VALUES (0, 2, false)) t(file_no, row_count, bad)"
    with checked_scan(Groups(empty_parquet), found, "x", lambda _: None) as groups:
        assert groups.file_rows() == {0: 2}
    bad = "a.csv: line 3, column Cost is 'x'"
    ran = []
    with (
        pytest.raises(SourceDataError, match=f"^{bad}$"),
        checked_scan(Groups(ROWS), found, "x", lambda found: bad),
    ):
        ran.append(True)  # a bad row is refused before the block runs
    assert ran == []
    with (
        pytest.raises(SourceDataError, match=f"^{bad}$"),
        checked_scan(Groups("SELECT CAST('x' AS INT)"), found, "x", lambda found: bad),
    ):
        pass
    with (
        pytest.raises(PluginError) as raised,
        checked_scan(Groups(empty_parquet), found, "x", lambda _: None),
    ):
        raise duckdb.OutOfMemoryException("could not allocate")
    assert str(raised.value) == "a.csv, b.parquet: reading the exports failed: could not allocate"
