"""Building statements that use credits, discounts and support plans, through the pipeline."""

from __future__ import annotations

from decimal import Decimal

from connector.config.tenant import SupportPlan, SupportTier
from connector.domain.money import total
from connector.pipeline import credits
from connector.pipeline.build import delete_draft, generate
from connector.pipeline.ingest import ingest
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER


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


def test_discount_and_support_plan_lines(runtime) -> None:
    """Customer 1003 (tax exempt): S is the sum of its service lines (the rounding line
    included), D = 10% of S, P = max(5% of (S - D), 100.00) = 100.00 for this small
    bill; the marketplace lines stay outside both."""
    ingest(runtime, "acme", "aws")
    config = runtime.tenants["acme"]
    config.support_plans.append(
        SupportPlan(id="basic", tiers=[SupportTier(percent=Decimal(5))],
                    minimum_fee=Decimal(100))
    )  # fmt: skip
    customer = config.customer("1003")
    customer.support_plan, customer.global_discount = "basic", Decimal(10)
    statement = build(runtime, customer="1003")
    lines = {line.kind: line.amount for line in statement.lines}
    subtotal = total(
        line.amount for line in statement.lines if line.kind in ("service", "rounding")
    )
    assert lines["discount"] == -(subtotal / 10).quantize(Decimal("0.01"))
    assert lines["support"] == Decimal("100.00")
    assert statement.total == total(line.amount for line in statement.lines)
