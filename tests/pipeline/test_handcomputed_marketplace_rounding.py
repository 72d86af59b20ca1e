"""Marketplace fees that round up, end to end through the `connector` CLI: the statement,
its stored lines and the ERP import all tie to the total worked out by hand.

Tenant "mini", AWS, period 2099-10, one customer 3001 (USD, "Sales" 10 %, no
exemption), pricebook markup 0 %, rounding adjustments on, tax rounded per statement,
marketplace fees included. CUR rows of account A:
  EC2                          cost 0.0500000000 x 1.00 -> line 0.05
  AWS Marketplace Datadog Pro  cost 0.0050000000 at cost -> line 0.01 (half-up)
  AWS Marketplace Foxit Reader cost 0.0050000000 at cost -> line 0.01 (half-up)
Σ exact = 0.06 -> 0.06; Σ rounded lines = 0.07; all of the -0.01 is the marketplace
lines' own rounding (their exact 0.010 -> 0.01, shown 0.02), so it is a marketplace
line "AWS Marketplace: Rounding adjustment" -0.01, outside the taxed base:
  S = 0.05; tax = r(10 % x 0.05 = 0.005) = 0.01; M = 0.01 + 0.01 - 0.01 = 0.01
  total = 0.05 + 0.01 + 0.01 = 0.07; subtotal (all but tax and credits) = 0.06
Before the fix the -0.01 was a taxed "Rounding adjustment": tax on 0.04 = 0.00, and
the statement was 0.06.
"""

from __future__ import annotations

import csv
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.core.conftest import run, settings_file
from tests.providers.cur_files import row, write_cur

A = "111111111111"
MONTH = {
    "invoice": "",
    "period_start": "2099-10-01T00:00:00Z",
    "period_end": "2099-11-01T00:00:00Z",
    "start": "2099-10-07T00:00:00Z",
    "end": "2099-10-07T01:00:00Z",
}
EC2 = {"product": "AmazonEC2", "product_name": "Amazon Elastic Compute Cloud"}
MARKETPLACE = {"entity": "AWS Marketplace", "usage_type": "USE1-MP:Subscription"}

TENANT_YAML = """\
tenant: mini
profile:
  name: Mini Reseller
  country: US
invoice_options:
  next_invoice_number: 7
  add_rounding_adjustments: true
  tax_rounding: statement
generation:
  apply_credits: true
  include_tax: true
  include_marketplace_fees: true
providers:
  aws:
    settings:
      path: {cur}
pricebooks:
  - id: flat
    provider: aws
    versions:
      - effective: 2026-01-01
        rules:
          - {{adjust: markup, percent: 0}}
tax_rates:
  - {{name: Sales, rate: "0.10"}}
erp:
  sink: csv
  settings:
    template: xero
    output_dir: {erp}
customers:
  - id: "3001"
    name: Tiny Fees Ltd
    invoice_currency: USD
    pricebooks: {{aws: flat}}
    accounts: {{aws: ["{a}"]}}
    tax: Sales
    erp: {{contact_name: Tiny Fees Ltd}}
"""

LINES = [
    ("service", "Amazon Elastic Compute Cloud", "0.05"),
    ("marketplace", "AWS Marketplace: Datadog Pro", "0.01"),
    ("marketplace", "AWS Marketplace: Foxit Reader", "0.01"),
    ("marketplace", "AWS Marketplace: Rounding adjustment", "-0.01"),
    ("tax", "Sales (10%)", "0.01"),
]


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> str:
    rows = [
        row(line_item_id="e1", account=A, cost="0.0500000000", **MONTH, **EC2),
        row(line_item_id="m1", account=A, cost="0.0050000000", product="prod-dd",
            product_name="Datadog Pro", **MONTH, **MARKETPLACE),
        row(line_item_id="m2", account=A, cost="0.0050000000", product="prod-fx",
            product_name="Foxit Reader", **MONTH, **MARKETPLACE),
    ]  # fmt: skip
    write_cur(tmp_path / "cur" / "cur-2099-10.csv", rows)
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    text = TENANT_YAML.format(cur=tmp_path / "cur", erp=tmp_path / "erp", a=A)
    (tenants / "mini.yaml").write_text(text)
    return str(settings_file(tmp_path, tenants, db_url))


def cli(config: str, *args: str) -> str:
    result = run("--config", config, *args)
    assert result.exit_code == 0, result.output
    return result.output


def cli_json(config: str, *args: str) -> Any:
    return json.loads(cli(config, *args, "--json"))


def test_marketplace_rounding_stays_untaxed_from_build_to_erp_import(
    config: str, tmp_path: Path
) -> None:
    tenant, period = ("--tenant", "mini"), ("--provider", "aws", "--period", "2099-10")
    cli(config, "ingest", *tenant, "--provider", "aws")
    cli(config, "close", *tenant, *period)
    [draft] = cli_json(config, "statements", "generate", *tenant, *period)["generated"]
    shown = cli_json(config, "statements", "show", *tenant, draft["id"])
    lines = [(x["kind"], x["description"], Decimal(x["amount"])) for x in shown["lines"]]
    assert lines == [(kind, text, Decimal(amount)) for kind, text, amount in LINES]
    assert Decimal(shown["subtotal"]) == Decimal("0.06")
    assert Decimal(shown["tax"]) == Decimal("0.01")
    assert Decimal(shown["total"]) == Decimal("0.07") == sum(a for _, _, a in lines)

    cli(config, "statements", "approve", *tenant, "--all")
    cli(config, "push", *tenant)
    (erp_file,) = (tmp_path / "erp").rglob("*.csv")
    with erp_file.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    # One import row per non-tax line; the import's own arithmetic gives our total.
    assert [r["*Description"] for r in rows] == [text for _, text, _ in LINES[:-1]]
    amounts = sum(Decimal(r["*Quantity"]) * Decimal(r["*UnitAmount"]) for r in rows)
    tax = sum(Decimal(r["TaxAmount"]) for r in rows)
    assert (amounts, tax) == (Decimal("0.06"), Decimal("0.01"))
    assert {r["Total"] for r in rows} == {"0.07"}


def test_the_billing_report_sees_no_change_from_the_marketplace_rounding_line(
    config: str,
) -> None:
    """The report's bill view is Σ statement lines each rounded once: 0.05 + 0.01 + 0.01
    = 0.07, today and as billed; the marketplace rounding line (-0.01), like the
    "Rounding adjustment" line, is no statement line of a service, so it must not show
    as a 0.01 change between the statement and today's data."""
    tenant, period = ("--tenant", "mini"), ("--provider", "aws", "--period", "2099-10")
    cli(config, "ingest", *tenant, "--provider", "aws")
    cli(config, "close", *tenant, *period)
    cli(config, "statements", "generate", *tenant, *period)
    text = cli(config, "report", *tenant, "--provider", "aws", "--range", "2099-10",
               "--by", "customer", "--format", "csv")  # fmt: skip
    [customer] = [r for r in csv.DictReader(text.splitlines()) if r["level"] == "customer"]
    assert Decimal(customer["price_bill"]) == Decimal("0.07")
    assert Decimal(customer["billed_price_bill"]) == Decimal("0.07")
    assert Decimal(customer["change_price_bill"]) == 0
