"""A push claims its chunk from an index of the entries still due, not from every entry
the outbox ever held (migration 0012): the claim costs the same in a tenant's first month
as after years of delivered statements."""

from __future__ import annotations

import sqlalchemy as sa

from connector.storage.db import Database


def test_the_outbox_indexes_the_entries_a_push_can_claim_by_tenant_and_id(db_url: str) -> None:
    db = Database(db_url)
    try:
        indexes = {i["name"]: i for i in sa.inspect(db.engine).get_indexes("outbox")}
    finally:
        db.dispose()

    due = indexes["ix_outbox_due"]
    assert due["column_names"] == ["tenant_id", "id"]
    where = due.get("dialect_options", {}).get("postgresql_where")
    if where is not None:  # PostgreSQL says which rows the index holds; SQLite does not
        assert all(state in where for state in ("pending", "failed", "in_flight"))
        assert "delivered" not in where and "dead" not in where
