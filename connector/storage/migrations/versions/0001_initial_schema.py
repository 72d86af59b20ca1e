"""initial schema"""

import sqlalchemy as sa
from alembic import op

from connector.storage import migration_columns as col

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "audit_trail",
        col.serial_id(),
        *col.strings(tenant_id=64, actor=200, action=64, subject=200),
        col.json("detail"),
        *col.moments("at"),
        col.primary_key("audit_trail"),
    )
    with op.batch_alter_table("audit_trail", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_trail_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "tenants",
        *col.strings(id=64, name=200),
        col.integer("next_invoice_number"),
        *col.moments("created_at"),
        col.primary_key("tenants"),
    )
    op.create_table(
        "charge_batches",
        col.serial_id(),
        *col.strings(tenant_id=64, provider=64),
        *col.days("period_start", "period_end"),
        col.text("source"),
        *col.strings(source_hash=128),
        col.integer("row_count"),
        *col.money("billed_total"),
        col.flag("final"),
        *col.moments("ingested_at"),
        *col.moments("superseded_at", nullable=True),
        col.owned_by_tenant("charge_batches"),
        col.primary_key("charge_batches"),
        col.unique("charge_batches", "tenant_id", "provider", "period_start", "source_hash"),
    )
    with op.batch_alter_table("charge_batches", schema=None) as batch_op:
        batch_op.create_index(
            "ix_charge_batches_current",
            ["tenant_id", "provider", "period_start", "superseded_at"],
            unique=False,
        )

    op.create_table(
        "credit_entries",
        col.serial_id(),
        *col.strings(tenant_id=64, customer_id=64, kind=16),
        *col.money("amount"),
        *col.strings(currency=3),
        col.text("comment"),
        *col.strings(statement_id=36, nullable=True),
        *col.strings(created_by=200),
        *col.moments("created_at"),
        col.owned_by_tenant("credit_entries"),
        col.primary_key("credit_entries"),
    )
    with op.batch_alter_table("credit_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_credit_entries_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "customers",
        *col.strings(tenant_id=64, id=64, name=200, invoice_currency=3),
        col.owned_by_tenant("customers"),
        col.primary_key("customers", "tenant_id", "id"),
    )
    op.create_table(
        "outbox",
        col.serial_id(),
        *col.strings(tenant_id=64, statement_id=36, sink=64, idempotency_key=200, state=16),
        col.integer("attempts"),
        *col.moments("next_attempt_at", nullable=True),
        col.text("last_error", nullable=True),
        *col.strings(remote_id=200, nullable=True),
        *col.moments("created_at", "updated_at"),
        col.owned_by_tenant("outbox"),
        col.primary_key("outbox"),
        col.unique("outbox", "idempotency_key"),
    )
    op.create_table(
        "period_closes",
        *col.strings(tenant_id=64, provider=64),
        *col.days("period_start"),
        *col.strings(reason=64),
        *col.moments("closed_at"),
        col.owned_by_tenant("period_closes"),
        col.primary_key("period_closes", "tenant_id", "provider", "period_start"),
    )
    op.create_table(
        "provider_accounts",
        col.serial_id(),
        *col.strings(tenant_id=64, provider=64, account_id=128, customer_id=64),
        col.owned_by_tenant("provider_accounts"),
        col.primary_key("provider_accounts"),
        col.unique("provider_accounts", "tenant_id", "provider", "account_id"),
    )
    op.create_table(
        "statements",
        *col.strings(id=36, tenant_id=64, customer_id=64, provider=64),
        *col.days("period_start", "period_end"),
        *col.strings(status=16),
        *col.strings(number=21, nullable=True),
        col.integer("revision"),
        *col.strings(currency=3),
        *col.money("subtotal", "tax", "total"),
        *col.days("issue_date", "due_date"),
        *col.strings(pricebook_version=100, nullable=True),
        col.json("batch_ids"),
        col.json("options"),
        *col.moments("created_at"),
        *col.moments("approved_at", nullable=True),
        col.owned_by_tenant("statements"),
        col.primary_key("statements"),
        col.unique("statements", "tenant_id", "customer_id", "provider", "period_start"),
        col.unique("statements", "tenant_id", "number"),
    )
    op.create_table(
        "charges",
        col.serial_id(),
        col.integer("batch_id"),
        *col.strings(billing_account_id=128, sub_account_id=128, charge_category=32),
        *col.strings(charge_class=32, nullable=True),
        *col.strings(service_name=200, service_category=200, sku=300),
        *col.strings(publisher=200, nullable=True),
        col.flag("is_marketplace"),
        *col.money("billed_cost", "list_cost", "quantity"),
        *col.strings(billing_currency=3),
        *col.days("charge_period_start", "charge_period_end"),
        *col.strings(invoice_id=128, nullable=True),
        *col.strings(line_item_type=64),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["charge_batches.id"], name="fk_charges_batch_id_charge_batches"
        ),
        col.primary_key("charges"),
    )
    with op.batch_alter_table("charges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_charges_batch_id"), ["batch_id"], unique=False)

    col.create_statement_details(op)
    op.create_table(
        "statement_lines",
        col.serial_id(),
        *col.strings(statement_id=36),
        col.integer("position"),
        *col.strings(kind=16, description=300),
        *col.money("amount", "cost"),
        *col.strings(service_category=200, account_id=128, nullable=True),
        *col.money("quantity"),
        col.part_of_statement("statement_lines"),
        col.primary_key("statement_lines"),
    )


def downgrade() -> None:
    # Dropping a table drops its indexes with it.
    for table in (
        "statement_lines", "statement_details", "charges", "statements", "provider_accounts",
        "period_closes", "outbox", "customers", "credit_entries", "charge_batches", "tenants",
        "audit_trail",
    ):  # fmt: skip
        op.drop_table(table)
