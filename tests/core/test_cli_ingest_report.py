"""Issue 20, defect 5: `ingest` says what it did to each period and whether it is final.

Per period: new, unchanged or replaced, with the charges read; final or not, and by
which signal (the provider's invoice-final flag, `connector close`, the business-day
rule) or when it will close. An export with no data rows is refused naming the file,
exit code 4 (usually a half-downloaded or wrong file); finding no data at all is a
warning on stderr.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tests.core.conftest import DEMO_CUR, run, settings_file
from tests.providers.cur_files import row, write_cur

EXIT_DATA = 4


def tenant_reading(tmp_path: Path, example_tenants: Path) -> tuple[str, Path]:
    """A settings file whose acme tenant reads AWS data from a folder of the test's own."""
    folder = tmp_path / "cur"
    folder.mkdir()
    path = example_tenants / "acme.yaml"
    path.write_text(path.read_text().replace(str(DEMO_CUR), str(folder)))
    return str(settings_file(tmp_path, example_tenants)), folder


def ingest(config: str, *more: str):
    return run("--config", config, "ingest", "--tenant", "acme", "--provider", "aws", *more)


def said(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(result.stdout.split())


def test_each_period_says_new_unchanged_or_replaced_with_its_charges(
    tmp_path: Path, example_tenants: Path
) -> None:
    config, folder = tenant_reading(tmp_path, example_tenants)
    two = [row(account="111111111111"), row(line_item_id="li-2", account="333333333333")]
    write_cur(folder / "cur.csv", two)
    first = ingest(config)
    assert first.exit_code == 0, first.output
    assert "aws 2026-10: new, 2 charges from" in said(first)
    again = ingest(config)
    assert "aws 2026-10: unchanged, 2 charges from" in said(again)
    write_cur(folder / "cur.csv", [row(account="111111111111")])
    changed = ingest(config)
    assert "aws 2026-10: replaced, 1 charges from" in said(changed)


@pytest.mark.parametrize(
    ("invoice", "final"),
    [
        ("EUINUS26-000001", "final: aws marked the data final (its invoice is issued)"),
        # October 2026 ends on a Saturday; five weekdays later is Friday 6 November.
        ("", "final: 5 business days after the period's end passed on 2026-11-06"),
    ],
    ids=["invoiced", "business-days-passed"],
)
def test_a_final_period_says_what_made_it_final(
    tmp_path: Path, example_tenants: Path, invoice: str, final: str
) -> None:
    config, folder = tenant_reading(tmp_path, example_tenants)
    write_cur(folder / "cur.csv", [row(invoice=invoice)])
    assert final in said(ingest(config))


def test_an_open_period_says_it_is_not_final_and_when_it_closes(
    tmp_path: Path, example_tenants: Path
) -> None:
    """October 2099 without invoice ids: Saturday 31 October, then five weekdays."""
    config, folder = tenant_reading(tmp_path, example_tenants)
    future = {"period_start": "2099-10-01T00:00:00Z", "period_end": "2099-11-01T00:00:00Z",
              "start": "2099-10-03T00:00:00Z", "end": "2099-10-03T01:00:00Z"}  # fmt: skip
    write_cur(folder / "cur.csv", [row(invoice="", **future)])
    result = ingest(config)
    text = said(result)
    assert "aws 2099-10: new, 1 charges" in text
    assert (
        "not final: aws has not marked it final (no invoice yet); it closes on 2099-11-06 " in text
    )
    assert "(5 business days after the period's end), or earlier on connector close" in text
    listed = json.loads(ingest(config, "--json").stdout)
    assert [(p["status"], p["final"], p["signal"], p["closes_on"]) for p in listed] == [
        ("unchanged", False, None, "2099-11-06")
    ]

    closed = run("--config", config, "close", "--tenant", "acme", "--provider", "aws",
                 "--period", "2099-10")  # fmt: skip
    assert "closed by an operator's signal (connector close)" in said(closed)
    after = ingest(config)
    assert "final: closed by an operator's signal (connector close)" in said(after)


def test_a_header_only_export_is_no_data_rows_on_stderr_with_exit_4(
    tmp_path: Path, example_tenants: Path
) -> None:
    config, folder = tenant_reading(tmp_path, example_tenants)
    empty = write_cur(folder / "cur-2026-10.csv", [])
    result = ingest(config)
    assert result.exit_code == EXIT_DATA
    assert result.stdout == ""
    assert f"no data rows in {empty}" in " ".join(result.stderr.split())
    helped = " ".join(run("ingest", "--help").output.split())
    assert "Exit code 4" in helped and "no data rows in FILE" in helped


def test_a_parquet_export_without_rows_is_no_data_rows_too(
    tmp_path: Path, example_tenants: Path
) -> None:
    config, folder = tenant_reading(tmp_path, example_tenants)
    source = write_cur(tmp_path / "one.csv", [row()])
    empty = folder / "cur-2026-10.parquet"
    with duckdb.connect() as con:  # the CUR's columns, typed as text, and no row
        con.execute(
            f"COPY (SELECT * FROM read_csv('{source}', all_varchar=true) LIMIT 0) "
            f"TO '{empty}' (FORMAT parquet)"
        )
    result = ingest(config)
    assert result.exit_code == EXIT_DATA, result.output
    assert f"no data rows in {empty}" in " ".join(result.stderr.split())


def test_finding_no_data_at_all_is_a_warning_on_stderr(
    tmp_path: Path, example_tenants: Path
) -> None:
    config, _ = tenant_reading(tmp_path, example_tenants)
    result = ingest(config)
    assert result.exit_code == 0
    assert result.stdout == ""
    warning = " ".join(result.stderr.split())
    assert "warning: no aws billing data found for tenant acme: nothing was ingested" in warning
