"""What the billing API reads and returns, with the examples its OpenAPI shows.

Money is a decimal string everywhere ("1234.50"): a JSON number would be read as a
float by most clients, and a float in a money path is a bug.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from connector.domain.money import tidy
from connector.storage import models as m

Status = Literal["Draft", "Open", "Past Due", "Closed", "Void"]
# What a client may set (Void comes only from voiding, which issues a credit note).
SettableStatus = Literal["Draft", "Open", "Past Due", "Closed"]
Scope = Literal["read", "operator", "customer"]
Format = Literal["pdf", "csv", "detailed-csv", "html", "ubl"]
# Years 1900-2999: a period outside them is a typo, and year 0 or 9999 would overflow
# the date arithmetic of the period bounds.
PERIOD_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
# Ids, numbers and names in paths and filters; long enough for any we make.
IDENT = {"min_length": 1, "max_length": 64}
Ident = Annotated[str, Field(**IDENT)]
# Rules the pipeline checks itself (so that its message can say what was wrong and what
# would be valid), stated in the document but not enforced by the schema.
COMMENT_RULE = {"minLength": 1, "pattern": r"\S"}
AMOUNT_RULE = {"pattern": r"^[0-9]+(\.[0-9]+)?$"}
CURRENCY_RULE = {"pattern": r"^[A-Za-z]{3}$"}
RANGE_RULE = {
    "pattern": r"^(month-to-date|last-month|[0-9]{4}-[0-9]{2}"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}\.\.[0-9]{4}-[0-9]{2}-[0-9]{2})$"
}
MoneyText = str


def money(value: Decimal | None, currency: str | None = None) -> str | None:
    """Fixed-point text (str() would write a tiny amount as 1E-10): in the currency's
    minor units when that loses nothing (PostgreSQL hands back 12 places), else all
    its digits; without a currency (rates, quantities), without trailing zeros."""
    if value is None:
        return None
    if currency is None:
        return format(value.normalize(), "f")
    return format(tidy(value, currency), "f")


class ErrorBody(BaseModel):
    """Every error: ``detail`` says what went wrong and what would be valid."""

    detail: str = Field(examples=["tenant 'acme' has no statement 'ACME-09999'"])
    errors: list[str] = Field(
        default_factory=list,
        description="For invalid input (422): one entry per field, naming it.",
        examples=[["query.period: String should match pattern YYYY-MM"]],
    )


class StatementSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0b4f3a52-8a8e-4b8e-9d43-5d1f3c1c2a10",
                    "number": "ACME-01001",
                    "customer": "1001",
                    "provider": "aws",
                    "period": "2026-10",
                    "period_start": "2026-10-01",
                    "period_end": "2026-11-01",
                    "status": "Open",
                    "currency": "USD",
                    "subtotal": "1520.37",
                    "tax": "125.43",
                    "total": "1645.80",
                    "revision": 1,
                    "kind": "usage",
                    "part": 0,
                    "issue_date": "2026-11-06",
                    "due_date": "2026-12-06",
                    "billing_currency": "USD",
                    "exchange_rate": "1",
                }
            ]
        }
    )

    id: str
    number: str | None = Field(description="The invoice number; null while a Draft.")
    customer: str
    provider: str
    period: str = Field(description="YYYY-MM of the period's first day.")
    period_start: dt.date
    period_end: dt.date = Field(description="The day after the period's last day.")
    status: Status
    currency: str
    subtotal: MoneyText
    tax: MoneyText
    total: MoneyText
    revision: int
    kind: Literal["usage", "purchase", "credit-note"]
    part: int
    issue_date: dt.date
    due_date: dt.date
    billing_currency: str | None
    exchange_rate: MoneyText | None

    @classmethod
    def of(cls, s: m.Statement) -> StatementSummary:
        return cls(**cls.fields_of(s))

    @staticmethod
    def fields_of(s: object) -> dict[str, Any]:
        """The summary's fields, read from a statement or anything with its columns'
        names (an approved statement's record)."""
        return summary_fields(*(getattr(s, column.key) for column in SUMMARY_COLUMNS))


# What a summary shows, in the order summary_fields takes it: not the JSON columns,
# whose decoding was a tenth of a list's time. A list reads these columns and hands
# each row to summary_fields as it is.
SUMMARY_COLUMNS = (
    m.Statement.id,
    m.Statement.number,
    m.Statement.customer_id,
    m.Statement.provider,
    m.Statement.period_start,
    m.Statement.period_end,
    m.Statement.status,
    m.Statement.currency,
    m.Statement.subtotal,
    m.Statement.tax,
    m.Statement.total,
    m.Statement.revision,
    m.Statement.kind,
    m.Statement.part,
    m.Statement.issue_date,
    m.Statement.due_date,
    m.Statement.billing_currency,
    m.Statement.exchange_rate,
)


def summary_fields(
    ident: str,
    number: str | None,
    customer_id: str,
    provider: str,
    period_start: dt.date,
    period_end: dt.date,
    status: str,
    currency: str,
    subtotal: Decimal,
    tax: Decimal,
    total: Decimal,
    revision: int,
    kind: str,
    part: int,
    issue_date: dt.date,
    due_date: dt.date,
    billing_currency: str | None,
    exchange_rate: Decimal | None,
    *_more: object,
) -> dict[str, Any]:
    """A :class:`StatementSummary`'s fields from the values of ``SUMMARY_COLUMNS`` in
    order (anything after them is left out): a list page's 50 rows unpacked by
    position, not read by name (which was three quarters of this)."""
    return {
        "id": ident,
        "number": number,
        "customer": customer_id,
        "provider": provider,
        "period": period_start.isoformat()[:7],
        "period_start": period_start,
        "period_end": period_end,
        "status": status,
        "currency": currency,
        "subtotal": money(subtotal, currency),
        "tax": money(tax, currency),
        "total": money(total, currency),
        "revision": revision,
        "kind": kind,
        "part": part,
        "issue_date": issue_date,
        "due_date": due_date,
        "billing_currency": billing_currency,
        "exchange_rate": money(exchange_rate),
    }


class Line(BaseModel):
    """One statement line as the customer sees it (the provider's cost is not shown)."""

    position: int = Field(examples=[1])
    kind: Literal["service", "marketplace", "discount", "support", "credit", "tax", "rounding"]
    description: str = Field(examples=["Amazon Elastic Compute Cloud"])
    amount: MoneyText = Field(examples=["1234.56"])
    service_category: str | None = None
    account_id: str | None = None
    quantity: MoneyText = "1"


class StatementWithLines(StatementSummary):
    lines: list[Line]

    @classmethod
    def of(cls, s: m.Statement) -> StatementWithLines:  # type: ignore[override]
        lines = [
            Line(
                position=line.position,
                kind=line.kind,
                description=line.description,
                amount=money(line.amount, s.currency),
                service_category=line.service_category,
                account_id=line.account_id,
                quantity=money(line.quantity),
            )
            for line in s.lines
        ]
        return cls(**StatementSummary.of(s).model_dump(), lines=lines)


class StatementList(BaseModel):
    statements: list[StatementSummary]
    total: int = Field(description="How many match the filters (before limit/offset).")


class ApproveRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"ids": ["ACME-01001", "0b4f3a52"]}]}
    )

    ids: list[Ident] = Field(
        min_length=1,
        max_length=500,
        description="Statement ids or numbers (1 to 64 characters each); all are approved or none.",
    )


class ApproveAllRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"provider": "aws"}]})

    provider: str | None = Field(None, description="Only this provider's Drafts.", **IDENT)


class StatusRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"status": "Closed"}]}
    )

    status: SettableStatus = Field(
        description="Open -> Closed or Past Due; Past Due -> Closed. Draft -> Open is approval."
    )


class CreditBalance(BaseModel):
    customer: str = Field(examples=["1001"])
    currency: str = Field(examples=["USD"])
    granted: MoneyText = Field(examples=["150.00"])
    applied: MoneyText = Field(examples=["100.00"])
    balance: MoneyText = Field(examples=["50.00"])


class CreditGrantRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "customer": "1001",
                    "amount": "150.00",
                    "comment": "AWS account 111111111111: October outage credit",
                }
            ]
        },
    )

    customer: str = Field(**IDENT)
    amount: str = Field(
        max_length=64,
        description="A plain number greater than zero as text, like 150.00: no commas, no "
        "sign, no more decimals than the currency has.",
        strict=True,
        json_schema_extra=AMOUNT_RULE,
    )
    comment: str = Field(
        max_length=1000,
        description="Which cloud account and what for; not empty or blank.",
        json_schema_extra=COMMENT_RULE,
    )
    currency: str | None = Field(
        None,
        description="ISO 4217 code; must be the customer's invoice currency (the default): "
        "credits are not converted.",
        max_length=8,
        json_schema_extra=CURRENCY_RULE,
    )


class CreditGrant(BaseModel):
    entry: int
    customer: str
    amount: MoneyText
    currency: str
    balance: MoneyText = Field(description="The customer's balance in that currency after it.")


class CloseRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"provider": "aws", "period": "2026-10"}]}
    )

    provider: str = Field(**IDENT)
    period: str = Field(pattern=PERIOD_PATTERN, description="YYYY-MM")


class PeriodClosed(BaseModel):
    provider: str
    period: str
    period_start: dt.date
    period_end: dt.date
    reason: str = Field(description="manual, provider or business-days: what closed it first.")


class PluginInfo(BaseModel):
    name: str
    distribution: str
    version: str
    status: Literal["loaded", "blocked", "refused", "failed"]
    hooks: list[str]
    error: str | None


class PluginList(BaseModel):
    plugins: list[PluginInfo]
    providers: list[str]
    sinks: list[str]
    renderer_formats: list[str]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    database: Literal["ok", "unreachable"]


class Me(BaseModel):
    """The key making the request (never its secret)."""

    key_id: str
    tenant: str
    scope: Scope
    customer: str | None


class AuditEntry(BaseModel):
    """One change: who made it (``api-key:<id>``, ``cli:<login>``, ``daemon:...``), what
    (``statement.approve``, ``statement.delete``, ``statement.status``,
    ``statement.void``, ``credit.grant``, ``period.close`` ...), to what, and when."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 42,
                    "at": "2026-11-06T14:30:00.123456Z",
                    "actor": "api-key:3f9a0c1d2e4b",
                    "action": "statement.approve",
                    "subject": "0b4f3a52-8a8e-4b8e-9d43-5d1f3c1c2a10",
                    "detail": {"number": "ACME-01001"},
                }
            ]
        }
    )

    id: int
    at: dt.datetime = Field(description="When, in UTC.")
    actor: str
    action: str
    subject: str = Field(description="What changed: a statement's id for statement.* actions.")
    detail: dict[str, Any]

    @classmethod
    def of(cls, e: m.AuditEntry) -> AuditEntry:
        # SQLite hands the stored UTC time back without its offset.
        at = e.at if e.at.tzinfo is not None else e.at.replace(tzinfo=dt.UTC)
        return cls(
            id=e.id,
            at=at.astimezone(dt.UTC),
            actor=e.actor,
            action=e.action,
            subject=e.subject,
            detail=dict(e.detail or {}),
        )


class AuditList(BaseModel):
    entries: list[AuditEntry] = Field(description="Newest first.")
    total: int = Field(description="How many match the filters (before limit/offset).")
