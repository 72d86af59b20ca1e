"""A customer whose charges a run leaves off the statement gets no empty statement.

October 2026: customer 1001's account 111111111111 ran 100.00 of EC2; customer 1003's
account 444444444444 bought only "Datadog Pro" on AWS Marketplace, 30.00. Without
"include marketplace fees" 1003 has nothing to bill: no statement (one with no lines
would be refused by every ERP), and the report says why. With them, 1003's statement is
the 30.00 at cost (marketplace is never taxed) and 1001's is 100.00 x 1.15 = 115.00 plus
8.25 % tax 9.4875 -> 9.49, 124.49.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from connector.pipeline.build.build import NOTHING_TO_BILL, generate
from connector.pipeline.ingest.ingest import ingest
from connector.storage import models as m
from tests.pipeline.test_month_end_to_end import AFTER_CLOSE, OCTOBER
from tests.providers.cur_files import row, write_cur

DATADOG = {"entity": "AWS Marketplace", "product": "prod-datadog",
           "product_name": "Datadog Pro", "legal": "Datadog, Inc."}  # fmt: skip


def totals(runtime) -> dict[str, Decimal]:
    with runtime.db.transaction() as session:
        rows = session.execute(select(m.Statement.customer_id, m.Statement.total)).all()
    return dict(rows)


def test_a_run_without_marketplace_fees_skips_a_marketplace_only_customer(
    runtime, tmp_path: Path
) -> None:
    write_cur(tmp_path / "cur/cur-2026-10.csv", [
        row(line_item_id="a", account="111111111111", cost="100.0000000000"),
        row(line_item_id="b", account="444444444444", cost="30.0000000000", **DATADOG),
    ])  # fmt: skip
    runtime.tenants["acme"].providers["aws"].settings["path"] = str(tmp_path / "cur")
    ingest(runtime, "acme", "aws")

    with_fees = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE)
    assert sorted(s.customer_id for s in with_fees.generated) == ["1001", "1003"]
    assert totals(runtime) == {"1001": Decimal("124.49"), "1003": Decimal("30.00")}

    without = generate(runtime, "acme", "aws", OCTOBER, today=AFTER_CLOSE,
                       overrides={"include_marketplace_fees": False})  # fmt: skip
    assert [s.customer_id for s in without.generated] == ["1001"]
    assert ("1003", NOTHING_TO_BILL) in without.skipped
    assert totals(runtime) == {"1001": Decimal("124.49")}  # 1003's Draft is gone too
