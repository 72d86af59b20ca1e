"""`connector statements generate`: per-run overrides of the tenant's generation options,
and what it says about unassigned spend.

A small CUR, so every amount is worked out by hand. October 2026:
  111111111111 (customer 1001): EC2 100.00, S3 20.00, Marketplace "Datadog Pro" 30.00
  333333333333 (customer 1002): EC2 10.00
  555555555555 (no customer):   EC2 18.00

The example tenant's defaults: apply credits, include tax (8.25 %), include
marketplace fees, credits do not pay marketplace fees, credits after tax
(include_credits_for_tax: false). Customer 1001 is granted a 160.00 credit, K.

1001's priced lines: EC2 100.00 x 1.15 = 115.00; S3 20.00 x 0.95 = 19.00;
B = 134.00; Marketplace M = 30.00 at cost; tax = 8.25 % x 134.00 = 11.055 -> 11.06.
  defaults                   C = min(160.00, 134.00 + 11.06) = 145.06
                             total = 134.00 + 11.06 + 30.00 - 145.06 = 30.00; K left 14.94
  --no-credits               C = 0; total = 134.00 + 11.06 + 30.00 = 175.06; K left 160.00
  --no-tax                   no tax line, tax 0.00; C = min(160.00, 134.00) = 134.00
                             total = 134.00 + 30.00 - 134.00 = 30.00; K left 26.00
  --no-marketplace           no marketplace line; C = 145.06; total 0.00; K left 14.94
  --credits-for-marketplace  C = min(160.00, 134.00 + 11.06 + 30.00) = 160.00
                             total = 175.06 - 160.00 = 15.06; K left 0.00
1002 (no credit): EC2 10.00 x 1.15 = 11.50; tax 0.94875 -> 0.95; total 12.45.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.core.conftest import DEMO_CUR, run, settings_file
from tests.providers.cur_files import row, write_cur

GENERATE = ("statements", "generate", "--tenant", "acme", "--provider", "aws",
            "--period", "2026-10")  # fmt: skip
S3 = {"product": "AmazonS3", "product_name": "Amazon Simple Storage Service",
      "usage_type": "USE1-Requests-Tier1"}  # fmt: skip
DATADOG = {"entity": "AWS Marketplace", "product": "prod-datadog",
           "product_name": "Datadog Pro", "legal": "Datadog, Inc."}  # fmt: skip
EC2 = ("service", "Amazon Elastic Compute Cloud", Decimal("115.00"))
S3_LINE = ("service", "Amazon Simple Storage Service", Decimal("19.00"))
MARKETPLACE = ("marketplace", "AWS Marketplace: Datadog Pro", Decimal("30.00"))
TAX = ("tax", "US Sales Tax (8.25%)", Decimal("11.06"))


def credit(amount: str) -> tuple[str, str, Decimal]:
    return ("credit", "Credits applied", -Decimal(amount))


@pytest.fixture
def tenant_file(tmp_path: Path, example_tenants: Path) -> Path:
    """The example tenant, its AWS folder holding the small CUR above."""
    folder = tmp_path / "cur"
    write_cur(folder / "cur-2026-10.csv", [
        row(line_item_id="a", account="111111111111", cost="100.0000000000"),
        row(line_item_id="b", account="111111111111", cost="20.0000000000", **S3),
        row(line_item_id="c", account="111111111111", cost="30.0000000000", **DATADOG),
        row(line_item_id="d", account="333333333333", cost="10.0000000000"),
        row(line_item_id="e", account="555555555555", cost="18.0000000000"),
    ])  # fmt: skip
    path = example_tenants / "acme.yaml"
    path.write_text(path.read_text().replace(str(DEMO_CUR), str(folder)))
    return path


@pytest.fixture
def config(tmp_path: Path, example_tenants: Path, tenant_file: Path, db_url: str) -> str:
    """Settings for the tenant on each database, October ingested, 1001 granted 160.00."""
    path = str(settings_file(tmp_path, example_tenants, db_url))
    ingested = run("--config", path, "ingest", "--tenant", "acme", "--provider", "aws")
    assert ingested.exit_code == 0, ingested.output
    granted = run("--config", path, "credits", "add", "--tenant", "acme", "--customer", "1001",
                  "--amount", "160.00", "--comment", "AWS promo credit, acct 1111")  # fmt: skip
    assert granted.exit_code == 0, granted.output
    return path


def generate(config: str, *flags: str) -> dict[str, dict]:
    """Run generate with ``flags``; each generated statement's summary, by customer."""
    result = run("--config", config, *GENERATE, *flags, "--json")
    assert result.exit_code == 0, result.output
    return {s["customer"]: s for s in json.loads(result.output)["generated"]}


def lines(config: str, statement: dict) -> list[tuple[str, str, Decimal]]:
    """The stored draft's lines, read back with `statements show`."""
    shown = run("--config", config, "statements", "show", "--tenant", "acme", statement["id"],
                "--json")  # fmt: skip
    assert shown.exit_code == 0, shown.output
    return [
        (x["kind"], x["description"], Decimal(x["amount"]))
        for x in json.loads(shown.output)["lines"]
    ]


def balance(config: str) -> Decimal:
    listed = run("--config", config, "credits", "list", "--tenant", "acme", "--customer", "1001",
                 "--json")  # fmt: skip
    (entry,) = json.loads(listed.output)
    return Decimal(entry["balance"])


