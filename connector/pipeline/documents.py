"""Stored statements as the documents renderers and sinks receive."""

from __future__ import annotations

from connector.config.tenant import TenantConfig
from connector.contracts import BillingPeriod, DetailRow, Party, StatementDocument, StatementLine
from connector.storage import models as m


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


def statement_document(config: TenantConfig, statement: m.Statement) -> StatementDocument:
    """Everything a renderer or sink needs about ``statement``, as plain values."""
    customer = config.customer(statement.customer_id)
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
            StatementLine(
                position=line.position,
                kind=line.kind,
                description=line.description,
                amount=line.amount,
                cost=line.cost,
                service_category=line.service_category,
                account_id=line.account_id,
            )
            for line in statement.lines
        ],
        details=[
            DetailRow(
                account_id=d.account_id,
                service_category=d.service_category,
                service_name=d.service_name,
                sku=d.sku,
                line_item_type=d.line_item_type,
                is_marketplace=d.is_marketplace,
                quantity=d.quantity,
                cost=d.cost,
                price=d.price,
                price_rounded=d.price_rounded,
            )
            for d in statement.details
        ],
        subtotal=statement.subtotal,
        tax=statement.tax,
        total=statement.total,
        notes=config.invoice_options.notes,
        pricebook_version=statement.pricebook_version,
        erp_mappings={**config.erp.mappings, **customer.erp},
    )
