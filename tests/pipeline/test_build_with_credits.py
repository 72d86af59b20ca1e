"""Building statements that use credits, discounts and support plans, through the pipeline."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from connector.config.tenant import SupportPlan, SupportTier
from connector.domain.money import total
from connector.pipeline import credits
from connector.pipeline.build.build import delete_draft, generate
from connector.pipeline.ingest.ingest import ingest
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER
from tests.providers.cur_files import row, write_cur


def build(runtime, customer: str = "1002", **overrides):
    (statement,) = generate(runtime, "acme", "aws", OCTOBER, customer_ids=[customer],
                            overrides=overrides, today=AFTER_CLOSE).generated  # fmt: skip
    return statement


def balance(runtime, customer: str = "1002") -> Decimal:
    with runtime.db.transaction() as session:
        return credits.balance(session, "acme", customer, "USD")


def test_a_credit_larger_than_the_statement_gives_0_00_and_carries_the_rest(runtime) -> None:
    """Customer 1002's October statement is 324.12 due without credits (see the demo).
    A 1,000.00 grant pays all of it: the statement is 0.00 and 675.88 stays; deleting
    the draft returns the 324.12; regenerating without credits leaves 1,000.00."""
    ingest(runtime, "acme", "aws")
    without = build(runtime, apply_credits=False)
    credits.grant(runtime, "acme", "1002", "1000.00", "AWS promo credit, acct 3333", "test")
    with_credit = build(runtime)
    assert with_credit.total == Decimal("0.00")
    assert balance(runtime) == Decimal("1000.00") - without.total
    with runtime.db.transaction() as session:
        delete_draft(session, "acme", session.get(type(with_credit), with_credit.id), "test")
    assert balance(runtime) == Decimal("1000.00")
    regenerated = build(runtime, apply_credits=False)
    assert regenerated.total == without.total and balance(runtime) == Decimal("1000.00")


def test_regenerating_a_draft_returns_its_credits_before_applying_again(runtime) -> None:
    """A 100.00 grant: the first draft uses 100.00; rebuilding returns it and uses it
    again, so the balance is 0.00, not -100.00, and the total is unchanged."""
    ingest(runtime, "acme", "aws")
    credits.grant(runtime, "acme", "1002", "100", "goodwill", "test")
    first = build(runtime)
    second = build(runtime)
    assert second.revision == first.revision + 1
    assert second.total == first.total
    assert balance(runtime) == Decimal("0.00")


def deliver_october(runtime, tmp_path: Path, account: str, ec2_cost: str) -> None:
    """A small CUR: ``account`` ran ``ec2_cost`` of EC2, 200.00 of S3 and 12.45 of a
    Marketplace product (Datadog Pro)."""
    write_cur(tmp_path / "cur/cur-2026-10.csv", [
        row(line_item_id="a", account=account, cost=ec2_cost),
        row(line_item_id="b", account=account, cost="200.0000000000", product="AmazonS3",
            product_name="Amazon Simple Storage Service", usage_type="USE1-Requests-Tier1"),
        row(line_item_id="c", account=account, cost="12.4500000000", entity="AWS Marketplace",
            product="prod-datadog", product_name="Datadog Pro", legal="Datadog, Inc."),
    ])  # fmt: skip
    runtime.tenants["acme"].providers["aws"].settings["path"] = str(tmp_path / "cur")
    ingest(runtime, "acme", "aws")


def test_discount_then_the_support_plans_minimum_fee(runtime, tmp_path: Path) -> None:
    """Customer 1003 (tax exempt) on a "basic" plan (5 %, minimum 100.00) with a 10 %
    global discount; its account ran EC2 600.00, S3 200.00, Marketplace 12.45.
      EC2  600.00 x 1.15 = 690.00
      S3   200.00 x 0.95 = 190.00          S = 880.00
      discount D = 10 % x 880.00 = 88.00
      support  P = max(5 % x (880.00 - 88.00) = 39.60, 100.00) = 100.00
      B = 880.00 - 88.00 + 100.00 = 892.00
      Marketplace M = 12.45, outside S, D and P; exempt: no tax
      total = 892.00 + 12.45 = 904.45"""
    deliver_october(runtime, tmp_path, "444444444444", "600.0000000000")
    config = runtime.tenants["acme"]
    config.support_plans.append(
        SupportPlan(id="basic", tiers=[SupportTier(percent=Decimal(5))],
                    minimum_fee=Decimal(100))
    )  # fmt: skip
    customer = config.customer("1003")
    customer.support_plan, customer.global_discount = "basic", Decimal(10)

    statement = build(runtime, customer="1003")

    assert [(line.kind, line.description, line.amount) for line in statement.lines] == [
        ("service", "Amazon Elastic Compute Cloud", Decimal("690.00")),
        ("service", "Amazon Simple Storage Service", Decimal("190.00")),
        ("marketplace", "AWS Marketplace: Datadog Pro", Decimal("12.45")),
        ("discount", "Discount (10%)", Decimal("-88.00")),
        ("support", "Support plan", Decimal("100.00")),
    ]
    assert statement.tax == Decimal("0.00")
    assert statement.total == Decimal("904.45") == total(line.amount for line in statement.lines)


def test_support_tiers_on_the_discounted_subtotal_with_tax_on_top(runtime, tmp_path) -> None:
    """Customer 1001 (taxed 8.25 %) on the tenant's "business" plan (10 % of the first
    10,000, 5 % of the rest, minimum 100.00) with a 10 % global discount; its account
    ran EC2 12,000.00, S3 200.00, Marketplace 12.45.
      EC2  12,000.00 x 1.15 = 13,800.00
      S3      200.00 x 0.95 =    190.00          S = 13,990.00
      discount D = 10 % x 13,990.00 = 1,399.00;  S - D = 12,591.00
      support  P = 10 % x 10,000.00 + 5 % x 2,591.00 = 1,000.00 + 129.55 = 1,129.55
      B = 13,990.00 - 1,399.00 + 1,129.55 = 13,720.55
      tax = 8.25 % x 13,720.55 = 1,131.945375 -> 1,131.95 (Marketplace not taxed)
      total = 13,720.55 + 1,131.95 + 12.45 = 14,864.95"""
    deliver_october(runtime, tmp_path, "111111111111", "12000.0000000000")
    customer = runtime.tenants["acme"].customer("1001")
    customer.support_plan, customer.global_discount = "business", Decimal(10)

    statement = build(runtime, customer="1001")

    amounts = {line.kind: line.amount for line in statement.lines}
    assert amounts["discount"] == Decimal("-1399.00")
    assert amounts["support"] == Decimal("1129.55")
    assert amounts["marketplace"] == Decimal("12.45")
    assert amounts["tax"] == statement.tax == Decimal("1131.95")
    assert statement.total == Decimal("14864.95") == total(line.amount for line in statement.lines)
