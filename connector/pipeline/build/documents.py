"""Stored statements as the documents renderers and sinks receive."""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Sequence
from dataclasses import fields, replace
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session, selectinload, undefer

from connector.config.tenant import TenantConfig
from connector.contracts import (
    BillingPeriod,
    CreditedInvoice,
    DetailRow,
    Party,
    StatementDocument,
    StatementLine,
)
from connector.domain.money import tidy
from connector.domain.status_rules import CREDIT_NOTE
from connector.storage import models as m

# Statement ids per IN list: far below SQLite's and PostgreSQL's parameter limits.
CHUNK = 500

T = TypeVar("T")
log = logging.getLogger(__name__)


def reseller_party(config: TenantConfig) -> Party:
    profile = config.profile
    logo = config.base_dir / profile.logo if profile.logo else None
    return Party(
        name=profile.name,
        email=profile.email,
        phone=profile.phone,
        address=tuple(profile.address),
        tax_id=profile.tax_id,
        logo_path=logo,
    )


def payment_method(config: TenantConfig, customer_id: str) -> str | None:
    """The payment method a statement prints: none unless ``show_payment_method`` is on;
    then the customer's own, else the tenant-wide ``invoice_options.payment_method``.

    Every renderer prints what the document carries, so deciding it once here keeps the
    PDF, HTML and UBL in agreement.
    """
    invoice = config.invoice_options
    if not invoice.show_payment_method:
        return None
    return config.customer(customer_id).payment_method or invoice.payment_method


def _custom_fields(config: TenantConfig) -> dict[str, str]:
    invoice = config.invoice_options
    return dict(invoice.custom_fields) if invoice.custom_fields_in_header else {}


def printed_options(config: TenantConfig, customer_id: str) -> dict[str, object]:
    """What a statement prints from the invoice options, recorded when it is built: a
    closed period's statements keep the notes, header fields and payment method its
    configuration had (pipeline.close.period_config), whenever they are rendered."""
    return {
        "notes": config.invoice_options.notes,
        "custom_fields": _custom_fields(config),
        "payment_method": payment_method(config, customer_id),
        "tax_exempt": config.customer(customer_id).tax_exempt,
    }


# Where Letter is the usual paper; everywhere else prints on A4.
LETTER_COUNTRIES = frozenset({"US", "CA"})


def page_size(config: TenantConfig) -> str:
    """``A4`` or ``LETTER``: the invoice options' choice, else by the reseller's country."""
    chosen = config.invoice_options.page_size
    if chosen != "auto":
        return chosen
    return "LETTER" if config.profile.country.upper() in LETTER_COUNTRIES else "A4"


@functools.cache
def _display_names() -> dict[str, str]:
    """Provider plugin name -> its ``display_name``, read once per process: documents
    are built in places (publishing, the API, notifications) that hold no plugin host."""
    from connector.plugins import load_plugins  # noqa: PLC0415 - avoids an import cycle

    try:
        registry = load_plugins().providers
    except Exception:  # noqa: BLE001 - a broken plugin must not stop a statement rendering
        log.warning("provider plugins could not be loaded; documents name providers by key")
        return {}
    return {key: registry.display_name(key) for key in registry.names()}


def provider_name(config: TenantConfig, provider: str) -> str:
    """The provider as customers know it ("Amazon Web Services"): its plugin's optional
    ``display_name``, else the tenant's key for it (a statement outlives its plugin)."""
    settings = config.providers.get(provider)
    plugin = settings.plugin_name(provider) if settings is not None else provider
    return _display_names().get(plugin, provider)


def _copy(value_type: type[T], row: object) -> T:
    """A contract value from the stored row with the same field names."""
    return value_type(**{f.name: getattr(row, f.name) for f in fields(value_type)})


def _invoice_credited_by(note: m.Statement, number: str) -> m.Statement | None:
    """The stored invoice numbered ``number`` that the credit note ``note`` credits,
    read in the session ``note`` came from (None once it has left its session)."""
    session = object_session(note)
    if session is None:
        return None
    return session.scalar(
        select(m.Statement)
        .where(m.Statement.tenant_id == note.tenant_id, m.Statement.number == number)
        .options(undefer(m.Statement.detail_rows))
    )


def credited_invoice(statement: m.Statement) -> CreditedInvoice | None:
    """The invoice a credit note credits, as voiding recorded it on the note (number, id
    and issue date; a note voided before the date was recorded reads it from the
    invoice); None for an invoice."""
    options = statement.options or {}
    number = options.get("credits")
    if statement.kind != CREDIT_NOTE or not number:
        return None
    issued = options.get("credits_issue_date")
    ident = options.get("credits_id")
    if issued is None:
        original = _invoice_credited_by(statement, number)
        if original is not None:
            return CreditedInvoice(number, original.issue_date, original.id)
    return CreditedInvoice(number, dt.date.fromisoformat(issued) if issued else None, ident)


