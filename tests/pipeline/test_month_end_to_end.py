"""The month, end to end, on the example tenant: ingest, close, build, approve, push.

Expected totals are recomputed here from the CUR file itself with the csv module, as
an oracle independent of DuckDB and the statement builder.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from connector.contracts import SourceDataError
from connector.pipeline.build.build import BuildError, generate
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.publish.export import export
from connector.pipeline.publish.publish import push
from connector.pipeline.review.approve import approve
from connector.storage import models as m
from tests.pipeline.test_reconcile import ACCOUNTS, AFTER_CLOSE, CENT, CUR, OCTOBER


def expected_totals() -> dict[str, Decimal]:
    """Per customer: lines rounded per service category, adjustment to exact, 8.25 % tax."""
    totals = {}
    with CUR.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for customer, accounts in ACCOUNTS.items():
        lines: dict[tuple[bool, str], Decimal] = defaultdict(Decimal)
        for row in rows:
            if row["lineItem/UsageAccountId"] not in accounts:
                continue
            if row["lineItem/LineItemType"] not in {"Usage", "RIFee"}:
                continue
            cost = Decimal(row["lineItem/UnblendedCost"])
            marketplace = row["bill/BillingEntity"] == "AWS Marketplace"
            if marketplace:
                price = cost
            elif row["lineItem/ProductCode"] == "AmazonS3":
                price = cost * Decimal("0.95")
            else:
                price = cost * Decimal("1.15")
            lines[(marketplace, row["product/ProductName"])] += price
        exact = sum(lines.values(), Decimal(0)).quantize(CENT, ROUND_HALF_UP)
        taxable = sum((v for (mp, _), v in lines.items() if not mp), Decimal(0))
        rounded_taxable = sum(
            (v.quantize(CENT, ROUND_HALF_UP) for (mp, _), v in lines.items() if not mp), Decimal(0)
        )
        # tax is on the rounded non-marketplace lines (what an ERP recomputes)
        tax = (
            Decimal(0)
            if customer == "1003"
            else (rounded_taxable * Decimal("0.0825")).quantize(CENT, ROUND_HALF_UP)
        )
        assert taxable  # every customer has billable usage
        totals[customer] = exact + tax
    return totals


def test_the_month_end_to_end(runtime, tmp_path: Path) -> None:
    first = ingest(runtime, "acme", "aws")
    assert [(r.period, r.status) for r in first] == [("2026-10", "new")]
    again = ingest(runtime, "acme", "aws")
    assert [r.status for r in again] == ["unchanged"]

    report = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    by_customer = {s.customer_id: s for s in report.generated}
    assert set(by_customer) == {"1001", "1002", "1003"}
    expected = expected_totals()
    for customer, statement in by_customer.items():
        assert statement.status == "Draft" and statement.number is None
        assert statement.total == expected[customer], customer
        assert statement.pricebook_version == "aws-standard@2026-01-01"
    # spend on an account no customer claims is reported, not dropped
    assert set(report.unassigned) == {("555555555555", "USD")}

    approved = approve(runtime, "acme", None, actor="test")
    assert sorted(s.number for s in approved) == ["ACME-01001", "ACME-01002", "ACME-01003"]

    with runtime.db.transaction() as session:
        marketplace = session.scalars(
            select(m.StatementLine)
            .join(m.Statement)
            .where(m.Statement.customer_id == "1003", m.StatementLine.kind == "marketplace")
        ).all()
        amounts = {line.description: line.amount for line in marketplace}
        assert amounts["AWS Marketplace: Alert Logic Threat Manager for AWS"] == Decimal("0.00")
        assert amounts["AWS Marketplace: Foxit PDF Editor"] == Decimal("12.45")
        outbox = session.scalars(select(m.OutboxEntry)).all()
        assert {e.state for e in outbox} == {"pending"} and len(outbox) == 3

    files = export(
        runtime,
        "acme",
        [s.id for s in approved],
        ["pdf", "csv", "detailed-csv"],
        tmp_path / "statements",
    )
    assert len(files) == 9 and all(p.stat().st_size > 0 for p in files)

    outcomes = push(runtime, "acme")
    assert {o.state for o in outcomes} == {"delivered"}
    erp_files = list((tmp_path / "out/acme/erp").glob("*.csv"))
    assert len(erp_files) == 1
    with erp_files[0].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {r["*InvoiceNumber"] for r in rows} == {"ACME-01001", "ACME-01002", "ACME-01003"}
    assert push(runtime, "acme") == []  # nothing left to deliver

    # an approved statement is never rebuilt
    rerun = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    assert rerun.generated == []
    assert {c for c, _ in rerun.skipped} == {"1001", "1002", "1003"}


def test_regenerating_a_draft_replaces_it_with_a_new_revision(runtime) -> None:
    ingest(runtime, "acme", "aws")
    first = generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1002"], today=AFTER_CLOSE)
    second = generate(runtime, "acme", "aws", OCTOBER, customer_ids=["1002"], today=AFTER_CLOSE)
    assert second.generated[0].revision == first.generated[0].revision + 1
    with runtime.db.transaction() as session:
        assert len(session.scalars(select(m.Statement)).all()) == 1


def test_an_open_period_is_not_built(runtime, tmp_path: Path) -> None:
    ingest(runtime, "acme", "aws")
    with runtime.db.transaction() as session:  # pretend AWS has not issued the invoice yet
        for batch in session.scalars(select(m.ChargeBatch)):
            batch.final = False
    with pytest.raises(BuildError, match="not closed .*`connector close --tenant acme"):
        generate(runtime, "acme", "aws", OCTOBER, today=dt.date(2026, 11, 3))
    with runtime.db.transaction() as session:
        assert session.scalars(select(m.Statement)).all() == []


def test_a_customer_without_a_pricebook_gets_the_seeds_error_and_the_others_are_built(
    runtime,
) -> None:
    """Regression (issue 18): one customer's missing pricebook failed the whole tenant's
    build, and nobody got a statement. 1002 is reported with the seeds' error and the
    YAML key that fixes it; 1001 and 1003 get their Drafts."""
    ingest(runtime, "acme", "aws")
    runtime.tenants["acme"].customers[1].pricebooks.clear()
    report = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    ((customer, reason),) = report.failed
    assert customer == "1002"
    assert re.match(r"The customer with ID #1002 does not have the currency USD enabled: add "
                    r"a pricebook .*customers\[1\]", reason)  # fmt: skip
    assert sorted(s.customer_id for s in report.generated) == ["1001", "1003"]
    with runtime.db.transaction() as session:
        assert sorted(session.scalars(select(m.Statement.customer_id))) == ["1001", "1003"]


def test_when_no_customer_can_be_built_the_build_fails_and_stores_nothing(runtime) -> None:
    ingest(runtime, "acme", "aws")
    for customer in runtime.tenants["acme"].customers:
        customer.pricebooks.clear()
    with pytest.raises(BuildError, match=r"#1001 .*\n.*#1002 .*\n.*#1003"):
        generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    with runtime.db.transaction() as session:
        assert session.scalars(select(m.Statement)).all() == []


def test_a_bad_cur_file_is_named_and_nothing_is_stored(runtime, tmp_path: Path) -> None:
    folder = tmp_path / "cur"
    folder.mkdir()
    lines = CUR.read_text().splitlines()
    header = lines[0].split(",")
    cost = header.index("lineItem/UnblendedCost")
    row = next(csv.reader([lines[6]]))
    row[cost] = "12,50"  # a European decimal comma: not a CUR number
    bad = tmp_path / "row.csv"
    with bad.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(row)
    lines[6] = bad.read_text().rstrip("\n")
    (folder / "cur.csv").write_text("\n".join(lines) + "\n")
    runtime.tenants["acme"].providers["aws"].settings["path"] = str(folder)

    with pytest.raises(SourceDataError) as info:
        ingest(runtime, "acme", "aws")
    message = str(info.value)
    assert "cur.csv" in message and "line 7" in message
    assert "lineItem/UnblendedCost" in message and "12,50" in message
    with runtime.db.transaction() as session:
        assert session.scalars(select(m.ChargeBatch)).all() == []
        assert session.scalars(select(m.Charge)).all() == []
