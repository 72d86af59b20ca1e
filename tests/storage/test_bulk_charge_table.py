"""A provider's ChargeTable stored as it is: the same rows as its charges given as a list,
on both databases; and the charges index built after a first load on SQLite."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import event, inspect, select

from connector.contracts import (
    BillingPeriod,
    CanonicalCharge,
    ChargeBatch,
    ChargeCategory,
    ChargeTable,
)
from connector.pipeline.ingest.ingest import store_batch
from connector.storage import models as m
from connector.storage.bulk import charges_loading, insert_charges
from connector.storage.db import Database

OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))
USAGE = ("999", ChargeCategory.USAGE, None, "AmazonEC2", "Amazon EC2", "BoxUsage", "USD",
         "Amazon Web Services, Inc.", False, "INV-1", "Usage", "Usage-Based")  # fmt: skip
MARKETPLACE = ("999", ChargeCategory.CREDIT, "Correction", "prod-x", "Foxit", "MP", "USD",
               "Foxit", True, None, "Refund", None)  # fmt: skip
# Amounts as DuckDB prints a DECIMAL(38,12): fixed point, where str(Decimal) would write
# "0E-12" and "1.00000E-7"; they are the same Decimals.
TABLE = ChargeTable(
    contexts=[USAGE, MARKETPLACE],
    accounts=["111", "444"],
    dates={-1: dt.date(2026, 9, 30), 0: dt.date(2026, 10, 1), 30: dt.date(2026, 10, 31)},
    rows=[
        (0, 0, "0.123456789100", "12345678901.123456789012", "744.000000000001", 0, 30),
        (1, 1, "-0.000000000000", "0.000000000000", "0.000000100000", -1, 0),
        (0, 1, "2.500000000000", "2.500000000000", "1.000000000000", 0, 0),
    ],
)
FIELDS = [field.name for field in dataclasses.fields(CanonicalCharge)]


def stored_charges(db: Database) -> list[CanonicalCharge]:
    """Every stored charge, read back through the ORM, by id."""
    with db.transaction() as session:
        rows = session.scalars(select(m.Charge).order_by(m.Charge.id)).all()
        return [CanonicalCharge(**{f: getattr(r, f) for f in FIELDS}) for r in rows]


def store(db: Database, charges, source_hash: str = "h") -> None:  # type: ignore[no-untyped-def]
    batch = ChargeBatch(OCTOBER, "cur.parquet", source_hash, charges, final=True)
    with db.transaction() as session:
        if session.get(m.Tenant, "t") is None:
            session.add(m.Tenant(id="t", name="T", next_invoice_number=1))
            session.flush()
        store_batch(session, "t", "aws", batch)


def test_a_charge_table_reads_as_the_charges_it_holds() -> None:
    charges = list(TABLE)
    assert len(TABLE) == 3 and charges[1] == TABLE[1]
    assert charges[1].charge_period_start == dt.date(2026, 9, 30)
    assert charges[1].quantity == Decimal("1E-7") and charges[1].is_marketplace
    assert charges[2].sub_account_id == "444" and charges[2].service_name == "AmazonEC2"
    part = TABLE[1:]
    assert isinstance(part, ChargeTable) and list(part) == charges[1:]


def test_a_charge_table_is_stored_as_its_charges_would_be(db_url: str, tmp_path) -> None:
    by_table, by_list = Database(db_url), Database(f"sqlite:///{tmp_path / 'list.db'}")
    store(by_table, TABLE)
    store(by_list, list(TABLE))
    read = stored_charges(by_table)
    assert read == stored_charges(by_list) == list(TABLE)
    # The same Decimals as the list path stores, digits and exponent alike.
    assert [str(c.list_cost) for c in read[:2]] == ["12345678901.123456789012", "0E-12"]
    with by_table.transaction() as session:
        total = session.scalars(select(m.ChargeBatch.billed_total)).one()
    assert total == Decimal("2.6234567891")
    by_table.dispose()
    by_list.dispose()


def schema_of_charges(db: Database) -> tuple[set[str], list[tuple]]:
    """The charges table's index names and foreign keys."""
    with db.transaction() as session:
        found = inspect(session.connection())
        keys = [
            (tuple(k["constrained_columns"]), k["referred_table"])
            for k in found.get_foreign_keys("charges")
        ]
        return {index["name"] for index in found.get_indexes("charges")}, keys


SCHEMA = ({"ix_charges_batch_account"}, [(("batch_id",), "charge_batches")])


def test_a_first_load_is_made_without_the_index_and_key_then_restores_them(db_url: str) -> None:
    db = Database(db_url)
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    postgres = db.engine.dialect.name == "postgresql"
    store(db, TABLE)
    ddl = [s.split()[:2] for s in statements if s.split()[0] in ("DROP", "ALTER", "CREATE")]
    # SQLite cannot drop a foreign key; PostgreSQL drops it and adds it back.
    assert ddl == (
        [["ALTER", "TABLE"], ["DROP", "INDEX"], ["CREATE", "INDEX"], ["ALTER", "TABLE"]]
        if postgres
        else [["DROP", "INDEX"], ["CREATE", "INDEX"]]
    )
    assert schema_of_charges(db) == SCHEMA
    statements.clear()
    store(db, TABLE[:1], source_hash="h2")  # into a table that holds charges: kept
    assert not [s for s in statements if s.split()[0] in ("DROP", "ALTER", "CREATE")]
    assert schema_of_charges(db) == SCHEMA
    assert len(stored_charges(db)) == 4
    db.dispose()


def test_a_first_load_beside_another_ingest_keeps_the_index_and_key(postgres_url: str) -> None:
    db = Database(postgres_url)
    other = db.engine.connect()
    with db.transaction() as session:
        session.add(m.Tenant(id="o", name="O", next_invoice_number=1))
    # Another ingest's uncommitted batch row: locking the batches now could deadlock.
    other.begin()
    other.execute(
        m.ChargeBatch.__table__.insert().values(
            tenant_id="o", provider="aws", period_start=OCTOBER.start, period_end=OCTOBER.end,
            source="s", source_hash="o", row_count=0, billed_total=Decimal(0),
        )
    )  # fmt: skip
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    store(db, TABLE)  # does not wait for the other transaction
    assert not [s for s in statements if s.split()[0] in ("DROP", "ALTER", "CREATE")]
    other.rollback()
    other.close()
    assert schema_of_charges(db) == SCHEMA and len(stored_charges(db)) == 3
    db.dispose()


def test_a_failed_first_load_leaves_the_index_and_no_charge(db_url: str) -> None:
    db = Database(db_url)
    store(db, TABLE)  # a batch to hang the charges on; its own rows removed below
    with db.transaction() as session:
        session.query(m.Charge).delete()
        batch_id = session.scalars(select(m.ChargeBatch.id)).one()
    broken = ChargeTable(TABLE.contexts, TABLE.accounts, TABLE.dates, [(0, 5, *TABLE.rows[0][2:])])
    with pytest.raises(IndexError), db.transaction() as session, charges_loading(session):
        insert_charges(session, batch_id, TABLE)
        insert_charges(session, batch_id, broken)  # no account 5
    assert schema_of_charges(db) == SCHEMA
    assert stored_charges(db) == []
    db.dispose()
