"""A month billed end to end through the `connector` CLI with a dozen invoice, pricing and
generation options combined on one customer, every amount worked out by hand.

Tenant "octa", AWS, period 2099-10. The CUR carries no invoice ids and the period's
business days are decades away, so only the operator's `connector close` closes it.
Options in force (tenant file below):
  pricebook "octa-aws" (most specific rule wins: SKU 4 > service 2 > none 0):
    R1 every charge             markup   15 % on cost
    R2 service AmazonEC2        markup   20 % on cost
    R3 SKU USE1-BoxUsage:m5.large discount 10 % on LIST price (pricing/publicOnDemandCost)
  global discount 5 % (customer 2001 and 2002)
  support plan "tiered": 10 % of the first 100.00, 5 % of the rest, minimum fee 12.00
  generation: apply credits, include tax, include marketplace fees, credits pay
    marketplace fees (use_credits_for_marketplace_fees: true)
  invoice options: include_credits_for_tax: true, tax_rounding: line,
    add_rounding_adjustments: true, rounding: half_up, group_by_cloud_account: true,
    invoice_number_format "OCT-{number:06d}" from next_invoice_number 417,
    term_type net, term_value 45
  customer 2002 is invoiced in EUR: rates.csv says 2099-10 USD->EUR 0.9215
  an AWS "Tax" row (5.00) is the reseller's cost and never reaches a statement

Round r() = half up to the cent. Lines are account x service category, marketplace last,
then rounding adjustment, discount, support, credits, tax.

Customer 2001 (USD, US Sales Tax 8.25 %), accounts A = 111111111111, B = 222222222222;
credit grant K = 151.06 (`credits add`; a grant finer than the cent is refused).
  A EC2 m5.large    list 96.5432109876, R3 (SKU beats R2 and R1): x 0.90 = 86.88888988884
  A EC2 EBS gp3     cost 12.3473456789, R2 (service beats R1):    x 1.20 = 14.81681481468
    line "111111111111 · Amazon Elastic Compute Cloud"  Σ 101.70570470352 -> 101.71
  A S3              cost 43.2134567890, R1:                      x 1.15 = 49.69547530735
    line "111111111111 · Amazon Simple Storage Service"          -> 49.70
  B EC2 m5.xlarge   cost 55.5555555555, R2:                      x 1.20 = 66.6666666666
    line "222222222222 · Amazon Elastic Compute Cloud"           -> 66.67
  B CloudWatch      cost  7.0707070707, R1:                      x 1.15 = 8.131313131305
    line "222222222222 · AmazonCloudWatch"                       -> 8.13
  A Marketplace Datadog Pro 24.50 at cost (no rule, no discount, no support, no tax)
    line "111111111111 · AWS Marketplace: Datadog Pro"           -> 24.50
  Σ exact = 101.70570470352 + 49.69547530735 + 66.6666666666 + 8.131313131305 + 24.50
          = 250.699159808775 -> 250.70;  Σ rounded lines = 250.71
    rounding adjustment = 250.70 - 250.71 = -0.01
  S = 101.71 + 49.70 + 66.67 + 8.13 - 0.01 = 226.20
  D = r(5 % x 226.20 = 11.31) = 11.31                       line "Discount (5%)" -11.31
  S - D = 214.89; P = 10 % x 100.00 + 5 % x 114.89 = 10.00 + 5.7445 = 15.7445
    (above the 12.00 minimum) -> 15.74                      line "Support plan" 15.74
  B = 226.20 - 11.31 + 15.74 = 230.63;  M = 24.50
  C1 = min(K, B) = 151.06;  C2 = min(151.06 - 151.06, M) = 0.00
    line "Credits applied" -151.06
  per-line tax with credits before tax: pool = C1 + |rounding| + |D|
    = 151.06 + 0.01 + 11.31 = 162.38, taken by the positive taxed lines in order:
      A EC2 101.71 takes 101.71 (pool 60.67) net   0.00  tax 0.00
      A S3   49.70 takes  49.70 (pool 10.97) net   0.00  tax 0.00
      B EC2  66.67 takes  10.97 (pool  0.00) net  55.70  tax r(4.59525)  = 4.60
      B CW    8.13 takes   0.00              net   8.13  tax r(0.670725) = 0.67
      support 15.74 takes  0.00              net  15.74  tax r(1.29855)  = 1.30
    tax = 4.60 + 0.67 + 1.30 = 6.57 (Σ net = 79.57 = B - C1; rounded once it would
    be r(6.564525) = 6.56: tax_rounding: line decides)  line "US Sales Tax (8.25%)" 6.57
  due = B - C1 + tax + M - C2 = 230.63 - 151.06 + 6.57 + 24.50 - 0.00 = 110.64
  subtotal (every line but credits and tax) = B + M = 255.13
  balance left = 151.06 - 151.06 = 0.00

Customer 2002 (EUR, EU VAT 21 %), account C = 333333333333; credit grant K = 60.00 EUR.
  converted at 0.9215 before pricing:
  C EC2 m5.large  list 25.1234567890 x 0.9215 = 23.1512654310635, R3: x 0.90
                  = 20.83613888795715 -> 20.84  line "333333333333 · Amazon Elastic Compute Cloud"
  C S3            cost 9.8765432109 x 0.9215 = 9.10123456884..., R1: x 1.15
                  = 10.4664197541710025 -> 10.47 line "333333333333 · Amazon Simple Storage Service"
  C Marketplace Datadog Pro 40.00 x 0.9215 = 36.86 at cost
                  -> 36.86                      line "333333333333 · AWS Marketplace: Datadog Pro"
  Σ exact = 68.1625586421281525 -> 68.16; Σ rounded 68.17; rounding adjustment -0.01
  S = 20.84 + 10.47 - 0.01 = 31.30
  D = r(5 % x 31.30 = 1.565) = 1.57 (half up)     line "Discount (5%)" -1.57
  S - D = 29.73; P = max(10 % x 29.73 = 2.973, minimum 12.00) = 12.00
  B = 31.30 - 1.57 + 12.00 = 41.73;  M = 36.86
  C1 = min(60.00, 41.73) = 41.73;  C2 = min(60.00 - 41.73 = 18.27, 36.86) = 18.27
    one line "Credits applied" -(41.73 + 18.27) = -60.00
  tax: pool = 41.73 + 0.01 + 1.57 = 43.31 = 20.84 + 10.47 + 12.00: every positive
    taxed line nets 0.00, tax 0.00 (credits cover the whole base: never taxed; per
    line without the pool, 4.38 + 2.20 - 0.00 - 0.33 + 2.52 - r(8.7633) = 8.77 - 8.76
    would wrongly charge 0.01)                     line "EU VAT (21%)" 0.00
  due = 41.73 - 41.73 + 0.00 + 36.86 - 18.27 = 18.59;  subtotal = B + M = 78.59
  balance left = 60.00 - 60.00 = 0.00

Approval (`approve --all`, by customer id): 2001 gets OCT-000417, 2002 OCT-000418;
issued the day they are built, due 45 days later (net 45), as the pushed import says.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.core.conftest import run, settings_file
from tests.providers.cur_files import row, write_cur

TENANT = "octa"
PERIOD = "2099-10"
A, B, C = "111111111111", "222222222222", "333333333333"
OCTOBER_2099 = {
    "invoice": "",  # no invoice ids: AWS has not finalised the month
    "period_start": "2099-10-01T00:00:00Z",
    "period_end": "2099-11-01T00:00:00Z",
    "start": "2099-10-07T00:00:00Z",
    "end": "2099-10-07T01:00:00Z",
}
EC2 = {"product": "AmazonEC2", "product_name": "Amazon Elastic Compute Cloud"}
S3 = {"product": "AmazonS3", "product_name": "Amazon Simple Storage Service",
      "usage_type": "USE1-TimedStorage-ByteHrs"}  # fmt: skip
CLOUDWATCH = {"product": "AmazonCloudWatch", "product_name": "AmazonCloudWatch",
              "usage_type": "USE1-CW:MetricMonitorUsage"}  # fmt: skip
DATADOG = {"entity": "AWS Marketplace", "product": "prod-datadog",
           "product_name": "Datadog Pro", "legal": "Datadog, Inc.",
           "usage_type": "USE1-MP:Subscription"}  # fmt: skip

TENANT_YAML = """\
tenant: octa
profile:
  name: Octa Cloud Resellers
  country: US
