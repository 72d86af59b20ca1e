"""A bad day's folder: the same export twice, a half-finished download beside it.

A browser saves a second download as ``export (1).csv``; a sync tool keeps a copy; the
legacy CUR's keep-versions layout holds the current version both in the period folder
and in its assembly folder. Read as they are, every row of such a copy is billed twice,
so a byte-identical copy is refused naming both files. A retried download's
``.part`` file is not an export: it is left alone, the complete file is read once.
"""

from __future__ import annotations

import gzip
import shutil
from decimal import Decimal

import pytest
from connector_aws import AwsCurProvider
from connector_azure import AzureCostProvider
from connector_focus import FocusProvider

from tests.providers.azure_files import EA_SAMPLE
from tests.providers.cur_files import row, write_cur
from tests.providers.export_files import csv_bytes, read_csv, write_bytes
from tests.providers.fetching import FolderFetch
from tests.providers.focus_files import FOCUS_12, to_parquet

# The real EA sample's costs add up to this (12 places, see test_azure_cost).
EA_TOTAL = Decimal("8.545007786742")


def write_csv(path, header, rows):
    return write_bytes(path, csv_bytes(header, rows, line_end="\n"))


def total(batches) -> Decimal:
    return sum((c.billed_cost for b in batches for c in b.charges), Decimal(0))


def test_a_copy_of_an_azure_export_under_another_name_is_refused_naming_both(tmp_path):
    shutil.copy(EA_SAMPLE, tmp_path / "export.csv")
    shutil.copy(EA_SAMPLE, tmp_path / "export (1).csv")
    message = FolderFetch(AzureCostProvider).refusal(tmp_path)
    # Files are taken in path order: "export (1).csv" sorts first.
    assert message.startswith(
        f"{tmp_path / 'export.csv'} holds the same bytes as {tmp_path / 'export (1).csv'}"
    )
    assert "billed twice" in message and "remove one of them" in message


def test_a_copy_of_a_focus_parquet_file_in_another_folder_is_refused(tmp_path):
    to_parquet(FOCUS_12, tmp_path / "a" / "part_0.parquet")
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    message = FolderFetch(FocusProvider).refusal(tmp_path)
    assert message.startswith(
        f"{tmp_path / 'b' / 'part_0.parquet'} holds the same bytes as "
        f"{tmp_path / 'a' / 'part_0.parquet'}"
    )


def test_the_legacy_cur_current_copy_beside_its_assembly_folder_is_refused(tmp_path):
    period = tmp_path / "report" / "20261101-20261201"
    write_cur(period / "report-00001.csv.gz", [row()])
    (period / "3f1c-assembly").mkdir()
    shutil.copy(period / "report-00001.csv.gz", period / "3f1c-assembly")
    message = FolderFetch(AwsCurProvider).refusal(tmp_path)
    assert "report-00001.csv.gz holds the same bytes as " in message
    assert "billed twice" in message


def test_same_sized_exports_with_other_bytes_are_both_read(tmp_path):
    data = EA_SAMPLE.read_bytes()
    (tmp_path / "a.csv").write_bytes(data)
    # The same length, one cost changed (Cost 3.25 -> 3.24): another export.
    (tmp_path / "b.csv").write_bytes(data.replace(b",3.25,3.25,3.25,", b",3.25,3.24,3.25,"))
    assert (tmp_path / "a.csv").stat().st_size == (tmp_path / "b.csv").stat().st_size
    batches = FolderFetch(AzureCostProvider)(tmp_path)
    assert total(batches) == EA_TOTAL * 2 - Decimal("0.01")


@pytest.mark.parametrize("part", ["export.csv.gz.part", "export.csv.part", "export.csv.crdownload"])
def test_a_retried_downloads_leftover_is_ignored_and_the_export_read_once(tmp_path, part):
    (tmp_path / "export.csv.gz").write_bytes(gzip.compress(EA_SAMPLE.read_bytes()))
    (tmp_path / part).write_bytes(gzip.compress(EA_SAMPLE.read_bytes())[:300])
    [batch] = FolderFetch(AzureCostProvider)(tmp_path)
    assert total([batch]) == EA_TOTAL
    assert batch.source == str(tmp_path / "export.csv.gz")


def test_an_azure_export_beside_its_own_gzip_copy_is_refused(tmp_path):
    shutil.copy(EA_SAMPLE, tmp_path / "export.csv")
    (tmp_path / "export.csv.gz").write_bytes(gzip.compress(EA_SAMPLE.read_bytes()))
    message = FolderFetch(AzureCostProvider).refusal(tmp_path)
    assert message.startswith(
        f"{tmp_path / 'export.csv.gz'} holds the same rows as {tmp_path / 'export.csv'}"
    )
    assert "billed twice" in message


def test_a_focus_csv_beside_its_parquet_copy_is_refused(tmp_path):
    shutil.copy(FOCUS_12, tmp_path / "export.csv")
    to_parquet(FOCUS_12, tmp_path / "export.parquet")
    message = FolderFetch(FocusProvider).refusal(tmp_path)
    assert message.startswith(
        f"{tmp_path / 'export.parquet'} holds the same rows as {tmp_path / 'export.csv'}"
    )


def test_files_of_one_export_split_by_day_are_read_together(tmp_path):
    header, rows = read_csv(EA_SAMPLE, encoding="utf-8-sig")
    days = sorted({r["Date"] for r in rows})
    first = [r for r in rows if r["Date"] == days[0]]
    write_csv(tmp_path / "part_0.csv", header, first)
    write_csv(tmp_path / "part_1.csv", header, [r for r in rows if r["Date"] != days[0]])
    assert total(FolderFetch(AzureCostProvider)(tmp_path)) == EA_TOTAL
