"""Index statement_lines.statement_id

Deleting or rebuilding a Draft cascades to its lines; without this index each delete
scanned the whole statement_lines table (SQLite checks ON DELETE CASCADE by scan).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_statement_lines_statement_id", "statement_lines", ["statement_id"])


def downgrade() -> None:
    op.drop_index("ix_statement_lines_statement_id", table_name="statement_lines")
