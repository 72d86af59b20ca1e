"""Issue 18, defect 2: an export cut off while written or copied is refused, never
ingested as a complete (smaller) month.

Evidence per format: a plain CSV's last byte (every exporter ends the file with a line
break), its last row's fields and quotes, a gzip trailer, and an Azure export's
manifest.json (byte and row counts: the only evidence for a file cut exactly at a line
end). A header-only export is "no data rows", not an empty month.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from connector_aws import AwsCurProvider
from connector_azure import AzureCostProvider, AzureCspProvider
from connector_focus import FocusProvider

from connector.contracts import SourceDataError
from tests.providers.azure_files import EA_SAMPLE
from tests.providers.csp_files import BILLED_CSV, BILLED_JSONL
from tests.providers.cur_files import row, write_cur
from tests.providers.focus_files import FIXTURES as FOCUS_FIXTURES

FOCUS_SAMPLE = FOCUS_FIXTURES / "focus_1_0_aws.csv"


def cut_inside_last_row(source: Path, target: Path, keep: int = 5) -> int:
    """Copy ``source`` to ``target`` without the last row's end (``keep`` bytes of it
    stay); returns the cut row's line number."""
    data = source.read_bytes()
    body = data.rstrip(b"\r\n")
    start = body.rfind(b"\n") + 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body[: start + keep])
    return body.count(b"\n") + 1


def cut_at_line_end(source: Path, target: Path, lines: int) -> None:
    data = source.read_bytes().splitlines(keepends=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"".join(data[:lines]))


def refusal(provider) -> str:
    with pytest.raises(SourceDataError) as caught:
        list(provider.fetch())
    return str(caught.value)


def focus(folder: Path) -> FocusProvider:
    return FocusProvider({"path": str(folder)}, folder)


def azure(folder: Path) -> AzureCostProvider:
    return AzureCostProvider({"path": str(folder)}, folder)


def csp(folder: Path) -> AzureCspProvider:
    return AzureCspProvider({"path": str(folder)}, folder)


def aws(folder: Path) -> AwsCurProvider:
    return AwsCurProvider({"path": str(folder)}, folder)


def test_the_samples_end_with_a_line_break_so_a_missing_one_is_evidence():
    for sample in (FOCUS_SAMPLE, EA_SAMPLE, BILLED_CSV, BILLED_JSONL):
        assert sample.read_bytes().endswith(b"\n"), sample


# -- cut inside the last row --------------------------------------------------------


def test_focus_export_cut_inside_its_last_row_is_refused_naming_file_and_line(tmp_path):
    line = cut_inside_last_row(FOCUS_SAMPLE, tmp_path / "focus.csv")
    message = refusal(focus(tmp_path))
    assert message.startswith(f"{tmp_path / 'focus.csv'}: line {line} is cut off: ")
    assert "does not end with a line break" in message


def test_focus_export_cut_inside_its_last_column_is_refused(tmp_path):
    # All fields are there, only the last value is short: DuckDB alone read it as whole.
    data = FOCUS_SAMPLE.read_bytes()
    (tmp_path / "focus.csv").write_bytes(data.rstrip(b"\r\n")[:-2])
    assert "is cut off" in refusal(focus(tmp_path))


def test_aws_cur_cut_inside_its_last_column_is_refused(tmp_path):
    whole = write_cur(tmp_path / "src" / "cur.csv", [row(line_item_id=f"li-{i}") for i in range(9)])
    data = whole.read_bytes().rstrip(b"\r\n")
    (tmp_path / "cur" / "cur.csv").parent.mkdir()
    (tmp_path / "cur" / "cur.csv").write_bytes(data[:-3])
    message = refusal(aws(tmp_path / "cur"))
    assert message.startswith(f"{tmp_path / 'cur' / 'cur.csv'}: line 10 is cut off: ")


def test_aws_cur_whose_last_row_lacks_fields_is_refused(tmp_path):
    path = write_cur(tmp_path / "cur.csv", [row(), row(line_item_id="li-2")])
    data = path.read_bytes().rstrip(b"\r\n")
    path.write_bytes(data[: data.rfind(b",", 0, data.rfind(b",") - 1)] + b"\n")
    message = refusal(aws(tmp_path))
    assert f"{path}: line 3 is cut off: it has " in message
    assert "but the header has" in message


def test_a_quote_never_closed_at_the_end_is_refused(tmp_path):
    path = write_cur(tmp_path / "cur.csv", [row(), row(line_item_id="li-2")])
    # The last value opens a quote the cut never closes, and a line break follows.
    data = path.read_bytes().rstrip(b"\r\n")
    path.write_bytes(data + b',"Amazon Elastic\n')
    message = refusal(aws(tmp_path))
    assert f"{path}: line 3 is cut off" in message


def test_azure_export_cut_inside_its_last_row_is_refused(tmp_path):
    line = cut_inside_last_row(EA_SAMPLE, tmp_path / "ea.csv", keep=40)
    assert refusal(azure(tmp_path)).startswith(f"{tmp_path / 'ea.csv'}: line {line} is cut off")


@pytest.mark.parametrize("sample", [BILLED_CSV, BILLED_JSONL], ids=["csv", "jsonl"])
def test_reconciliation_file_cut_inside_its_last_row_is_refused(tmp_path, sample):
    target = tmp_path / sample.name
    line = cut_inside_last_row(sample, target, keep=30)
    assert refusal(csp(tmp_path)).startswith(f"{target}: line {line} is cut off")


