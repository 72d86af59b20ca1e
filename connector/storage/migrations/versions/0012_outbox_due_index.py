"""Index the outbox entries a push can still claim, by tenant and id

A push claims a tenant's due entries 500 at a time in id order. Without an index the
claim read every entry the outbox ever held (a seq scan and a sort of the whole table
while its statistics still predate the month's approve, and every delivered entry of
past months before the first due one), so each chunk cost more as the outbox grew. The
index holds only entries not yet delivered or dead, so it stays the size of the work
left, and a claim reads its chunk from it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"

DUE = sa.text("state IN ('pending', 'failed', 'in_flight')")


def upgrade() -> None:
    op.create_index(
        "ix_outbox_due", "outbox", ["tenant_id", "id"], postgresql_where=DUE, sqlite_where=DUE
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_due", table_name="outbox")
