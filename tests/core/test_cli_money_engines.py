"""Reconcile and report print money the same on SQLite and PostgreSQL (issue 20, defect 2).

PostgreSQL hands sums back at NUMERIC(38, 12)'s scale: `reconcile --json` and its CSV
printed 0.270000000000 and 0E-12, the `billed` block of `report --format json` too,
and the tables 0.2700 where SQLite printed 0.27. Every output of these commands, file
or screen, must be the same bytes on both engines (but for the statements' ids).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from tests.conftest import REPO
from tests.core.conftest import DEMO_CUR, run, settings_file

PADDED = re.compile(r"\d\.\d*0{5,}\b|E-\d+")  # 0.270000000000, 0E-12


def _stdout(*args: str) -> str:
    result = run(*args)
    assert result.exit_code in (0, 5), result.output  # 5: the demo data does not tie out
    return result.stdout


def outputs(tmp_path: Path, database_url: str | None) -> dict[str, str]:
    """Each money-printing output of reconcile and report, ids replaced by <id>."""
    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "config/tenants", tenants)
    path = tenants / "acme.yaml"
    path.write_text(path.read_text().replace("../../connector/demo_data/aws", str(DEMO_CUR)))
    config = str(settings_file(tmp_path, tenants, database_url))
    common = ("--config", config)
    who = ("--tenant", "acme", "--provider", "aws")
    assert run(*common, "ingest", *who).exit_code == 0
    generated = run(*common, "statements", "generate", *who, "--period", "2026-10", "--json")
    ids = [s["id"] for s in json.loads(generated.stdout)["generated"]]
    reconciled = tmp_path / "reconciled"
    texts = {
        "reconcile --json": _stdout(*common, "reconcile", *who, "--period", "2026-10",
                                    "--json", "--output", str(reconciled)),
        "reconcile table": _stdout(*common, "reconcile", *who, "--period", "2026-10",
                                   "--output", str(reconciled)),
        # (Its table's id column is as wide as the ids' unique starts, which differ.)
        "statements list": _stdout(*common, "statements", "list", "--tenant", "acme", "--json"),
    }  # fmt: skip
    for written in sorted(reconciled.iterdir()):
        texts[written.name] = written.read_text()
    report = (*common, "report", *who, "--range", "2026-10", "--as-of", "2026-11-20")
    for level in ("customer", "usage-type"):
        for fmt in ("json", "csv", "table"):
            texts[f"report {level} {fmt}"] = _stdout(*report, "--by", level, "--format", fmt)
    for key, text in texts.items():
        for n, statement_id in enumerate(ids):
            text = text.replace(statement_id, f"<id {n}>")
        text = text.replace(str(tmp_path), "<tmp>")
        texts[key] = text
    return texts


def test_reconcile_and_report_print_the_same_bytes_on_both_engines(
    tmp_path: Path, postgres_url: str
) -> None:
    sqlite = outputs(tmp_path / "e1", None)  # same-length paths wrap alike
    postgresql = outputs(tmp_path / "e2", postgres_url)
    assert sorted(sqlite) == sorted(postgresql)
    for key in sqlite:
        assert sqlite[key] == postgresql[key], key
    for key, text in postgresql.items():
        assert not PADDED.search(text), (key, PADDED.search(text))
    reconciled = json.loads(sqlite["reconcile --json"])
    # Statement totals in the minor unit, full-precision costs in full.
    statement = next(c["statement"] for c in reconciled["customers"] if c["statement"])
    assert re.fullmatch(r"-?\d+\.\d\d", statement["total"])
    assert any(len(c["cost"].split(".")[1]) > 2 for c in reconciled["customers"])
