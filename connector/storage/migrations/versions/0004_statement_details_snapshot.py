"""Statement detail rows as one snapshot per statement

The ``statement_details`` table (a row per account × service × usage type) becomes
the ``statements.details`` column: one snapshot text per statement, written once and
read whole (see ``connector.storage.details`` for its layouts). Existing rows are copied, in their
order, before the table is dropped; downgrading copies them back.
"""

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from connector.contracts import DetailRow
from connector.storage import migration_columns as col
from connector.storage.details import read_details, write_details
from connector.storage.models import Money

revision = "0004"
down_revision = "0003"

COLUMNS = (
    "account_id", "service_category", "service_name", "sku", "line_item_type",
    "is_marketplace", "quantity", "cost", "price", "price_rounded",
)  # fmt: skip


def _details_table() -> sa.Table:
    return sa.table(
        "statement_details",
        sa.column("id", sa.Integer()),
        sa.column("statement_id", sa.String()),
        *(
            sa.column(c, sa.Boolean() if c == "is_marketplace" else sa.String())
            for c in COLUMNS[:6]
        ),
        *(sa.column(c, Money()) for c in COLUMNS[6:]),
    )


def _statements_table() -> sa.Table:
    return sa.table("statements", sa.column("id", sa.String()), sa.column("details", sa.Text()))


def upgrade() -> None:
    with op.batch_alter_table("statements") as batch:
        batch.add_column(sa.Column("details", sa.Text(), nullable=True))
    connection = op.get_bind()
    details = _details_table()
    statements = _statements_table()
    rows: dict[str, list[DetailRow]] = {}
    query = sa.select(details.c.statement_id, *(details.c[c] for c in COLUMNS)).order_by(
        details.c.id
    )
    for statement_id, *values in connection.execute(query):
        values[5] = bool(values[5])
        values[6:] = [Decimal(str(v)) for v in values[6:]]
        rows.setdefault(statement_id, []).append(DetailRow(*values))
    for statement_id, found in rows.items():
        connection.execute(
            statements.update()
            .where(statements.c.id == statement_id)
            .values(details=write_details(found))
        )
    op.drop_table("statement_details")


def downgrade() -> None:
    col.create_statement_details(op)
    connection = op.get_bind()
    statements = _statements_table()
    details = _details_table()
    for statement_id, text in connection.execute(sa.select(statements.c.id, statements.c.details)):
        found = read_details(text)
        if found:
            connection.execute(
                details.insert(),
                [
                    {"statement_id": statement_id, **dict(zip(COLUMNS, d, strict=True))}
                    for d in found
                ],
            )
    with op.batch_alter_table("statements") as batch:
        batch.drop_column("details")