invoice_options:
  term_type: net
  term_value: 45
  next_invoice_number: 417
  invoice_number_format: "OCT-{{number:06d}}"
  include_credits_for_tax: true
  group_by_cloud_account: true
  add_rounding_adjustments: true
  rounding: half_up
  tax_rounding: line
generation:
  apply_credits: true
  include_tax: true
  include_marketplace_fees: true
  use_credits_for_marketplace_fees: true
providers:
  aws:
    settings:
      path: {cur}
exchange_rates: rates.csv
pricebooks:
  - id: octa-aws
    provider: aws
    versions:
      - effective: 2026-01-01
        rules:
          - {{adjust: markup, percent: 15, basis: cost}}
          - {{service: AmazonEC2, adjust: markup, percent: 20, basis: cost}}
          - {{sku: "USE1-BoxUsage:m5.large", adjust: discount, percent: 10, basis: list}}
tax_rates:
  - {{name: US Sales Tax, rate: "0.0825"}}
  - {{name: EU VAT, rate: "0.21"}}
support_plans:
  - id: tiered
    tiers:
      - {{up_to: 100, percent: 10}}
      - {{percent: 5}}
    minimum_fee: "12.00"
erp:
  sink: csv
  settings:
    template: xero
    output_dir: {erp}
unassigned_spend: report
customers:
  - id: "2001"
    name: Halvorsen Freight Inc.
    invoice_currency: USD
    pricebooks: {{aws: octa-aws}}
    accounts: {{aws: ["{a}", "{b}"]}}
    tax: US Sales Tax
    support_plan: tiered
    global_discount: 5
    erp: {{contact_name: Halvorsen Freight Inc.}}
  - id: "2002"
    name: Lindqvist Medien GmbH
    invoice_currency: EUR
    pricebooks: {{aws: octa-aws}}
    accounts: {{aws: ["{c}"]}}
    tax: EU VAT
    support_plan: tiered
    global_discount: 5
    erp: {{contact_name: Lindqvist Medien GmbH}}
