"""Statement detail rows as one snapshot per statement

The ``statement_details`` table (a row per account × service × usage type) becomes
the ``statements.details`` column: one snapshot text per statement, written once and
read whole (see ``connector.storage.details`` for its layouts). Existing rows are copied, in their
order, before the table is dropped; downgrading copies them back.

Revision ID: 0004
Revises: 0003
"""

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

from connector.contracts import DetailRow
from connector.storage.details import read_details, write_details
from connector.storage.models import Money

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

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
    statements = sa.table(
        "statements", sa.column("id", sa.String()), sa.column("details", sa.Text())
    )
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
    op.create_table(
        "statement_details",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("statement_id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=128), nullable=False),
        sa.Column("service_category", sa.String(length=200), nullable=False),
        sa.Column("service_name", sa.String(length=200), nullable=False),
        sa.Column("sku", sa.String(length=300), nullable=False),
        sa.Column("line_item_type", sa.String(length=64), nullable=False),
        sa.Column("is_marketplace", sa.Boolean(), nullable=False),
        sa.Column("quantity", Money(), nullable=False),
        sa.Column("cost", Money(), nullable=False),
        sa.Column("price", Money(), nullable=False),
        sa.Column("price_rounded", Money(), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"],
            ["statements.id"],
            name="fk_statement_details_statement_id_statements",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_statement_details"),
    )
    op.create_index("ix_statement_details_statement_id", "statement_details", ["statement_id"])
    connection = op.get_bind()
    statements = sa.table(
        "statements", sa.column("id", sa.String()), sa.column("details", sa.Text())
    )
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
