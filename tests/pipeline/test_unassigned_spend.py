"""Spend on a cloud account no customer lists: reported, or blocking the build.

A small CUR, so every amount is worked out by hand: customer 1001's account
111111111111 ran 100.00 of EC2; accounts 555555555555 (12.34 EC2 + 5.66 Lambda =
18.00) and 666666666666 (0.1234567891 of EC2) are listed by no customer.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from connector.pipeline import credits
from connector.pipeline.build.build import BuildError, generate
from connector.pipeline.ingest.ingest import ingest
from connector.storage import models as m
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER
from tests.providers.cur_files import row, write_cur

LAMBDA = {"product": "AWSLambda", "product_name": "AWS Lambda", "usage_type": "USE1-Request"}


def deliver_october(runtime, tmp_path: Path) -> None:
    write_cur(tmp_path / "cur/cur-2026-10.csv", [
        row(line_item_id="a", account="111111111111", cost="100.0000000000"),
        row(line_item_id="b", account="555555555555", cost="12.3400000000"),
        row(line_item_id="c", account="555555555555", cost="5.6600000000", **LAMBDA),
        row(line_item_id="d", account="666666666666", cost="0.1234567891"),
    ])  # fmt: skip
    runtime.tenants["acme"].providers["aws"].settings["path"] = str(tmp_path / "cur")
    assert [r.status for r in ingest(runtime, "acme", "aws")] == ["new"]


def stored(runtime) -> tuple[int, int]:
    """How many statements and credit applications are stored."""
    with runtime.db.transaction() as session:
        statements = session.scalar(select(func.count()).select_from(m.Statement))
        applied = session.scalar(
            select(func.count()).where(m.CreditEntry.kind == credits.APPLICATION)
        )
    return statements, applied


def test_block_refuses_the_build_naming_the_accounts_amounts_and_the_fix(
    runtime, tmp_path: Path
) -> None:
    """With ``unassigned_spend: block`` nothing is built: the error names both accounts
    with what they were billed (555555555555: 12.34 + 5.66 = 18.00; 666666666666:
    0.1234567891 in full), says what to set, and no statement or credit use is stored
    (customer 1001's 50.00 credit is still all there)."""
    deliver_october(runtime, tmp_path)
    credits.grant(runtime, "acme", "1001", "50.00", "AWS promo credit, acct 1111", "test")
    runtime.tenants["acme"].unassigned_spend = "block"

    with pytest.raises(BuildError) as raised:
        generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)

    message = str(raised.value)
    assert "555555555555 (billed 18.00 USD)" in message
    assert "666666666666 (billed 0.1234567891 USD)" in message
    assert "unassigned_spend: block" in message
    assert "customers[].accounts.aws" in message and "set unassigned_spend: report" in message
    assert stored(runtime) == (0, 0)
    with runtime.db.transaction() as session:
        assert credits.balance(session, "acme", "1001", "USD") == Decimal("50.00")


def test_block_lets_a_build_through_once_every_account_is_mapped(runtime, tmp_path: Path) -> None:
    """Mapping both accounts to customer 1001 clears the block: its statement then
    carries all three accounts. Lines (cost + 15 %): EC2 (100 + 12.34 + 0.1234567891)
    x 1.15 = 112.4634567891 x 1.15 = 129.33297530746... -> 129.33; Lambda 5.66 x 1.15
    = 6.509 -> 6.51. Exact sum 135.84197530746... -> 135.84 = 129.33 + 6.51, so no
    rounding line. Tax 8.25 % of 135.84 = 11.2068 -> 11.21; total 147.05."""
    deliver_october(runtime, tmp_path)
    config = runtime.tenants["acme"]
    config.unassigned_spend = "block"
    config.customer("1001").accounts["aws"] += ["555555555555", "666666666666"]

    report = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)

    assert report.unassigned == {}
    (statement,) = report.generated
    assert [(line.description, line.amount) for line in statement.lines] == [
        ("AWS Lambda", Decimal("6.51")),  # lines in service category order
        ("Amazon Elastic Compute Cloud", Decimal("129.33")),
        ("US Sales Tax (8.25%)", Decimal("11.21")),
    ]
    assert statement.total == Decimal("147.05")


def test_report_builds_the_mapped_customers_and_reports_the_rest(runtime, tmp_path: Path) -> None:
    """The default, ``unassigned_spend: report``: customer 1001's statement is built
    (EC2 100.00 x 1.15 = 115.00; tax 8.25 % = 9.4875 -> 9.49; total 124.49) and the
    unassigned spend is reported per account and currency, never dropped: 18.00 and
    0.1234567891 USD."""
    deliver_october(runtime, tmp_path)
    assert runtime.tenants["acme"].unassigned_spend == "report"

    report = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)

    (statement,) = report.generated
    assert statement.customer_id == "1001" and statement.total == Decimal("124.49")
    assert report.unassigned == {
        ("555555555555", "USD"): Decimal("18.00"),
        ("666666666666", "USD"): Decimal("0.1234567891"),
    }
    assert stored(runtime) == (1, 0)