def test_gzipped_reconciliation_file_cut_inside_its_last_row_is_refused(tmp_path):
    data = BILLED_JSONL.read_bytes().rstrip(b"\n")
    (tmp_path / "recon.jsonl.gz").write_bytes(gzip.compress(data[:-1] + b"}"))
    assert "is cut off" in refusal(csp(tmp_path))


# -- cut exactly at a line end: only a manifest tells ----------------------------------


def manifest(folder: Path, blobs: list[tuple[str, int, int]]) -> None:
    """An Azure Cost Management export manifest.json listing ``(name, bytes, rows)``."""
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "manifestVersion": "2024-04-01",
                "byteCount": sum(b for _, b, _ in blobs),
                "blobCount": len(blobs),
                "dataRowCount": sum(r for _, _, r in blobs),
                "blobs": [
                    {"blobName": f"exports/costs/20261001-20261031/run/{name}",
                     "byteCount": size, "dataRowCount": rows}
                    for name, size, rows in blobs
                ],
            }
        )
    )  # fmt: skip


def sample_rows(path: Path) -> int:
    return len(path.read_bytes().rstrip(b"\r\n").splitlines()) - 1


def test_azure_export_matching_its_manifest_is_read(tmp_path):
    shutil.copy(EA_SAMPLE, tmp_path / "part_0_0001.csv")
    size = EA_SAMPLE.stat().st_size
    manifest(tmp_path, [("part_0_0001.csv", size, sample_rows(EA_SAMPLE))])
    assert list(azure(tmp_path).fetch())


def test_azure_export_cut_at_a_line_end_is_refused_by_its_manifest_byte_count(tmp_path):
    cut_at_line_end(EA_SAMPLE, tmp_path / "part_0_0001.csv", lines=6)
    manifest(tmp_path, [("part_0_0001.csv", EA_SAMPLE.stat().st_size, sample_rows(EA_SAMPLE))])
    message = refusal(azure(tmp_path))
    assert message.startswith(f"{tmp_path / 'part_0_0001.csv'}: the file has ")
    assert "manifest.json says" in message


def test_azure_export_with_fewer_rows_than_its_manifest_says_is_refused(tmp_path):
    cut_at_line_end(EA_SAMPLE, tmp_path / "part_0_0001.csv", lines=6)
    size = (tmp_path / "part_0_0001.csv").stat().st_size
    manifest(tmp_path, [("part_0_0001.csv", size, sample_rows(EA_SAMPLE))])
    message = refusal(azure(tmp_path))
    assert f"holds 5 data row(s) but {tmp_path / 'manifest.json'} says" in message


def test_azure_export_missing_a_part_its_manifest_lists_is_refused(tmp_path):
    shutil.copy(EA_SAMPLE, tmp_path / "part_0_0001.csv")
    size = EA_SAMPLE.stat().st_size
    manifest(tmp_path, [("part_0_0001.csv", size, 1), ("part_1_0001.csv", size, 1)])
    assert "lists exports/costs/20261001-20261031/run/part_1_0001.csv" in refusal(azure(tmp_path))


def test_focus_export_with_fewer_rows_than_its_manifest_says_is_refused(tmp_path):
    cut_at_line_end(FOCUS_SAMPLE, tmp_path / "part_0_0001.csv", lines=4)
    size = (tmp_path / "part_0_0001.csv").stat().st_size
    manifest(tmp_path, [("part_0_0001.csv", size, sample_rows(FOCUS_SAMPLE))])
    assert "holds 3 data row(s)" in refusal(focus(tmp_path))


# -- header only -------------------------------------------------------------------


def header_only(source: Path, target: Path, compress: bool = False) -> Path:
    first = source.read_bytes().splitlines(keepends=True)[0]
    target.write_bytes(gzip.compress(first) if compress else first)
    return target


@pytest.mark.parametrize("compress", [False, True], ids=["csv", "csv.gz"])
def test_header_only_focus_export_is_no_data_rows(tmp_path, compress):
    path = header_only(FOCUS_SAMPLE, tmp_path / ("f.csv.gz" if compress else "f.csv"), compress)
    assert refusal(focus(tmp_path)).startswith(f"no data rows in {path}")


@pytest.mark.parametrize("compress", [False, True], ids=["csv", "csv.gz"])
def test_header_only_azure_export_is_no_data_rows(tmp_path, compress):
    path = header_only(EA_SAMPLE, tmp_path / ("a.csv.gz" if compress else "a.csv"), compress)
    assert refusal(azure(tmp_path)).startswith(f"no data rows in {path}")


def test_header_only_reconciliation_file_is_no_data_rows(tmp_path):
    path = header_only(BILLED_CSV, tmp_path / "recon.csv")
    assert refusal(csp(tmp_path)).startswith(f"no data rows in {path}")


@pytest.mark.parametrize("compress", [False, True], ids=["csv", "csv.gz"])
def test_header_only_aws_cur_is_no_data_rows(tmp_path, compress):
    source = write_cur(tmp_path / "src" / "cur.csv", [row()])
    (tmp_path / "cur").mkdir()
    path = header_only(source, tmp_path / "cur" / ("c.csv.gz" if compress else "c.csv"), compress)
    assert refusal(aws(tmp_path / "cur")).startswith(f"no data rows in {path}")


def test_nothing_is_yielded_when_one_of_several_files_is_cut(tmp_path):
    shutil.copy(FOCUS_SAMPLE, tmp_path / "a.csv")
    cut_inside_last_row(FOCUS_SAMPLE, tmp_path / "b.csv")
    batches = []
    with pytest.raises(SourceDataError):
        for batch in focus(tmp_path).fetch():
            batches.append(batch)
    assert batches == []
