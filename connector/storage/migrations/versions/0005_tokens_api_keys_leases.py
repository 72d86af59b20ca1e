"""ERP OAuth2 tokens encrypted at rest, billing API keys, daemon work leases"""

from alembic import op

from connector.storage import migration_columns as col

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "erp_tokens",
        *col.strings(tenant_id=64, key=200),
        col.text("ciphertext"),
        *col.moments("updated_at"),
        col.owned_by_tenant("erp_tokens"),
        col.primary_key("erp_tokens", "tenant_id", "key"),
    )
    op.create_table(
        "api_keys",
        *col.strings(id=32, tenant_id=64, secret_hash=128, scope=16),
        *col.strings(customer_id=64, label=200, nullable=True),
        *col.moments("created_at"),
        *col.moments("revoked_at", "last_used_at", nullable=True),
        col.owned_by_tenant("api_keys"),
        col.primary_key("api_keys"),
    )
    op.create_index("ix_api_keys_tenant_id", "api_keys", ["tenant_id"])
    op.create_table(
        "work_leases",
        *col.strings(name=300, holder=200),
        *col.moments("expires_at", "updated_at"),
        col.primary_key("work_leases", "name"),
    )


def downgrade() -> None:
    op.drop_table("work_leases")
    op.drop_index("ix_api_keys_tenant_id", table_name="api_keys")
    op.drop_table("api_keys")
    op.drop_table("erp_tokens")
