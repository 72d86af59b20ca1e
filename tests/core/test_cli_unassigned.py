"""Unassigned spend, summed per currency and rounded (issue 20, defect 10).

`statements generate` and `connector demo` printed one three-line note per account no
customer claims, unrounded and without a currency: 150 lines for 50 accounts. They now
print per currency the total and the 5 largest accounts in the currency's minor unit;
`--all-unassigned` lists every account, and `--json` keeps each one in full with its
currency.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path

import pytest

from connector.cli.unassigned import unassigned_lines
from tests.core.conftest import DEMO_CUR, run

GENERATE = ("statements", "generate", "--tenant", "acme", "--provider", "aws",
            "--period", "2026-10")  # fmt: skip
# What the demo CUR bills the one account acme leaves unassigned, in full.
DEMO_ACCOUNT = ("555555555555", "USD", Decimal("151.0143700425"))
# Seven more USD accounts and one EUR account, added to the demo CUR.
EXTRA = {
    ("100000000001", "USD"): Decimal("1234.565"),
    ("100000000002", "USD"): Decimal("0.004"),
    ("100000000003", "USD"): Decimal("99.999"),
    ("100000000004", "USD"): Decimal("20"),
    ("100000000005", "USD"): Decimal("-3.333"),
    ("100000000006", "USD"): Decimal("7.5"),
    ("100000000007", "USD"): Decimal("300.1"),
    ("200000000001", "EUR"): Decimal("42.4242"),
}


@pytest.fixture
def many_unassigned(example_config: str, example_tenants: Path, tmp_path: Path) -> str:
    """The example tenant whose October CUR also bills the accounts of EXTRA, each in
    one row copied from the first one; October is ingested."""
    with (DEMO_CUR / "cur-2026-10-00001.csv").open(newline="") as demo:
        rows = list(csv.DictReader(demo))
    for n, ((account, currency), cost) in enumerate(EXTRA.items()):
        rows.append({**rows[0], "identity/LineItemId": f"extra{n}",
                     "lineItem/UsageAccountId": account, "lineItem/CurrencyCode": currency,
                     "lineItem/UnblendedCost": str(cost),
                     "pricing/publicOnDemandCost": str(cost)})  # fmt: skip
    folder = tmp_path / "cur"
    folder.mkdir()
    with (folder / "cur-2026-10-00001.csv").open("w", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tenant_file = example_tenants / "acme.yaml"
    tenant_file.write_text(tenant_file.read_text().replace(str(DEMO_CUR), str(folder)))
    ingested = run("--config", example_config, "ingest", "--tenant", "acme", "--provider", "aws")
    assert ingested.exit_code == 0, ingested.output
    return example_config


def test_generate_prints_a_total_per_currency_and_the_largest_accounts_rounded(
    many_unassigned: str,
) -> None:
    result = run("--config", many_unassigned, *GENERATE)
    assert result.exit_code == 0, result.output
    tail = result.output.splitlines()[-10:]
    assert tail == [  # currencies in alphabetical order, then accounts largest first
        "unassigned spend: 42.42 EUR billed to 1 account no customer claims:",
        "  200000000001  42.42 EUR",
        # 1234.565 + 0.004 + 99.999 + 20 + -3.333 + 7.5 + 300.1 + 151.0143700425
        "unassigned spend: 1,809.85 USD billed to 8 accounts no customer claims, the 5 largest:",
        "  100000000001  1,234.57 USD",
        "  100000000007    300.10 USD",
        "  555555555555    151.01 USD",
        "  100000000003    100.00 USD",
        "  100000000004     20.00 USD",
        "  and 3 more: --all-unassigned lists every account, as do the files `connector "
        "reconcile --tenant acme --provider aws --period 2026-10` writes",
        "map each account to a customer under customers[].accounts.aws in the tenant file, "
        "or set unassigned_spend: block to stop builds until they are",
    ]


def test_all_unassigned_lists_every_account(many_unassigned: str) -> None:
    result = run("--config", many_unassigned, *GENERATE, "--all-unassigned")
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.output.splitlines() if line.startswith("  ")]
    assert listed[-9:] == [
        "200000000001", "100000000001", "100000000007", "555555555555", "100000000003",
        "100000000004", "100000000006", "100000000002", "100000000005",
    ]  # fmt: skip
    assert "more:" not in result.output
    assert "  100000000005     -3.33 USD" in result.output.splitlines()


def test_generate_json_keeps_every_account_in_full_with_its_currency(
    many_unassigned: str,
) -> None:
    result = run("--config", many_unassigned, *GENERATE, "--json")
    assert result.exit_code == 0, result.output
    unassigned = json.loads(result.output)["unassigned"]
    expected = {**EXTRA, DEMO_ACCOUNT[:2]: DEMO_ACCOUNT[2]}
    assert [(u["account"], u["currency"]) for u in unassigned] == sorted(expected)
    assert {(u["account"], u["currency"]): Decimal(u["billed_cost"]) for u in unassigned} == (
        expected
    )
    assert {"account": "555555555555", "currency": "USD", "billed_cost": "151.0143700425"} in (
        unassigned
    )


def test_amounts_are_rounded_to_each_currencys_minor_unit() -> None:
    lines = unassigned_lines(
        {("a", "JPY"): Decimal("1500.5"), ("b", "BHD"): Decimal("1.23456"),
         ("c", "USD"): Decimal("0.005")},
        show_all=False, more="",
    )  # fmt: skip
    assert lines == [
        "unassigned spend: 1.235 BHD billed to 1 account no customer claims:",
        "  b  1.235 BHD",
        "unassigned spend: 1,501 JPY billed to 1 account no customer claims:",
        "  a  1,501 JPY",
        "unassigned spend: 0.01 USD billed to 1 account no customer claims:",
        "  c  0.01 USD",
    ]


def test_the_demo_prints_unassigned_spend_the_same_way(tmp_path: Path) -> None:
    result = run("demo", "--output", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    start = lines.index("unassigned spend: 151.01 USD billed to 1 account no customer claims:")
    assert lines[start + 1 : start + 3] == [
        "  555555555555  151.01 USD",
        "map each account to a customer under customers[].accounts in the tenant file",
    ]
