"""Money prints the same on SQLite and PostgreSQL (issue 20, defect 2, in part).

PostgreSQL hands amounts back at NUMERIC(38, 12)'s scale: `statements show` printed
line amounts as 0.270000000000 and `generate --json` unassigned spend as 0E-12 where
SQLite printed 0.27 and 0.00. The same commands on both engines must print the same
bytes (but for the statements' ids, which are new on each).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import REPO
from tests.core.conftest import DEMO_CUR, run, settings_file


def outputs(tmp_path: Path, database_url: str | None) -> list[str]:
    tenants = tmp_path / "tenants"
    shutil.copytree(REPO / "config/tenants", tenants)
    path = tenants / "acme.yaml"
    path.write_text(path.read_text().replace("../../connector/demo_data/aws", str(DEMO_CUR)))
    config = str(settings_file(tmp_path, tenants, database_url))
    assert run("--config", config, "ingest", "--tenant", "acme", "--provider", "aws").exit_code == 0
    generated = run("--config", config, "statements", "generate", "--tenant", "acme",
                    "--provider", "aws", "--period", "2026-10", "--json")  # fmt: skip
    data = json.loads(generated.output)
    texts = [json.dumps(data["unassigned"])]
    for summary in sorted(data["generated"], key=lambda s: s["customer"]):
        for extra in (["--json"], []):
            shown = run("--config", config, "statements", "show", "--tenant", "acme",
                        summary["id"], *extra)  # fmt: skip
            assert shown.exit_code == 0, shown.output
            texts.append(shown.output.replace(summary["id"], "<id>"))
    return texts


def test_statements_show_and_unassigned_spend_print_the_same_on_both_engines(
    tmp_path: Path, postgres_url: str
) -> None:
    sqlite = outputs(tmp_path / "sqlite", None)
    postgresql = outputs(tmp_path / "postgresql", postgres_url)
    assert sqlite == postgresql
    assert json.loads(sqlite[0]) == [  # full precision, as documented
        {"account": "555555555555", "currency": "USD", "billed_cost": "151.0143700425"}
    ]
    assert '"amount": "74.97"' in sqlite[1] and '"exchange_rate": "1"' in sqlite[1]
    assert "Blue Harbor Logistics LLC (customer 1001)" in " ".join(sqlite[2].split())