def test_generate_uses_the_tenant_defaults(config: str) -> None:
    """Credits after tax, not on marketplace: C = 145.06, total 30.00, 14.94 left; 1002 is
    built too (12.45) since no --customer limits the run."""
    built = generate(config)
    assert set(built) == {"1001", "1002"}
    statement = built["1001"]
    assert lines(config, statement) == [EC2, S3_LINE, MARKETPLACE, credit("145.06"), TAX]
    assert Decimal(statement["tax"]) == Decimal("11.06")
    assert Decimal(statement["total"]) == Decimal("30.00")
    assert balance(config) == Decimal("14.94")
    assert Decimal(built["1002"]["total"]) == Decimal("12.45")
    # As stored and read back, written in cents on both databases (PostgreSQL gives 12
    # places).
    listed = run("--config", config, "statements", "list", "--tenant", "acme", "--json")
    assert sorted(s["total"] for s in json.loads(listed.output)) == ["12.45", "30.00"]


def test_customer_limits_the_run_to_the_named_customers(config: str) -> None:
    """--customer 1002: only 1002's draft (12.45) is built; 1001's credit is untouched."""
    built = generate(config, "--customer", "1002")
    assert set(built) == {"1002"} and Decimal(built["1002"]["total"]) == Decimal("12.45")
    listed = json.loads(
        run("--config", config, "statements", "list", "--tenant", "acme", "--json").output
    )
    assert [s["customer"] for s in listed] == ["1002"]
    assert balance(config) == Decimal("160.00")


def test_no_credits_applies_no_credit_this_run(config: str) -> None:
    """--no-credits: no credit line, total 175.06, the 160.00 balance untouched."""
    statement = generate(config, "--customer", "1001", "--no-credits")["1001"]
    assert lines(config, statement) == [EC2, S3_LINE, MARKETPLACE, TAX]
    assert Decimal(statement["total"]) == Decimal("175.06")
    assert balance(config) == Decimal("160.00")


def test_no_tax_adds_no_tax_this_run(config: str) -> None:
    """--no-tax: no tax line and tax 0.00; the credit covers B = 134.00, total 30.00."""
    statement = generate(config, "--customer", "1001", "--no-tax")["1001"]
    assert lines(config, statement) == [EC2, S3_LINE, MARKETPLACE, credit("134.00")]
    assert statement["tax"] == "0.00"
    assert Decimal(statement["total"]) == Decimal("30.00")
    assert balance(config) == Decimal("26.00")


def test_no_marketplace_leaves_marketplace_fees_out_this_run(config: str) -> None:
    """--no-marketplace: no marketplace line; the credit pays 145.06, total 0.00."""
    statement = generate(config, "--customer", "1001", "--no-marketplace")["1001"]
    assert lines(config, statement) == [EC2, S3_LINE, credit("145.06"), TAX]
    assert Decimal(statement["total"]) == Decimal("0.00")
    assert balance(config) == Decimal("14.94")


def test_credits_for_marketplace_lets_credits_pay_marketplace_fees_this_run(
    config: str,
) -> None:
    """--credits-for-marketplace: the whole 160.00 is used, total 15.06, nothing left."""
    statement = generate(config, "--customer", "1001", "--credits-for-marketplace")["1001"]
    assert lines(config, statement) == [EC2, S3_LINE, MARKETPLACE, credit("160.00"), TAX]
    assert Decimal(statement["total"]) == Decimal("15.06")
    assert balance(config) == Decimal("0.00")


def test_an_override_lasts_one_run(config: str) -> None:
    """After a --no-tax run, a run without flags is back to the defaults (total 30.00
    with 11.06 of tax and C = 145.06)."""
    generate(config, "--customer", "1001", "--no-tax")
    statement = generate(config, "--customer", "1001")["1001"]
    assert lines(config, statement) == [EC2, S3_LINE, MARKETPLACE, credit("145.06"), TAX]
    assert balance(config) == Decimal("14.94")


def test_generate_warns_of_unassigned_spend_and_says_what_to_do(config: str) -> None:
    """unassigned_spend: report (the example's): the drafts are built and the 18.00
    billed to 555555555555 is printed, with how to map it, and in the JSON."""
    printed = run("--config", config, *GENERATE)
    assert printed.exit_code == 0, printed.output
    text = " ".join(printed.output.split())  # undo the console's wrapping
    assert (
        "unassigned spend: 18.00 USD billed to 1 account no customer claims: 555555555555 "
        "18.00 USD map each account to a customer under customers[].accounts.aws in the "
        "tenant file, or set unassigned_spend: block" in text
    )
    result = json.loads(run("--config", config, *GENERATE, "--json").output)
    assert result["unassigned"] == [
        {"account": "555555555555", "currency": "USD", "billed_cost": "18.00"}
    ]
    assert {s["customer"] for s in result["generated"]} == {"1001", "1002"}


def test_generate_with_unassigned_spend_blocked_exits_5_and_stores_nothing(
    config: str, tenant_file: Path
) -> None:
    """unassigned_spend: block: exit 5, the message names the account, its 18.00 and
    what to set; no draft is stored and 1001's 160.00 credit is untouched."""
    text = tenant_file.read_text()
    tenant_file.write_text(text.replace("unassigned_spend: report", "unassigned_spend: block"))
    result = run("--config", config, *GENERATE)
    assert result.exit_code == 5
    message = " ".join(result.output.split())
    assert "555555555555 (billed 18.00 USD)" in message
    assert "customers[].accounts.aws" in message and "set unassigned_spend: report" in message
    listed = run("--config", config, "statements", "list", "--tenant", "acme", "--json")
    assert json.loads(listed.output) == []
    assert balance(config) == Decimal("160.00")
