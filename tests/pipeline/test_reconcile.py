"""Reconciliation of the example tenant's October against the CUR file itself.

Expected amounts are recomputed from the CUR CSV with the csv module and Decimal, an
oracle independent of DuckDB, the statement builder and the reconciliation code.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.domain.periods import parse_period
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.reconcile.reconcile import ReconcileError, reconcile
from connector.pipeline.review.approve import approve
from connector.storage import models as m
from tests.conftest import REPO
from tests.providers.cur_files import row as cur_row
from tests.providers.cur_files import write_cur

OCTOBER = parse_period("2026-10")
AFTER_CLOSE = dt.date(2026, 11, 6)
CUR = REPO / "connector/demo_data/aws/cur-2026-10-00001.csv"
ACCOUNTS = {
    "1001": {"111111111111", "222222222222"},
    "1002": {"333333333333"},
    "1003": {"444444444444"},
}
UNASSIGNED = "555555555555"
# The CUR line item types of the demo file, in FOCUS charge categories.
CATEGORY = {"Usage": "Usage", "RIFee": "Purchase", "Tax": "Tax", "Credit": "Credit"}
BILLABLE = {"Usage", "Purchase"}
CENT = Decimal("0.01")


def cur_rows(path: Path = CUR) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def reingest(runtime, tmp_path: Path, rows: list[dict[str, str]]) -> None:
    """Ingest ``rows`` as the provider's new October file, which replaces the batch."""
    folder = tmp_path / "cur"
    folder.mkdir()
    with (folder / "cur-2026-10-00001.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    runtime.tenants["acme"].providers["aws"].settings["path"] = str(folder)
    assert [r.status for r in ingest(runtime, "acme", "aws")] == ["replaced"]


class Oracle:
    """Provider totals, per-customer costs and exact prices straight from the CSV."""

    def __init__(self, rows: list[dict[str, str]]) -> None:
        self.by_category: dict[str, Decimal] = defaultdict(Decimal)
        self.billable: dict[str, Decimal] = defaultdict(Decimal)  # account -> cost
        self.marketplace: dict[str, Decimal] = defaultdict(Decimal)
        self.billed: dict[str, Decimal] = defaultdict(Decimal)
        self.exact_price: dict[str, Decimal] = defaultdict(Decimal)  # account -> price
        for row in rows:
            account = row["lineItem/UsageAccountId"]
            category = CATEGORY[row["lineItem/LineItemType"]]
            cost = Decimal(row["lineItem/UnblendedCost"])
            self.by_category[category] += cost
            self.billed[account] += cost
            if category not in BILLABLE:
                continue
            if row["bill/BillingEntity"] == "AWS Marketplace":
                self.marketplace[account] += cost
                self.exact_price[account] += cost
            else:
                self.billable[account] += cost
                factor = "0.95" if row["lineItem/ProductCode"] == "AmazonS3" else "1.15"
                self.exact_price[account] += cost * Decimal(factor)

    @property
    def total(self) -> Decimal:
        return sum(self.by_category.values(), Decimal(0))

    def cost(self, customer: str) -> Decimal:
        return sum((self.billable[a] for a in ACCOUNTS[customer]), Decimal(0))

    def marketplace_cost(self, customer: str) -> Decimal:
        return sum((self.marketplace[a] for a in ACCOUNTS[customer]), Decimal(0))

    def price(self, customer: str) -> Decimal:
        """Full-precision price of the customer's lines (before rounding and tax)."""
        return sum((self.exact_price[a] for a in ACCOUNTS[customer]), Decimal(0))


def test_october_ties_out_against_the_cur(runtime) -> None:
    ingest(runtime, "acme", "aws")
    generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    oracle = Oracle(cur_rows())

    result = reconcile(runtime, "acme", "aws", OCTOBER)

    assert result.provider_total == oracle.total
    assert result.ingested_total == oracle.total
    for category in ("Usage", "Purchase", "Tax", "Credit"):
        assert result.by_category[category] == oracle.by_category[category], category
    assert result.by_category["Adjustment"] == 0
    assert dict(result.non_billable) == {
        "Tax": oracle.by_category["Tax"],
        "Credit": oracle.by_category["Credit"],
    }
    assert result.non_billable["Credit"] == Decimal("-25")  # the promotional credit
    assert [(a.account_id, a.billable_cost, a.billed_cost) for a in result.unassigned] == [
        (UNASSIGNED, oracle.billable[UNASSIGNED], oracle.billed[UNASSIGNED])
    ]
    assert result.ties_out and result.difference == 0

    customers = {c.customer_id: c for c in result.customers}
    assert set(customers) == set(ACCOUNTS)
    for customer_id, c in customers.items():
        assert c.cost == oracle.cost(customer_id), customer_id
        assert c.marketplace_cost == oracle.marketplace_cost(customer_id), customer_id
        assert c.statement is not None and c.statement.status == "Draft"
        # with rounding adjustments on, the price lines add up to the rounded exact price
        exact = oracle.price(customer_id)
        assert c.price == exact.quantize(CENT, ROUND_HALF_UP), customer_id
        assert c.rounding_difference == c.price - exact
        kinds = ("service", "marketplace", "rounding")  # before tax, credits, discounts, support
        assert c.price == sum((c.price_by_kind.get(k, 0) for k in kinds), Decimal(0))
        assert c.margin == c.price - c.price_by_kind.get("marketplace", 0) - c.cost
        assert c.price - c.billable_cost == c.margin + c.marketplace_margin
        assert c.marketplace_margin == 0  # marketplace passes through at cost
        assert c.price_by_kind.get("tax", 0) == c.statement.tax  # 1003 is tax exempt
        assert not c.stale and c.drift == 0 and c.problems == ()
    assert customers["1003"].price_by_kind["marketplace"] == Decimal("12.45")
    assert oracle.marketplace_cost("1003") == Decimal("12.45")

    with runtime.db.transaction() as session:
        rounding_lines = session.scalars(
            select(m.StatementLine.amount).where(m.StatementLine.kind == "rounding")
        ).all()
    assert result.rounding == {"USD": sum(rounding_lines, Decimal(0))}  # all in USD
    assert result.rounding["USD"] == sum((c.rounding for c in customers.values()), Decimal(0))

    # only the unassigned account is a problem
    assert len(result.problems) == 1 and UNASSIGNED in result.problems[0]


def test_provider_data_changed_after_generation_shows_as_drift(runtime, tmp_path: Path) -> None:
    ingest(runtime, "acme", "aws")
    generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    approve(runtime, "acme", None, actor="test")  # approved statements are locked

    rows = cur_rows()
    changed = next(
        r
        for r in rows
        if r["lineItem/UsageAccountId"] == "333333333333" and r["lineItem/LineItemType"] == "Usage"
    )
    before = Decimal(changed["lineItem/UnblendedCost"])
    changed["lineItem/UnblendedCost"] = str(before + Decimal("7.1234567891"))
    reingest(runtime, tmp_path, rows)

    result = reconcile(runtime, "acme", "aws", OCTOBER)

    oracle = Oracle(rows)
    customers = {c.customer_id: c for c in result.customers}
    assert customers["1002"].stale and customers["1002"].drift == Decimal("7.1234567891")
    assert customers["1002"].cost == oracle.cost("1002")
    for other in ("1001", "1003"):
        assert customers[other].stale and customers[other].drift == 0
        assert customers[other].problems == ()
    (problem,) = customers["1002"].problems
    number = customers["1002"].statement.number
    assert f"statement {number} locked; provider data changed by 7.1234567891" in problem
    # the statement is still the one built from the old data
    assert customers["1002"].statement.batch_ids != result.batch_ids
    assert result.provider_total == oracle.total and result.ties_out


def test_a_customer_with_cost_but_no_statement_is_flagged(runtime) -> None:
    ingest(runtime, "acme", "aws")
    generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1001"], today=AFTER_CLOSE)

    result = reconcile(runtime, "acme", "aws", OCTOBER)

    customers = {c.customer_id: c for c in result.customers}
    assert customers["1001"].statement is not None and customers["1001"].problems == ()
    for missing in ("1002", "1003"):
        c = customers[missing]
        assert c.statement is None and c.price is None and c.margin is None
        assert c.billable_cost > 0 and c.problems == ("not generated",)
        assert f"customer {missing}: not generated" in result.problems
    assert result.ties_out  # costs are attributed whether or not a statement exists


def test_charges_changed_in_the_database_do_not_tie_out(runtime) -> None:
    ingest(runtime, "acme", "aws")
    with runtime.db.transaction() as session:
        charge = session.scalars(select(m.Charge).order_by(m.Charge.id)).first()
        charge.billed_cost += Decimal("0.000001")

    result = reconcile(runtime, "acme", "aws", OCTOBER)

    assert not result.ties_out
    assert result.provider_total - result.ingested_total == Decimal("0.000001")
    assert "does not tie out" in result.problems[-1]


def test_nothing_ingested_says_what_to_run(runtime) -> None:
    with pytest.raises(ReconcileError, match="connector ingest --tenant acme --provider aws"):
        reconcile(runtime, "acme", "aws", OCTOBER)


DATADOG = {"entity": "AWS Marketplace", "product": "prod-datadog",
           "product_name": "Datadog Pro", "legal": "Datadog, Inc."}  # fmt: skip


def deliver_small_october(runtime, folder: Path, marketplace_cost: str) -> None:
    """Customer 1001's account ran 100.00 of EC2 and ``marketplace_cost`` of Datadog Pro."""
    write_cur(folder / "cur-2026-10.csv", [
        cur_row(line_item_id="a", account="111111111111", cost="100.0000000000"),
        cur_row(line_item_id="b", account="111111111111", cost=marketplace_cost, **DATADOG),
    ])  # fmt: skip
    runtime.tenants["acme"].providers["aws"].settings["path"] = str(folder)
    ingest(runtime, "acme", "aws")


def test_a_repulled_marketplace_charge_is_drift_not_a_marketplace_markup(
    runtime, tmp_path: Path
) -> None:
    """Regression: the draft passed Datadog Pro through at its cost then, 30.00; AWS
    re-delivers it at 31.50. That is drift of 31.50 - 30.00 = 1.50, and only drift: the
    statement did not mark marketplace fees up, so no "marketplace margin" problem. The
    margins against today's cost still add up: marketplace 30.00 - 31.50 = -1.50, and
    margin = price 145.00 (115.00 + 30.00) - cost 100.00 - marketplace 30.00 = 15.00."""
    deliver_small_october(runtime, tmp_path / "cur", "30.0000000000")
    generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    deliver_small_october(runtime, tmp_path / "cur", "31.5000000000")

    result = reconcile(runtime, "acme", "aws", OCTOBER)

    (customer,) = result.customers
    assert customer.stale and customer.drift == Decimal("1.50")
    (problem,) = customer.problems
    assert "built from older data (regenerate it)" in problem
    assert "provider data changed by 1.5" in problem
    assert customer.marketplace_margin == Decimal("-1.50")
    assert customer.margin == Decimal("15.00")
    assert result.ties_out


def test_marketplace_cost_left_off_a_statement_is_flagged(runtime, tmp_path: Path) -> None:
    """Built without marketplace fees (a run's include_marketplace_fees: false), the
    30.00 of Datadog Pro the reseller was billed is on no statement: reported."""
    deliver_small_october(runtime, tmp_path / "cur", "30.0000000000")
    generate(runtime, "acme", "aws", OCTOBER, overrides={"include_marketplace_fees": False},
             today=AFTER_CLOSE)  # fmt: skip

    result = reconcile(runtime, "acme", "aws", OCTOBER)

    (customer,) = result.customers
    assert not customer.stale and customer.marketplace_margin == Decimal("-30.00")
    (problem,) = customer.problems
    assert problem.startswith("marketplace cost 30.00") and "is not billed on draft" in problem
