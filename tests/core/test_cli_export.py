"""`statements export` writes what it can, where the settings say (issue 20, defect 3).

It refused `--format csv,html` although its help showed the default written that way,
wrote under the current directory instead of the daemon settings' ``output_dir``, and
stopped at the first Draft a renderer needs a number for, writing nothing more.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from connector.contracts import PluginError
from tests.core.conftest import build_october, run

ACME = ("--tenant", "acme")


def folder_of(config: str) -> Path:
    """Where export writes by default: ``<output_dir>/<tenant>/statements``."""
    return Path(config).parent / "out" / "acme" / "statements"


def export(config: str, *args: str):  # type: ignore[no-untyped-def]
    return run("--config", config, "statements", "export", *ACME, *args)


def suffixes(folder: Path) -> dict[str, set[str]]:
    """The files in ``folder``: customer -> suffixes ("aws-2026-10-1001-…" names)."""
    found: dict[str, set[str]] = {}
    for path in folder.iterdir():
        customer = path.name.split("-")[3]
        found.setdefault(customer, set()).add("".join(path.suffixes))
    return found


def test_comma_lists_and_repeats_all_count_and_files_land_under_output_dir(
    example_config: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = {s["customer"]: s["id"] for s in build_october(example_config)}
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = export(example_config, ids["1001"], "--format", "csv, html", "--format", "pdf,csv")
    assert result.exit_code == 0, result.output
    assert suffixes(folder_of(example_config)) == {"1001": {".csv", ".html", ".pdf"}}
    assert sorted(result.stdout.split()) == sorted(map(str, folder_of(example_config).iterdir()))
    assert list(elsewhere.iterdir()) == []  # nothing under the current directory


def test_drafts_get_every_format_they_can_and_the_rest_is_named(example_config: str) -> None:
    """A period of three Drafts as UBL and CSV: the CSVs are written, and each UBL is
    named as waiting for approval, with the command that approves them. That is no
    failure (exit 0). Once approved, their UBL is written too."""
    build_october(example_config)
    result = export(example_config, "--period", "2026-10", "--format", "ubl,csv")
    assert result.exit_code == 0, result.output
    assert suffixes(folder_of(example_config)) == {c: {".csv"} for c in ("1001", "1002", "1003")}
    waiting = " ".join(result.stderr.split())
    assert "needs approval first, then export again (`connector statements approve" in waiting
    for customer in ("1001", "1002", "1003"):
        assert f"(customer {customer}, aws 2026-10): ubl" in waiting

    approved = run("--config", example_config, "statements", "approve", *ACME, "--all")
    assert approved.exit_code == 0, approved.output
    again = export(example_config, "--period", "2026-10", "--format", "ubl")
    assert again.exit_code == 0, again.output
    assert "needs approval" not in again.stderr
    assert suffixes(folder_of(example_config)) == {
        c: {".csv", ".xml"} for c in ("1001", "1002", "1003")
    }


def test_a_draft_with_nothing_it_can_be_rendered_as_exits_5(example_config: str) -> None:
    ids = {s["customer"]: s["id"] for s in build_october(example_config)}
    result = export(example_config, ids["1002"], "--format", "ubl")
    assert result.exit_code == 5
    message = " ".join(result.stderr.split())
    assert "needs approval first" in message and "(customer 1002, aws 2026-10): ubl" in message
    assert not folder_of(example_config).exists() or not any(folder_of(example_config).iterdir())


def test_a_renderer_failure_exits_6_after_writing_everything_else(
    example_config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from connector_render_csv.plugin import CsvRenderer

    build_october(example_config)
    render = CsvRenderer.render

    def failing(self, document, fmt):  # type: ignore[no-untyped-def]
        if document.customer_id == "1002" and fmt == "csv":
            raise PluginError("the csv template lost its header")
        return render(self, document, fmt)

    monkeypatch.setattr(CsvRenderer, "render", failing)
    result = export(example_config, "--period", "2026-10", "--format", "csv,detailed-csv")
    assert result.exit_code == 6
    assert suffixes(folder_of(example_config)) == {
        "1001": {".csv", ".detailed.csv"},
        "1002": {".detailed.csv"},
        "1003": {".csv", ".detailed.csv"},
    }
    message = " ".join(result.stderr.split())
    assert "not rendered: Draft " in message
    assert "(customer 1002, aws 2026-10) as csv: the csv template lost its header" in message
