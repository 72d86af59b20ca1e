"""`connector reconcile`: the report, its CSV and JSON files, and its exit codes."""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import REPO
from tests.core.conftest import DEMO_CUR, build_october, run, settings_file
from tests.pipeline.test_reconcile_currencies import eur_customer_tenant
from tests.providers.cur_files import row, write_cur

CUR = REPO / "connector/demo_data/aws/cur-2026-10-00001.csv"
RECONCILE = ("reconcile", "--tenant", "acme", "--provider", "aws", "--period", "2026-10")


@pytest.fixture
def config(example_config: str) -> str:
    """The example tenant on SQLite, October ingested and generated."""
    build_october(example_config)
    return example_config


def cur_total() -> Decimal:
    with CUR.open(newline="") as handle:
        return sum(
            (Decimal(row["lineItem/UnblendedCost"]) for row in csv.DictReader(handle)), Decimal(0)
        )


def test_reconcile_writes_csv_and_json_with_the_same_totals(config: str, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    result = run("--config", config, *RECONCILE, "--output", str(out), "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)

    csv_path = out / "reconcile-acme-aws-2026-10.csv"
    json_path = out / "reconcile-acme-aws-2026-10.json"
    written = json.loads(json_path.read_text())
    assert written == printed
    assert Decimal(written["provider_billed"]["total"]) == cur_total()
    tie_out = written["tie_out"]
    assert tie_out["ties_out"] is True and Decimal(tie_out["difference"]) == 0
    assert {c["customer"] for c in written["customers"]} == {"1001", "1002", "1003"}
    assert [a["account"] for a in written["unassigned"]] == ["555555555555"]

    with csv_path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_row = {(r["row"], r["id"]): r for r in rows}
    assert Decimal(by_row[("provider total", "")]["billed_cost"]) == cur_total()
    assert Decimal(by_row[("total", "")]["billed_cost"]) == cur_total()
    for c in written["customers"]:
        row = by_row[("customer", c["customer"])]
        assert Decimal(row["billed_cost"]) == Decimal(c["billable_cost"])
        assert Decimal(row["margin"]) == Decimal(c["margin"])
        assert row["statement"].startswith("draft ")
    assert Decimal(by_row[("provider", "Tax")]["billed_cost"]) == Decimal(
        written["provider_billed"]["by_category"]["Tax"]
    )
    assert Decimal(by_row[("provider", "Credit")]["billed_cost"]) == Decimal("-25")


def test_reconcile_prints_a_table_and_writes_to_the_default_folder(
    config: str, tmp_path: Path
) -> None:
    result = run("--config", config, *RECONCILE)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "ties out" in text and "555555555555" in text
    folder = tmp_path / "out/acme/reconcile"
    assert sorted(p.name for p in folder.iterdir()) == [
        "reconcile-acme-aws-2026-10.csv",
        "reconcile-acme-aws-2026-10.json",
    ]


def test_reconcile_exits_5_when_it_does_not_tie_out(config: str, tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    with engine.begin() as conn:  # a stored charge no longer matches what was ingested
        conn.execute(sa.text("UPDATE charges SET billed_cost = '1000' WHERE id = 1"))
    engine.dispose()
    result = run("--config", config, *RECONCILE)
    assert result.exit_code == 5
    assert "does not tie out" in " ".join(result.output.split())


def test_a_repull_after_generation_shows_as_drift_in_the_csv_and_json(
    tmp_path: Path, example_tenants: Path
) -> None:
    """A small CUR: customer 1001's account ran 100.00 of EC2, 1002's 10.00. The drafts
    are generated; then AWS re-delivers October with 1001's EC2 at 103.2512345678.
    1001's drift = cost now - cost its draft was built from
                 = 103.2512345678 - 100.00 = 3.2512345678; 1002's is 0.
    Regenerating the drafts takes the new data in: no drift left."""
    folder = tmp_path / "cur"
    cur = folder / "cur-2026-10.csv"

    def deliver(cost_1001: str) -> None:
        write_cur(cur, [
            row(line_item_id="a", account="111111111111", cost=cost_1001),
            row(line_item_id="b", account="333333333333", cost="10.0000000000"),
        ])  # fmt: skip

    deliver("100.0000000000")
    path = example_tenants / "acme.yaml"
    path.write_text(path.read_text().replace(str(DEMO_CUR), str(folder)))
    config = str(settings_file(tmp_path, example_tenants))
    assert build_october(config)  # ingest and generate, on the first delivery
    deliver("103.2512345678")
    repulled = run("--config", config, "ingest", "--tenant", "acme", "--provider", "aws")
    assert repulled.exit_code == 0, repulled.output
    out = tmp_path / "reports"

    result = run("--config", config, *RECONCILE, "--output", str(out), "--json")

    assert result.exit_code == 0, result.output  # it still ties out: drift is not a gap
    customers = {c["customer"]: c for c in json.loads(result.output)["customers"]}
    assert customers["1001"]["stale"] is True
    assert Decimal(customers["1001"]["drift"]) == Decimal("3.2512345678")
    assert Decimal(customers["1001"]["cost"]) == Decimal("103.2512345678")
    (problem,) = customers["1001"]["problems"]
    assert "built from older data (regenerate it)" in problem
    assert "provider data changed by 3.2512345678" in problem
    assert Decimal(customers["1002"]["drift"]) == 0
    with (out / "reconcile-acme-aws-2026-10.csv").open(newline="") as handle:
        rows = {(r["row"], r["id"]): r for r in csv.DictReader(handle)}
    assert Decimal(rows[("customer", "1001")]["drift"]) == Decimal("3.2512345678")
    assert "provider data changed by 3.2512345678" in rows[("customer", "1001")]["note"]
    assert Decimal(rows[("customer", "1002")]["drift"]) == 0
    assert Decimal(rows[("total", "")]["drift"]) == Decimal("3.2512345678")

    build_october(config)  # the re-pull is ingested already: this regenerates the drafts
    again = json.loads(run("--config", config, *RECONCILE, "--output", str(out), "--json").output)
    assert [(c["customer"], c["stale"], Decimal(c["drift"])) for c in again["customers"]] == [
        ("1001", False, Decimal(0)),
        ("1002", False, Decimal(0)),
    ]


def test_the_table_csv_and_json_total_each_currency_apart(tmp_path: Path) -> None:
    """Regression: with 1003 invoiced in EUR, the total row summed its EUR price into
    the USD totals. The table shows a total per currency and each amount's currency
    (amounts as in tests/pipeline/test_reconcile_currencies.py)."""
    tenants = eur_customer_tenant(tmp_path / "tenants")
    config = str(settings_file(tmp_path, tenants))
    assert build_october(config)
    out = tmp_path / "reports"

    table = run("--config", config, *RECONCILE, "--output", str(out))

    assert table.exit_code == 0, table.output
    text = " ".join(table.output.split())
    assert "total USD" in text and "total EUR" in text
    assert "221.16" in text and "EUR" in text  # each amount names its currency
    assert "336.16" not in text  # 115.00 USD + 221.16 EUR, the sum across currencies
    assert "rounding (EUR): adjustment lines -0.01" in text
    with (out / "reconcile-acme-aws-2026-10.csv").open(newline="") as handle:
        totals = {r["name"]: r for r in csv.DictReader(handle) if r["row"] == "total"}
    assert Decimal(totals["attributed (USD)"]["price"]) == Decimal("115.00")
    assert Decimal(totals["attributed (EUR)"]["price"]) == Decimal("221.16")
    document = json.loads(run("--config", config, *RECONCILE, "--json").output)
    assert {t["currency"]: Decimal(t["price"]) for t in document["totals"]} == {
        "EUR": Decimal("221.16"),
        "USD": Decimal("115.00"),
    }
