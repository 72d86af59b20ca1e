"""Users who sign in to the web pages

``users``: name, argon2 password hash, role (operator, reviewer, read-only, customer)
and, for a customer user, its customer (connector.access.users).
"""

from alembic import op

from connector.storage import migration_columns as col

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "users",
        col.serial_id(),
        *col.strings(tenant_id=64, name=64, password_hash=200, role=16),
        *col.strings(customer_id=64, nullable=True),
        *col.moments("created_at"),
        *col.moments("disabled_at", nullable=True),
        col.owned_by_tenant("users"),
        col.primary_key("users"),
        col.unique("users", "name"),
    )
    op.create_index("ix_users_tenant_id", "users", ["tenant_id"])


def downgrade() -> None:
    op.drop_index("ix_users_tenant_id", table_name="users")
    op.drop_table("users")
