"""Columns, keys and tables that several Alembic revisions write alike.

Revisions are history: what a helper here builds must stay what the revisions using it
built when they were written (tests/storage/test_migrations_match_models.py compares the
migrated schema with the models on SQLite and PostgreSQL). To change a shape, add a helper.
Constraint names are spelled out, as the naming convention in models.NAMING would spell them.
"""

from __future__ import annotations

import sqlalchemy as sa

from connector.storage.models import Money


def serial_id() -> sa.Column:
    """``id``: an integer the database numbers."""
    return sa.Column("id", sa.Integer(), autoincrement=True, nullable=False)


def strings(*, nullable: bool = False, **lengths: int) -> list[sa.Column]:
    """Strings of at most the given length, in the order given: ``strings(sku=300)``."""
    return [
        sa.Column(name, sa.String(length=length), nullable=nullable)
        for name, length in lengths.items()
    ]


def integer(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False)


def text(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.Text(), nullable=nullable)


def flag(name: str) -> sa.Column:
    return sa.Column(name, sa.Boolean(), nullable=False)


def json(name: str) -> sa.Column:
    return sa.Column(name, sa.JSON(), nullable=False)


def days(*names: str) -> list[sa.Column]:
    """Calendar dates, required."""
    return [sa.Column(name, sa.Date(), nullable=False) for name in names]


def moments(*names: str, nullable: bool = False) -> list[sa.Column]:
    """Timestamps with their time zone."""
    return [sa.Column(name, sa.DateTime(timezone=True), nullable=nullable) for name in names]


def money(*names: str) -> list[sa.Column]:
    """Exact decimals (``Money``), required."""
    return [sa.Column(name, Money(), nullable=False) for name in names]


def primary_key(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*(columns or ("id",)), name=f"pk_{table}")


def unique(table: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=f"uq_{table}_{'_'.join(columns)}")


def owned_by_tenant(table: str) -> sa.ForeignKeyConstraint:
    """``tenant_id`` refers to ``tenants.id``."""
    return sa.ForeignKeyConstraint(
        ["tenant_id"], ["tenants.id"], name=f"fk_{table}_tenant_id_tenants"
    )


def part_of_statement(table: str) -> sa.ForeignKeyConstraint:
    """``statement_id`` refers to ``statements.id``; deleting the statement deletes the row."""
    return sa.ForeignKeyConstraint(
        ["statement_id"],
        ["statements.id"],
        name=f"fk_{table}_statement_id_statements",
        ondelete="CASCADE",
    )


def create_statement_details(op) -> None:  # type: ignore[no-untyped-def]
    """The ``statement_details`` table of revision 0001 (dropped by 0004), with its index."""
    op.create_table(
        "statement_details",
        serial_id(),
        *strings(statement_id=36, account_id=128, service_category=200, service_name=200),
        *strings(sku=300, line_item_type=64),
        flag("is_marketplace"),
        *money("quantity", "cost", "price", "price_rounded"),
        part_of_statement("statement_details"),
        primary_key("statement_details"),
    )
    op.create_index("ix_statement_details_statement_id", "statement_details", ["statement_id"])
