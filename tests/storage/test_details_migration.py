"""Migration 0004 moves stored detail rows into each statement's snapshot, exactly."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from connector.contracts import DetailRow
from connector.storage.db import Database, create_db_engine, upgrade

STATEMENT = {
    "id": "s-1", "tenant_id": "t", "customer_id": "1001", "provider": "aws",
    "period_start": dt.date(2026, 10, 1), "period_end": dt.date(2026, 11, 1), "status": "Draft",
    "revision": 1, "currency": "USD", "subtotal": "1.00", "tax": "0", "total": "1.00",
    "issue_date": dt.date(2026, 11, 6), "due_date": dt.date(2026, 12, 6), "batch_ids": "[]",
    "options": "{}", "created_at": dt.datetime(2026, 11, 6, tzinfo=dt.UTC),
}  # fmt: skip
DETAILS = [
    ("111111111111", "Compute", "Amazon EC2", "BoxUsage", "Usage", False,
     "3.5", "0.123456789012", "0.141975307364", "0.14"),
    ("111111111111", "Storage", "Amazon S3", "TimedStorage", "Usage", False,
     "10", "0.000000000001", "0.000000000115", "0.00"),
]  # fmt: skip


def test_upgrading_copies_detail_rows_in_order_at_full_precision(db_url: str) -> None:
    engine = create_db_engine(db_url)
    upgrade(engine, "0003")
    with engine.begin() as connection:
        meta = sa.MetaData()
        tenants = sa.Table("tenants", meta, autoload_with=connection)
        connection.execute(tenants.insert(), [{"id": "t", "name": "T", "next_invoice_number": 1,
                                               "created_at": STATEMENT["created_at"]}])  # fmt: skip
        statements = sa.Table("statements", meta, autoload_with=connection)
        details = sa.Table("statement_details", meta, autoload_with=connection)
        connection.execute(statements.insert(), [STATEMENT])
        columns = [c.name for c in details.columns if c.name not in ("id", "statement_id")]
        connection.execute(
            details.insert(), [{"statement_id": "s-1", **dict(zip(columns, row, strict=True))}
                               for row in DETAILS]
        )  # fmt: skip
    engine.dispose()
    db = Database(db_url)  # upgrades to head
    from connector.storage import models as m

    with db.transaction() as session:
        statement = session.get(m.Statement, "s-1")
        assert statement.details == [
            DetailRow(*row[:6], *(Decimal(v) for v in row[6:])) for row in DETAILS
        ]
        assert statement.details[1].price == Decimal("1.15E-10")
        tables = sa.inspect(session.connection()).get_table_names()
    db.dispose()
    assert "statement_details" not in tables
