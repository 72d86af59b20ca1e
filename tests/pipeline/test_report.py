"""Billing reports of the example tenant's October, on SQLite and PostgreSQL.

Expected amounts come from the CUR file through the csv module and Decimal (the
reconciliation tests' oracle), and from the statements the build stored.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update

from connector.config.tenant import PricebookRule, PricebookVersion
from connector.domain.report_rounding import LEVELS
from connector.pipeline.build.build import generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.report.range import parse_range
from connector.pipeline.report.report import ReportError, build_report
from connector.storage import models as m
from tests.pipeline.test_reconcile import ACCOUNTS, AFTER_CLOSE, OCTOBER, Oracle, cur_rows, reingest

CENT = Decimal("0.01")
REPORT_DAY = dt.date(2026, 11, 20)
LAST_MONTH = parse_range("last-month", REPORT_DAY)  # October 2026


@pytest.fixture
def october(runtime):
    ingest(runtime, "acme", "aws")
    generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    return runtime


def statement_price_lines(runtime) -> dict[str, Decimal]:
    """Σ service and marketplace lines of each customer's October statement."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    with runtime.db.transaction() as session:
        rows = session.execute(
            select(m.Statement.customer_id, m.StatementLine.amount)
            .join(m.Statement, m.Statement.id == m.StatementLine.statement_id)
            .where(m.StatementLine.kind.in_(("service", "marketplace")))
        )
        for customer, amount in rows:
            sums[customer] += amount
    return dict(sums)


def report_view_oracle() -> dict[str, Decimal]:
    """Per customer: each (account, product, usage type, line item type) priced exactly
    (S3 cost x 0.95, other AWS x 1.15, marketplace at cost), rounded half-up to the
    cent, then added up; Tax and Credit lines are not billable."""
    exact: dict[tuple, Decimal] = defaultdict(Decimal)
    for row in cur_rows():
        kind = row["lineItem/LineItemType"]
        if kind not in ("Usage", "RIFee"):
            continue
        cost = Decimal(row["lineItem/UnblendedCost"])
        if row["bill/BillingEntity"] == "AWS Marketplace":
            price = cost
        else:
            price = cost * Decimal("0.95" if row["lineItem/ProductCode"] == "AmazonS3" else "1.15")
        key = (row["lineItem/UsageAccountId"], row["lineItem/ProductCode"],
               row["lineItem/UsageType"], kind)  # fmt: skip
        exact[key] += price
    result = {}
    for customer, accounts in ACCOUNTS.items():
        result[customer] = sum(
            (p.quantize(CENT, ROUND_HALF_UP) for k, p in exact.items() if k[0] in accounts),
            Decimal(0),
        )
    return result


@pytest.mark.parametrize("by", LEVELS)
def test_every_grouping_ties_out_to_the_statements(october, by: str) -> None:
    report = build_report(october, "acme", "aws", LAST_MONTH, by=by, as_of=REPORT_DAY)
    lines = statement_price_lines(october)
    oracle = Oracle(cur_rows())
    views = report_view_oracle()

    (total,) = report.totals
    assert total.currency == "USD"
    assert total.now.price_bill == sum(lines.values(), Decimal(0))
    assert total.now.price_report == sum(views.values(), Decimal(0))
    assert total.now.view_difference == total.now.price_report - total.now.price_bill
    assert total.now.price == sum((oracle.price(c) for c in ACCOUNTS), Decimal(0))
    assert total.now.cost == sum((oracle.cost(c) + oracle.marketplace_cost(c)
                                  for c in ACCOUNTS), Decimal(0))  # fmt: skip
    assert total.change is not None and total.change.price_bill == 0
    # rows at any level add up to the totals in the report view and at full precision
    assert sum((r.now.price_report for r in report.rows), Decimal(0)) == total.now.price_report
    assert sum((r.now.price for r in report.rows), Decimal(0)) == total.now.price
    assert all(r.level == by and not r.provisional for r in report.rows)
    assert not report.provisional and report.periods[0].closed_by == "provider"
    assert {r.customer_id for r in report.rows} == set(ACCOUNTS)
    if by == "customer":
        for row in report.rows:
            assert row.now.price_bill == lines[row.customer_id], row.customer_id
            assert row.now.price_report == views[row.customer_id], row.customer_id
            assert row.billed is not None and row.change.price_bill == 0
            assert row.pricebook_version == "aws-standard@2026-01-01"
    # unassigned spend is reported, never priced for a customer
    assert [a for _, _, a in report.unassigned] == ["555555555555"]


def test_the_demo_month_shows_a_cent_between_the_views(october) -> None:
    """Customer 1002's statement needed a -0.01 rounding adjustment: its lines add up to
    a cent more than its rounded full-precision price; the report view lands there too."""
    report = build_report(october, "acme", "aws", LAST_MONTH, as_of=REPORT_DAY)
    row = next(r for r in report.rows if r.customer_id == "1002")
    assert row.now.price_bill == statement_price_lines(october)["1002"]
    assert row.now.view_difference == report_view_oracle()["1002"] - row.now.price_bill
    assert row.now.view_difference != 0


def add_version(runtime, effective: dt.date, markup: int) -> None:
    book = runtime.tenants["acme"].pricebook("aws-standard")
    rule = PricebookRule(adjust="markup", percent=Decimal(markup))
    book.versions.append(PricebookVersion(effective=effective, rules=[rule]))


