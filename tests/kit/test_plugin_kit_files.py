"""connector.plugin_kit.files and .columns: finding export files, reading their headers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from connector.contracts import SourceDataError
from connector.plugin_kit.columns import Column, Expected, check_required, locate, match_header
from connector.plugin_kit.file_formats import FOCUS
from connector.plugin_kit.files import (
    GZIP_MISNAMED,
    ExportFiles,
    FoundExports,
    Wording,
    find_files,
    read_csv_header,
    read_parquet_header,
)

WORDING = Wording(
    what="a Foo export",
    empty="a Foo export starts with BilledCost,...",
    encoding="Foo exports are UTF-8",
)
COLUMNS = (
    Column(("BilledCost", "Cost"), "cost", required=True),
    Column(("BillingCurrency",), "currency", required=True),
    Column(("Tag",), "tag"),
)
EXPECTED = Expected(
    format="", export="a Foo export", header="a Foo header", example="a Foo file", provider="foo"
)


def names_of(names: list[str]) -> list[str]:
    return names


def test_find_files_sorts_by_path_and_keeps_the_suffixes_in_any_case(tmp_path: Path) -> None:
    for name in ("b/2.CSV", "a/1.csv.gz", "a/notes.txt", "c.parquet"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    found = find_files(tmp_path, "**/*", (".csv", ".csv.gz"), "not a folder")
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a/1.csv.gz", "b/2.CSV"]


def test_find_files_refuses_a_file_skipping_would_leave_unbilled(tmp_path: Path) -> None:
    (tmp_path / "cur.csv.zip").write_bytes(b"PK")
    with pytest.raises(SourceDataError, match=r"cur\.csv\.zip: zipped; unzip it"):
        find_files(
            tmp_path, "*", (".csv",), "not a folder", refused={".csv.zip": "zipped; unzip it"}
        )


def test_find_files_names_a_path_that_is_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceDataError, match=r"missing: set providers\.foo\.path"):
        find_files(tmp_path / "missing", "*", (".csv",), "set providers.foo.path")


def test_a_csv_header_is_parsed_and_a_complete_file_passes(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("BilledCost,BillingCurrency\n1.5,USD\n")
    assert read_csv_header(path, names_of, WORDING) == ["BilledCost", "BillingCurrency"]


@pytest.mark.parametrize("name", ["a.csv", "a.csv.gz"])
def test_a_header_without_rows_is_no_data_rows(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    data = b"BilledCost,BillingCurrency\n"
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    with pytest.raises(SourceDataError, match=rf"no data rows in .*{name}: .* a Foo export has"):
        read_csv_header(path, names_of, WORDING)


def test_a_wrong_file_is_named_by_parse_before_it_is_called_empty(tmp_path: Path) -> None:
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(b"name,amount\n"))

    def parse(names: list[str]) -> None:
        raise SourceDataError(f"not a Foo header: {names}")

    with pytest.raises(SourceDataError, match="not a Foo header"):
        read_csv_header(path, parse, WORDING)


def test_a_plain_csv_cut_inside_its_last_row_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("BilledCost,BillingCurrency\n1.5,USD\n2.5,U")
    with pytest.raises(SourceDataError, match=r"a\.csv: line 3 is cut off"):
        read_csv_header(path, names_of, WORDING)


def test_an_empty_file_says_what_its_first_line_looks_like(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("\n")
    with pytest.raises(SourceDataError, match=r"the file is empty; a Foo export starts with"):
        read_csv_header(path, names_of, WORDING)


def test_a_gzip_file_without_gz_name_is_named_as_such(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(gzip.compress(b"\xff\xfe" * 50))
    with pytest.raises(SourceDataError) as raised:
        read_csv_header(path, names_of, WORDING)
    assert str(raised.value) == f"{path}: {GZIP_MISNAMED}"


def test_without_sniffing_text_that_is_not_utf8_uses_the_export_words(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(gzip.compress(b"\xff\xfe" * 50))
    wording = Wording(what="a Foo export", empty="", encoding="Foo is UTF-8", sniff=False)
    with pytest.raises(SourceDataError) as raised:
        read_csv_header(path, names_of, wording, shown="s3://bucket/a.csv")
    assert str(raised.value) == "s3://bucket/a.csv: line 1 is not UTF-8 text; Foo is UTF-8"


def test_gzip_data_cut_in_line_1_uses_the_export_words(tmp_path: Path) -> None:
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(b"BilledCost,BillingCurrency," * 100)[:30])
    wording = Wording(what="x", empty="", encoding="", header_gzip="cut ({error}); again")
    with pytest.raises(SourceDataError, match=r"a\.csv\.gz: cut \(.+\); again$"):
        read_csv_header(path, names_of, wording)


def _parquet(path: Path, rows: int) -> Path:
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT 1.5 AS BilledCost, 'USD' AS BillingCurrency FROM range({rows})) "
            f"TO '{path}' (FORMAT parquet)"
        )
    return path


def test_a_parquet_schema_is_read_with_its_types(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "a.parquet", 3)
    names, types = read_parquet_header(path, lambda n, t: (n, t), WORDING)
    assert names == ["BilledCost", "BillingCurrency"]
    assert types["BillingCurrency"] == "VARCHAR"


def test_a_parquet_file_without_rows_is_no_data_rows(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "a.parquet", 0)
    with pytest.raises(SourceDataError, match=r"no data rows in .*a\.parquet: the Parquet file"):
        read_parquet_header(path, lambda n, t: n, WORDING)


def test_a_cut_off_parquet_file_quotes_duckdbs_first_line(tmp_path: Path) -> None:
    path = _parquet(tmp_path / "a.parquet", 3)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(SourceDataError) as raised:
        read_parquet_header(path, lambda n, t: n, WORDING)
    message = str(raised.value)
    assert message.startswith(f"{path}: not a readable Parquet file (")
    assert message.endswith("'); it may be cut off or corrupt: download it again")


def test_columns_are_located_in_any_case_the_first_accepted_name_winning() -> None:
    names = ["cost", "BilledCost", "billingcurrency", "BillingCurrency"]
    assert locate(names, COLUMNS) == {"cost": 1, "currency": 2}


def test_missing_required_columns_are_named_at_once(tmp_path: Path) -> None:
    names = ["Cost", "Tag"]
    with pytest.raises(SourceDataError) as raised:
        check_required(tmp_path / "a.csv", names, locate(names, COLUMNS), COLUMNS, EXPECTED)
    assert str(raised.value) == (
        f"{tmp_path / 'a.csv'}: line 1 (the header) lacks the required column(s) "
        "BillingCurrency; a Foo export must have all of BilledCost / Cost, BillingCurrency "
        "(names match in any case)"
    )


def test_a_header_with_no_required_column_is_not_recognised(tmp_path: Path) -> None:
    names = ["name", "amount"]
    with pytest.raises(SourceDataError, match=r"line 1 \(the header\) is not a Foo header: it"):
        check_required(tmp_path / "a.csv", names, {}, COLUMNS, EXPECTED)


def test_another_known_export_is_named_as_such(tmp_path: Path) -> None:
    names = ["BilledCost", "ChargeCategory"]  # FOCUS's own columns
    with pytest.raises(SourceDataError, match=r"this looks like a FOCUS cost export"):
        check_required(tmp_path / "a.csv", names, locate(names, COLUMNS), COLUMNS, EXPECTED)
    focus = Expected(FOCUS, "a FOCUS export", "a FOCUS header", "a FOCUS export", "focus")
    with pytest.raises(SourceDataError, match=r"lacks the required column\(s\) BillingCurrency"):
        check_required(tmp_path / "a.csv", names, locate(names, COLUMNS), COLUMNS, focus)


def test_match_header_names_a_column_as_the_file_spells_it(tmp_path: Path) -> None:
    header = match_header(tmp_path / "a.csv", [" cost ", "BILLINGCURRENCY"], COLUMNS, EXPECTED)
    assert (header.names, header.positions) == (
        ("cost", "BILLINGCURRENCY"),
        {"cost": 0, "currency": 1},
    )
    assert (header.column_name("currency"), header.column_name("tag")) == ("BILLINGCURRENCY", "Tag")
    assert header.has("cost") and not header.has("tag") and not header.parquet


def test_match_header_refuses_a_schema_lacking_required_columns(tmp_path: Path) -> None:
    with pytest.raises(SourceDataError, match=r"a\.parquet: its schema lacks the required"):
        match_header(tmp_path / "a.parquet", ["Cost", "Tag"], COLUMNS, EXPECTED)


def test_export_files_are_found_with_their_headers_and_manifest(tmp_path: Path) -> None:
    exports = ExportFiles((".csv",), "a Foo export", "no folder", lambda path: path.name)
    assert exports.find(tmp_path, "*") == FoundExports([], {})
    (tmp_path / "b.csv").write_text("BilledCost\n1\n")
    (tmp_path / "a.csv").write_text("BilledCost\n2\n")
    assert exports.find(tmp_path, "*") == FoundExports(["a.csv", "b.csv"], {})
    manifest = {"blobs": [{"blobName": "x/a.csv", "byteCount": 1, "dataRowCount": 1}]}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SourceDataError, match=r"a\.csv: the file has 13 bytes but"):
        exports.find(tmp_path, "*")
