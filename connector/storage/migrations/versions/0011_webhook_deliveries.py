"""Webhook deliveries: signed events on their way to the tenants' endpoints

``webhook_deliveries``: one row per event and endpoint, written in the transaction of
the change the event announces (the transactional outbox), with the body as sent and
the delivery's state, attempts and last answer (connector.pipeline.publish.webhooks).

Revision ID: 0011
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

from connector.storage import migration_columns as col

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_deliveries",
        col.serial_id(),
        *col.strings(tenant_id=64, event_id=36, event_type=32, endpoint=64),
        *col.strings(subject=36, nullable=True),
        col.text("body"),
        *col.strings(state=16),
        col.integer("attempts"),
        *col.moments("next_attempt_at", nullable=True),
        col.text("last_error", nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),  # no helper: a nullable integer
        *col.strings(last_response=200, nullable=True),
        *col.moments("created_at", "updated_at"),
        *col.moments("delivered_at", nullable=True),
        col.owned_by_tenant("webhook_deliveries"),
        col.primary_key("webhook_deliveries"),
        col.unique("webhook_deliveries", "event_id", "endpoint"),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["tenant_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
