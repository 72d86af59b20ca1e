"""Index statement_lines.statement_id

Deleting or rebuilding a Draft cascades to its lines; without this index each delete
scanned the whole statement_lines table (SQLite checks ON DELETE CASCADE by scan).
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_index("ix_statement_lines_statement_id", "statement_lines", ["statement_id"])


def downgrade() -> None:
    op.drop_index("ix_statement_lines_statement_id", table_name="statement_lines")
