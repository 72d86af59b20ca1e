"""Index charges by batch and account, in place of the batch index

A build split into parts (one per worker process) reads the charges of some of a
batch's accounts; with the batch index alone each part read every charge of the batch.
The new index starts with batch_id, so whatever used the old one uses it instead, and
an ingest still maintains one index.
"""

from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    with op.batch_alter_table("charges") as batch_op:
        batch_op.create_index("ix_charges_batch_account", ["batch_id", "sub_account_id"])
        batch_op.drop_index("ix_charges_batch_id")


def downgrade() -> None:
    with op.batch_alter_table("charges") as batch_op:
        batch_op.create_index("ix_charges_batch_id", ["batch_id"])
        batch_op.drop_index("ix_charges_batch_account")