def reversed_details(note: m.Statement, credited: CreditedInvoice) -> list[DetailRow]:
    """The credited invoice's detail rows with cost and price negated: what the credit
    note reverses, for its detailed CSV. The rows stay stored with the invoice alone, so
    reconciliation and reports never count them twice; empty once the invoice cannot
    be read."""
    original = _invoice_credited_by(note, credited.number)
    if original is None:
        return []
    zero = Decimal(0)  # 0 - x rather than -x: -Decimal("0.00") would print "-0.00"
    return [
        row._replace(
            cost=zero - row.cost, price=zero - row.price, price_rounded=zero - row.price_rounded
        )
        for row in original.details
    ]


def statement_document(config: TenantConfig, statement: m.Statement) -> StatementDocument:
    """Everything a renderer or sink needs about ``statement``, as plain values.

    Line amounts, subtotal, tax and total are in the currency's minor unit (``323.08``),
    as they were built: PostgreSQL gives them back at NUMERIC(38, 12)'s scale
    (``323.080000000000``), which renderers would print as it is.
    """
    customer = config.customer(statement.customer_id)
    invoice = config.invoice_options
    currency = statement.currency
    printed = statement.options
    credited = credited_invoice(statement)
    details = statement.details
    if credited is not None and not details:
        details = reversed_details(statement, credited)
    return StatementDocument(
        statement_id=statement.id,
        revision=statement.revision,
        tenant=config.tenant,
        provider=statement.provider,
        period=BillingPeriod(statement.period_start, statement.period_end),
        status=statement.status,
        number=statement.number,
        issue_date=statement.issue_date,
        due_date=statement.due_date,
        currency=statement.currency,
        reseller=reseller_party(config),
        customer=Party(
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
            address=tuple(customer.address),
            tax_id=customer.tax_id,
        ),
        customer_id=customer.id,
        lines=[
            replace(line, amount=tidy(line.amount, currency))
            for line in (_copy(StatementLine, row) for row in statement.lines)
        ],
        details=details,
        subtotal=tidy(statement.subtotal, currency),
        tax=tidy(statement.tax, currency),
        total=tidy(statement.total, currency),
        # What the statement was built with (a credit note carries its own notes, "Credit
        # note for ACME-01001: ..."); statements built before it was recorded, today's.
        notes=printed.get("notes", invoice.notes),
        pricebook_version=statement.pricebook_version,
        erp_mappings={**config.erp.mappings, **customer.erp},
        custom_fields=printed.get("custom_fields", _custom_fields(config)),
        payment_method=printed.get("payment_method", payment_method(config, customer.id)),
        tax_name=statement.tax_name,
        tax_rate=statement.tax_rate,
        billing_currency=statement.billing_currency,
        credits_before_tax=statement.options.get("include_credits_for_tax"),
        exchange_rate=statement.exchange_rate
        if statement.exchange_rate is not None
        else Decimal(1),
        credited_invoice=credited,
        country=config.profile.country,
        locale=invoice.locale,
        page_size=page_size(config),
        provider_name=provider_name(config, statement.provider),
        tax_exempt=printed.get("tax_exempt", customer.tax_exempt),
        show_zero_lines=invoice.show_zero_lines,
        show_rounding_lines=invoice.show_rounding_lines,
    )


def load_statements(session: Session, statement_ids: Sequence[str]) -> dict[str, m.Statement]:
    """The stored statements of ``statement_ids`` by id (an id not found is absent),
    read with their lines and detail rows in one query per :data:`CHUNK` ids rather
    than a round trip per statement."""
    found: dict[str, m.Statement] = {}
    for start in range(0, len(statement_ids), CHUNK):
        chunk = list(statement_ids[start : start + CHUNK])
        found.update(
            (s.id, s)
            for s in session.scalars(
                select(m.Statement)
                .where(m.Statement.id.in_(chunk))
                .options(selectinload(m.Statement.lines), undefer(m.Statement.detail_rows))
            )
        )
    return found


def load_documents(
    session: Session, config: TenantConfig, statement_ids: Sequence[str]
) -> list[StatementDocument]:
    """The documents of ``statement_ids``, in that order, read as :func:`load_statements`
    reads them."""
    found = load_statements(session, statement_ids)
    return [statement_document(config, found[i]) for i in statement_ids]
