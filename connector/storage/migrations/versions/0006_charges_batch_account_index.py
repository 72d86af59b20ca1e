"""Index charges by batch and account

A build split into parts (one per worker process) reads the charges of some of a
batch's accounts; with the batch index alone each part read every charge of the batch.
The batch index stays: reading a whole batch in id order needs no sort with it.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_charges_batch_account", "charges", ["batch_id", "sub_account_id"])


def downgrade() -> None:
    op.drop_index("ix_charges_batch_account", table_name="charges")
