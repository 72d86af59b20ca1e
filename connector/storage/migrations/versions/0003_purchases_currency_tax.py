"""Purchase statements, exchange rates and the applied tax on statements; charge frequency

- ``charges.charge_frequency``: FOCUS ChargeFrequency, so one-time purchases can be
  billed before the period closes ("AWS RI purchase: immediately").
- ``statements.kind`` / ``part``: a period has one usage statement per customer and
  provider, and any number of purchase statements (parts 1, 2, ...).
- ``statements.billing_currency`` / ``exchange_rate``: the conversion a statement used.
- ``statements.tax_name`` / ``tax_rate``: the customer's tax as applied.
"""

import sqlalchemy as sa
from alembic import op

from connector.storage.models import Money

revision = "0003"
down_revision = "0002"

OLD_UNIQUE = "uq_statements_tenant_id_customer_id_provider_period_start"
NEW_UNIQUE = "uq_statements_customer_period_kind_part"


def upgrade() -> None:
    with op.batch_alter_table("charges") as batch:
        batch.add_column(sa.Column("charge_frequency", sa.String(16), nullable=True))
    with op.batch_alter_table("statements") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="usage"))
        batch.add_column(sa.Column("part", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("billing_currency", sa.String(3), nullable=True))
        batch.add_column(sa.Column("exchange_rate", Money(), nullable=True))
        batch.add_column(sa.Column("tax_name", sa.String(100), nullable=True))
        batch.add_column(sa.Column("tax_rate", Money(), nullable=True))
        batch.drop_constraint(OLD_UNIQUE, type_="unique")
        batch.create_unique_constraint(
            NEW_UNIQUE, ["tenant_id", "customer_id", "provider", "period_start", "kind", "part"]
        )


def downgrade() -> None:
    with op.batch_alter_table("statements") as batch:
        batch.drop_constraint(NEW_UNIQUE, type_="unique")
        batch.create_unique_constraint(
            OLD_UNIQUE, ["tenant_id", "customer_id", "provider", "period_start"]
        )
        for column in ("tax_rate", "tax_name", "exchange_rate", "billing_currency", "part", "kind"):
            batch.drop_column(column)
    with op.batch_alter_table("charges") as batch:
        batch.drop_column("charge_frequency")