"""

USD_LINES = [
    ("service", f"{A} · Amazon Elastic Compute Cloud", "101.71"),
    ("service", f"{A} · Amazon Simple Storage Service", "49.70"),
    ("service", f"{B} · Amazon Elastic Compute Cloud", "66.67"),
    ("service", f"{B} · AmazonCloudWatch", "8.13"),
    ("marketplace", f"{A} · AWS Marketplace: Datadog Pro", "24.50"),
    ("rounding", "Rounding adjustment", "-0.01"),
    ("discount", "Discount (5%)", "-11.31"),
    ("support", "Support plan", "15.74"),
    ("credit", "Credits applied", "-151.06"),
    ("tax", "US Sales Tax (8.25%)", "6.57"),
]
EUR_LINES = [
    ("service", f"{C} · Amazon Elastic Compute Cloud", "20.84"),
    ("service", f"{C} · Amazon Simple Storage Service", "10.47"),
    ("marketplace", f"{C} · AWS Marketplace: Datadog Pro", "36.86"),
    ("rounding", "Rounding adjustment", "-0.01"),
    ("discount", "Discount (5%)", "-1.57"),
    ("support", "Support plan", "12.00"),
    ("credit", "Credits applied", "-60.00"),
    ("tax", "EU VAT (21%)", "0.00"),
]
# customer: (subtotal, tax, total, invoice number, credit balance left)
EXPECTED = {
    "2001": ("255.13", "6.57", "110.64", "OCT-000417", "0.00"),
    "2002": ("78.59", "0.00", "18.59", "OCT-000418", "0.00"),
}


def month_row(**values: str) -> dict[str, str]:
    """A CUR row of October 2099 without an invoice id."""
    return row(**{**OCTOBER_2099, **values})


def cur_rows() -> list[dict[str, str]]:
    """The month's CUR rows (the docstring's charges, in USD)."""
    return [
        month_row(line_item_id="a1", account=A, usage_type="USE1-BoxUsage:m5.large",
                  cost="80.1234567890", public_cost="96.5432109876", **EC2),
        month_row(line_item_id="a2", account=A, usage_type="USE1-EBS:VolumeUsage.gp3",
                  cost="12.3473456789", **EC2),
        month_row(line_item_id="a3", account=A, cost="43.2134567890", **S3),
        month_row(line_item_id="a4", account=A, cost="24.5000000000", **DATADOG),
        # Provider tax is the reseller's cost: never on a statement.
        month_row(line_item_id="a5", account=A, type="Tax", usage_type="",
                  cost="5.0000000000", **EC2),
        month_row(line_item_id="b1", account=B, usage_type="USE1-BoxUsage:m5.xlarge",
                  cost="55.5555555555", **EC2),
        month_row(line_item_id="b2", account=B, cost="7.0707070707", **CLOUDWATCH),
        month_row(line_item_id="c1", account=C, usage_type="USE1-BoxUsage:m5.large",
                  cost="21.0000000000", public_cost="25.1234567890", **EC2),
        month_row(line_item_id="c2", account=C, cost="9.8765432109", **S3),
        month_row(line_item_id="c3", account=C, cost="40.0000000000", **DATADOG),
    ]  # fmt: skip


@pytest.fixture
def config(tmp_path: Path, db_url: str) -> str:
    """Settings for the octa tenant on each database; its CUR and rates written."""
    cur = tmp_path / "cur"
    write_cur(cur / "cur-2099-10.csv", cur_rows())
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "rates.csv").write_text("period,from,to,rate\n2099-10,USD,EUR,0.9215\n")
    (tenants / "octa.yaml").write_text(
        TENANT_YAML.format(cur=cur, erp=tmp_path / "erp", a=A, b=B, c=C)
    )
    return str(settings_file(tmp_path, tenants, db_url))


def cli(config: str, *args: str) -> str:
    """``connector --config CONFIG ARGS``; its output, after checking it succeeded."""
    result = run("--config", config, *args)
    assert result.exit_code == 0, result.output
    return result.output


def cli_json(config: str, *args: str) -> Any:
    """``connector --config CONFIG ARGS --json``, parsed."""
    return json.loads(cli(config, *args, "--json"))


def decimals(*values: str) -> tuple[Decimal, ...]:
    return tuple(Decimal(value) for value in values)


def test_eight_options_on_one_customer_end_to_end(config: str, tmp_path: Path) -> None:
    """The month above: every line, total, number, due date and balance as worked out."""
    tenant = ("--tenant", TENANT)
    period = ("--provider", "aws", "--period", PERIOD)
    cli(config, "check-config")
    cli(config, "ingest", *tenant, "--provider", "aws")
    refused = run("--config", config, "statements", "generate", *tenant, *period)
    assert refused.exit_code == 5, refused.output  # not closed yet: no statement
    assert "(manual)" in cli(config, "close", *tenant, *period)
    comment = "Onboarding credit, accounts 1111 and 2222"
    cli(config, "credits", "add", *tenant, "--customer", "2001", "--amount", "151.06",
        "--comment", comment)  # fmt: skip
    comment = "Migration credit, account 3333"
    cli(config, "credits", "add", *tenant, "--customer", "2002", "--amount", "60.00",
        "--comment", comment)  # fmt: skip

    issued_from = dt.date.today()
    generated = cli_json(config, "statements", "generate", *tenant, *period)
    drafts = {s["customer"]: s for s in generated["generated"]}
    assert set(drafts) == {"2001", "2002"} and generated["unassigned"] == []
    assert {s["status"] for s in drafts.values()} == {"Draft"}
    assert (drafts["2001"]["currency"], drafts["2002"]["currency"]) == ("USD", "EUR")
    assert drafts["2002"]["billing_currency"] == "USD"
    assert Decimal(drafts["2002"]["exchange_rate"]) == Decimal("0.9215")

    for customer, expected_lines in (("2001", USD_LINES), ("2002", EUR_LINES)):
        shown = cli_json(config, "statements", "show", *tenant, drafts[customer]["id"])
        lines = [(x["kind"], x["description"], Decimal(x["amount"])) for x in shown["lines"]]
        assert lines == [(kind, text, Decimal(amount)) for kind, text, amount in expected_lines]
        subtotal, tax, due, _, _ = EXPECTED[customer]
        found = decimals(shown["subtotal"], shown["tax"], shown["total"])
        assert found == decimals(subtotal, tax, due), customer
        assert sum(amount for _, _, amount in lines) == Decimal(due)

    balances = {b["customer"]: b for b in cli_json(config, "credits", "list", *tenant)}
    assert (balances["2001"]["currency"], balances["2002"]["currency"]) == ("USD", "EUR")
    for customer, applied in (("2001", "151.06"), ("2002", "60.00")):
        left = EXPECTED[customer][4]
        found = decimals(balances[customer]["applied"], balances[customer]["balance"])
        assert found == decimals(applied, left), customer

    cli(config, "statements", "approve", *tenant, "--all")
    listed = {s["customer"]: s for s in cli_json(config, "statements", "list", *tenant)}
    for customer, (_, tax, due, number, _) in EXPECTED.items():
        statement = listed[customer]
        assert (statement["status"], statement["number"]) == ("Open", number)
        assert decimals(statement["tax"], statement["total"]) == decimals(tax, due)
    shown = cli_json(config, "statements", "show", *tenant, "OCT-000417")
    assert shown["customer"] == "2001" and Decimal(shown["total"]) == Decimal("110.64")

    # The ERP import carries the invoice dates: issued when built, due net 45.
    cli(config, "push", *tenant)
    issued_to = dt.date.today()
    (erp_file,) = (tmp_path / "erp").rglob("*.csv")
    with erp_file.open(newline="", encoding="utf-8-sig") as handle:
        invoices = {r["*InvoiceNumber"]: r for r in csv.DictReader(handle)}
    assert set(invoices) == {"OCT-000417", "OCT-000418"}
    for customer, (_, _, due, number, _) in EXPECTED.items():
        invoice = invoices[number]
        issued = dt.date.fromisoformat(invoice["*InvoiceDate"])
        assert issued_from <= issued <= issued_to
        assert dt.date.fromisoformat(invoice["*DueDate"]) == issued + dt.timedelta(days=45)
        assert Decimal(invoice["Total"]) == Decimal(due), customer