def test_a_pricebook_change_after_close_shows_billed_and_current_apart(october) -> None:
    """After October was billed at aws-standard@2026-01-01 (15 % markup, S3 -5 %), a
    version with a 50 % markup on everything is added, backdated to 2026-10-01: the
    data as it stands now is cost x 1.5 (marketplace at cost), billed stays as built."""
    oracle = Oracle(cur_rows())
    add_version(october, dt.date(2026, 10, 1), 50)

    report = build_report(october, "acme", "aws", LAST_MONTH, as_of=REPORT_DAY)

    for row in report.rows:
        c = row.customer_id
        now_price = oracle.cost(c) * Decimal("1.5") + oracle.marketplace_cost(c)
        assert row.pricebook_version == "aws-standard@2026-10-01"
        assert row.statements[0].pricebook_version == "aws-standard@2026-01-01"
        assert row.now.price == now_price
        assert row.billed.price == oracle.price(c)
        assert row.change.price == now_price - oracle.price(c) > 0
        assert row.billed.price_bill == statement_price_lines(october)[c]
        assert row.change.cost == 0  # the charges did not change, the prices did
    (total,) = report.totals
    assert total.change.price_bill == total.now.price_bill - total.billed.price_bill > 0


def test_a_version_dated_after_the_close_prices_only_with_latest_pricing(october) -> None:
    """A 50 % version effective 2026-11-10 is not in force for October: priced per
    period, now equals billed. Priced at the latest version on 2026-11-20 (the seeds'
    live report of a past month), now is cost x 1.5 and differs from billed."""
    oracle = Oracle(cur_rows())
    add_version(october, dt.date(2026, 11, 10), 50)

    period = build_report(october, "acme", "aws", LAST_MONTH, as_of=REPORT_DAY)
    latest = build_report(october, "acme", "aws", LAST_MONTH, as_of=REPORT_DAY, pricing="latest")

    assert all(r.change.price == 0 for r in period.rows)
    assert {r.pricebook_version for r in period.rows} == {"aws-standard@2026-01-01"}
    for row in latest.rows:
        c = row.customer_id
        assert row.pricebook_version == "aws-standard@2026-11-10"
        assert row.now.price == oracle.cost(c) * Decimal("1.5") + oracle.marketplace_cost(c)
        assert row.billed.price == oracle.price(c)


def test_a_re_pulled_batch_shows_as_a_change_against_billed(october, tmp_path: Path) -> None:
    """One usage line of account 333333333333 (customer 1002) grows by 7.1234567891
    after the statement was built: cost changes by that, price by 1.15 times it."""
    rows = cur_rows()
    changed = next(r for r in rows if r["lineItem/UsageAccountId"] == "333333333333"
                   and r["lineItem/ProductCode"] == "AmazonEC2")  # fmt: skip
    changed["lineItem/UnblendedCost"] = str(
        Decimal(changed["lineItem/UnblendedCost"]) + Decimal("7.1234567891")
    )
    reingest(october, tmp_path, rows)

    report = build_report(october, "acme", "aws", LAST_MONTH, by="account", as_of=REPORT_DAY)

    changes = {r.account_id: r.change for r in report.rows}
    assert changes["333333333333"].cost == Decimal("7.1234567891")
    assert changes["333333333333"].price == Decimal("7.1234567891") * Decimal("1.15")
    assert all(changes[a].cost == 0 for a in changes if a != "333333333333")


def test_an_open_period_is_provisional_and_has_nothing_billed(runtime) -> None:
    """Month to date on 2026-10-20: October is open (its data not final, the business
    days not passed), so the report is provisional; only whole periods are compared."""
    ingest(runtime, "acme", "aws")
    with runtime.db.transaction() as session:
        session.execute(update(m.ChargeBatch).values(final=False))
    days = parse_range("month-to-date", dt.date(2026, 10, 20))

    report = build_report(runtime, "acme", "aws", days, as_of=dt.date(2026, 10, 20))

    assert report.provisional and report.periods[0].closed_by is None
    assert not report.periods[0].whole
    assert report.rows and all(r.provisional and r.billed is None for r in report.rows)
    assert report.totals[0].change is None
    closed = build_report(runtime, "acme", "aws", LAST_MONTH, as_of=REPORT_DAY)
    assert not closed.provisional and closed.periods[0].closed_by == "business-days"


def test_a_customer_filter_leaves_out_the_rest_and_unassigned(october) -> None:
    report = build_report(october, "acme", "aws", LAST_MONTH, by="service",
                          customers=["1003"], as_of=REPORT_DAY)  # fmt: skip
    assert {r.customer_id for r in report.rows} == {"1003"}
    assert not report.unassigned
    marketplace = [r for r in report.rows if r.is_marketplace]
    assert {r.service_category: r.now.price_bill for r in marketplace} == {
        "Alert Logic Threat Manager for AWS": Decimal("0.00"),  # a free trial stays visible
        "Foxit PDF Editor": Decimal("12.45"),
    }
    assert all(r.now.margin == 0 for r in marketplace)  # pass-through at cost
    with pytest.raises(ReportError, match="no customer 9999"):
        build_report(october, "acme", "aws", LAST_MONTH, customers=["9999"], as_of=REPORT_DAY)


def test_nothing_stored_gives_an_empty_report_that_says_what_to_run(runtime) -> None:
    report = build_report(runtime, "acme", "aws", LAST_MONTH, as_of=REPORT_DAY)
    assert report.rows == () and report.totals == ()
    assert "connector ingest --tenant acme --provider aws" in report.problems[0]
