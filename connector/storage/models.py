"""SQLAlchemy 2 models: what Billing Connector keeps between runs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from connector.contracts import DetailRow
from connector.storage.details import read_details

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Money(TypeDecorator[Decimal]):
    """An exact decimal: NUMERIC(38, 12) on PostgreSQL, text on SQLite.

    SQLite's NUMERIC affinity stores decimals as 8-byte floats, which loses digits
    past the 15th significant one, so there the value is kept as its exact string.
    """

    impl = Numeric(38, 12)
    cache_ok = True

    def load_dialect_impl(self, dialect):  # type: ignore[no-untyped-def]
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(38, 12, asdecimal=True))

    def process_bind_param(self, value: Any, dialect) -> Any:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        if not isinstance(value, Decimal):
            if isinstance(value, float):
                raise TypeError(f"money must be Decimal, got float {value!r}")
            value = Decimal(value)
        return str(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect) -> Decimal | None:  # type: ignore[no-untyped-def]
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # The next number approval hands out; taken under a row lock so it stays gapless.
    next_invoice_number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Customer(Base):
    __tablename__ = "customers"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    invoice_currency: Mapped[str] = mapped_column(String(3))


class ProviderAccount(Base):
    __tablename__ = "provider_accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "provider", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    provider: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[str] = mapped_column(String(64))


class ChargeBatch(Base):
    """One ingest of one provider source for one period; its hash makes re-ingest a no-op."""

    __tablename__ = "charge_batches"
    __table_args__ = (
        UniqueConstraint("tenant_id", "provider", "period_start", "source_hash"),
        Index(
            "ix_charge_batches_current", "tenant_id", "provider", "period_start", "superseded_at"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    provider: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text)
    source_hash: Mapped[str] = mapped_column(String(128))
    row_count: Mapped[int] = mapped_column(Integer)
    billed_total: Mapped[Decimal] = mapped_column(Money)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    ingested_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A newer version of the same period's data replaces this one; kept for drift.
    superseded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Charge(Base):
    """A canonical charge (FOCUS semantics), aggregated at full precision."""

    __tablename__ = "charges"
    # A batch's charges, and those of some of its accounts (one part of a build), directly.
    __table_args__ = (Index("ix_charges_batch_account", "batch_id", "sub_account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("charge_batches.id"))
    billing_account_id: Mapped[str] = mapped_column(String(128))
    sub_account_id: Mapped[str] = mapped_column(String(128))
    charge_category: Mapped[str] = mapped_column(String(32))
    charge_class: Mapped[str | None] = mapped_column(String(32))
    service_name: Mapped[str] = mapped_column(String(200))
    service_category: Mapped[str] = mapped_column(String(200))
    sku: Mapped[str] = mapped_column(String(300))
    publisher: Mapped[str | None] = mapped_column(String(200))
    is_marketplace: Mapped[bool] = mapped_column(Boolean, default=False)
    billed_cost: Mapped[Decimal] = mapped_column(Money)
    list_cost: Mapped[Decimal] = mapped_column(Money)
    quantity: Mapped[Decimal] = mapped_column(Money)
    billing_currency: Mapped[str] = mapped_column(String(3))
    charge_period_start: Mapped[dt.date] = mapped_column(Date)
    charge_period_end: Mapped[dt.date] = mapped_column(Date)
    invoice_id: Mapped[str | None] = mapped_column(String(128))
    line_item_type: Mapped[str] = mapped_column(String(64), default="")
    charge_frequency: Mapped[str | None] = mapped_column(String(16))


class PeriodClose(Base):
    __tablename__ = "period_closes"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    period_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(64))  # provider | manual | business-days
    closed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # What priced the period when it closed (pipeline.close.period_config); None: not yet recorded.
    config: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Statement(Base):
    """One customer × provider × period billing statement."""

    __tablename__ = "statements"
    __table_args__ = (
        # Named by hand: the convention's name is longer than PostgreSQL's 63 characters.
        UniqueConstraint(
            "tenant_id",
            "customer_id",
            "provider",
            "period_start",
            "kind",
            "part",
            name="uq_statements_customer_period_kind_part",
        ),
        UniqueConstraint("tenant_id", "number"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    customer_id: Mapped[str] = mapped_column(String(64))
    provider: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    # "usage": the period's statement; "purchase": upfront reservation and savings-plan
    # fees billed as they appear ("AWS RI purchase: immediately"), ``part`` 1, 2, ...
    kind: Mapped[str] = mapped_column(String(16), default="usage", server_default="usage")
    part: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default="Draft")
    number: Mapped[str | None] = mapped_column(String(21))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    currency: Mapped[str] = mapped_column(String(3))
    # The provider's billing currency and the period's rate into ``currency`` (1 when
    # they are the same), recorded so the statement can be checked later.
    billing_currency: Mapped[str | None] = mapped_column(String(3))
    exchange_rate: Mapped[Decimal | None] = mapped_column(Money)
    # The customer's tax as applied (None: no tax on this statement).
    tax_name: Mapped[str | None] = mapped_column(String(100))
    tax_rate: Mapped[Decimal | None] = mapped_column(Money)
    subtotal: Mapped[Decimal] = mapped_column(Money)
    tax: Mapped[Decimal] = mapped_column(Money)
    total: Mapped[Decimal] = mapped_column(Money)
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    pricebook_version: Mapped[str | None] = mapped_column(String(100))
    # The batches the statement was built from: a later re-pull shows as drift.
    batch_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))

    lines: Mapped[list[StatementLine]] = relationship(
        back_populates="statement",
        cascade="all, delete-orphan",
        order_by="StatementLine.position",
    )
    # The detail rows as one snapshot (storage.details); loaded only when read.
    detail_rows: Mapped[str | None] = mapped_column("details", Text, deferred=True)

    @property
    def details(self) -> list[DetailRow]:
        """Account × service × usage type at full precision, as built."""
        return read_details(self.detail_rows)


# A page of the API's list in its order (connector.api.queries.summary_page) read from
# the index, not sorted out of every statement of the tenant. Declared after the class:
# a descending column needs the column itself.
Index(
    "ix_statements_listing",
    Statement.tenant_id,
    Statement.period_start.desc(),
    Statement.provider,
    Statement.customer_id,
    Statement.kind,
    Statement.part,
)


class StatementLine(Base):
    __tablename__ = "statement_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    statement_id: Mapped[str] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(Money)
    cost: Mapped[Decimal] = mapped_column(Money)
    service_category: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[str | None] = mapped_column(String(128))
    quantity: Mapped[Decimal] = mapped_column(Money)

    statement: Mapped[Statement] = relationship(back_populates="lines")


class CreditEntry(Base):
    """The customer credit ledger: grants and applications to statements, both positive."""

    __tablename__ = "credit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    customer_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # grant | application
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    comment: Mapped[str] = mapped_column(Text, default="")
    statement_id: Mapped[str | None] = mapped_column(String(36))
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboxEntry(Base):
    """An approved statement waiting to be (or already) delivered to the ERP."""

    __tablename__ = "outbox"
    # The entries a push can still claim, by tenant in claim order (migration 0012): the
    # index is the size of the work left, however many entries were delivered before.
    __table_args__ = (
        Index(
            "ix_outbox_due",
            "tenant_id",
            "id",
            postgresql_where=text("state IN ('pending', 'failed', 'in_flight')"),
            sqlite_where=text("state IN ('pending', 'failed', 'in_flight')"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    statement_id: Mapped[str] = mapped_column(String(36))
    sink: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    remote_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class WebhookDelivery(Base):
    """One event on its way to (or delivered to) one webhook endpoint.

    Written in the transaction of the change it announces; the event's body is stored
    as sent, so every retry sends the same bytes under the same event id.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "endpoint"),
        Index("ix_webhook_deliveries_due", "tenant_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"))
    event_id: Mapped[str] = mapped_column(String(36))
    event_type: Mapped[str] = mapped_column(String(32))
    endpoint: Mapped[str] = mapped_column(String(64))  # its name in the tenant file
    subject: Mapped[str | None] = mapped_column(String(36))  # the statement's id
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    # The last answer: its HTTP status and the start of its body, never all of it.
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_response: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    delivered_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ErpToken(Base):
    """One ERP organisation's OAuth2 token, encrypted (never stored in clear)."""

    __tablename__ = "erp_tokens"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ApiKey(Base):
    """A billing API key: shown once when created, stored as a hash of the secret part."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # the key's public prefix
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(16))  # read | operator | customer
    customer_id: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class User(Base):
    """A person who signs in to the web pages: a role, an argon2 password hash, and for
    a customer user the one customer it may see. Names are unique across tenants, so
    the sign-in form needs no tenant field."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # operator | reviewer | read-only | customer
    customer_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class WorkLease(Base):
    """Who holds a unit of daemon work (or the clock), until when.

    A replica renews its leases while it works; one that dies stops renewing, and
    another takes the work over once ``expires_at`` has passed.
    """

    __tablename__ = "work_leases"

    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class AuditEntry(Base):
    __tablename__ = "audit_trail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
