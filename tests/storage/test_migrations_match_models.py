"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from connector.storage.db import Database
from connector.storage.models import Base


def test_migrated_schema_has_no_difference_from_the_models(db_url: str) -> None:
    db = Database(db_url)
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    db.dispose()
    assert differences == []


def test_statement_lines_are_indexed_by_statement(db_url: str) -> None:
    import sqlalchemy as sa

    db = Database(db_url)
    indexes = sa.inspect(db.engine).get_indexes("statement_lines")
    db.dispose()
    assert ["statement_id"] in [i["column_names"] for i in indexes]
