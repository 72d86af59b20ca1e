from decimal import Decimal

import pytest
from sqlalchemy import select

from connector.storage import models as m
from connector.storage.db import Database, DatabaseError


def _grant(session, amount: object) -> None:
    """A tenant and one credit grant of ``amount`` to its customer."""
    session.add(m.Tenant(id="t1", name="T1", next_invoice_number=1))
    session.flush()
    session.add(
        m.CreditEntry(
            tenant_id="t1",
            customer_id="c1",
            kind="grant",
            amount=amount,
            currency="USD",
            created_by="test",
        )
    )


@pytest.mark.parametrize("value", ["0.1234567891", "123456789012.123456789012", "-0.000000000001"])
def test_money_survives_a_round_trip_exactly(db_url: str, value: str) -> None:
    db = Database(db_url)
    with db.transaction() as session:
        _grant(session, Decimal(value))
    with db.transaction() as session:
        stored = session.scalar(select(m.CreditEntry.amount))
    assert isinstance(stored, Decimal)
    assert stored == Decimal(value)
    db.dispose()


def test_float_money_is_refused(db_url: str) -> None:
    db = Database(db_url)
    with pytest.raises(Exception, match="money must be Decimal"), db.transaction() as session:
        _grant(session, 0.1)
        session.flush()
    db.dispose()


def test_migrations_are_idempotent(db_url: str) -> None:
    Database(db_url).dispose()
    db = Database(db_url)  # second upgrade finds nothing to do
    with db.transaction() as session:
        assert session.scalar(select(m.Tenant).limit(1)) is None
    db.dispose()


def test_unreachable_database_names_the_url_without_password() -> None:
    url = "postgresql+psycopg://billing:s3cret@127.0.0.1:1/nowhere?connect_timeout=2"
    with pytest.raises(DatabaseError) as info:
        Database(url)
    message = str(info.value)
    assert "cannot reach the database at" in message
    assert "127.0.0.1:1/nowhere" in message
    assert "s3cret" not in message


def test_malformed_database_url_says_what_is_valid() -> None:
    with pytest.raises(DatabaseError, match="sqlite:///path/to/file.db"):
        Database("not a url")
