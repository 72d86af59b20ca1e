"""What priced a closed period, recorded with its close

``period_closes.config``: the pricebooks, support plans, tax rates, invoice and
generation options, customers' pricing settings and exchange rates in force when the
period closed (connector.pipeline.close.period_config), so later edits of the tenant file
apply from the next period on. Periods closed before this revision are recorded at
their next build.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    with op.batch_alter_table("period_closes") as batch_op:
        batch_op.add_column(sa.Column("config", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("period_closes") as batch_op:
        batch_op.drop_column("config")
