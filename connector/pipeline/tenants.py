"""Mirroring tenant files into the database: tenants, customers, account mappings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.config.tenant import TenantConfig
from connector.storage import models as m


def sync_tenant(session: Session, config: TenantConfig) -> m.Tenant:
    """Make the stored tenant, customers and account mappings match the tenant file.

    Writes only what differs, under a lock on the tenant row, so processes syncing the
    same file at once do not collide. The invoice counter only moves forward: a file
    asking for a higher next number raises it, a lower one never reuses numbers.
    """
    tenant = session.scalar(
        select(m.Tenant)
        .where(m.Tenant.id == config.tenant)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    wanted_next = config.invoice_options.next_invoice_number
    if tenant is None:
        tenant = m.Tenant(
            id=config.tenant, name=config.profile.name, next_invoice_number=wanted_next
        )
        session.add(tenant)
        session.flush()
    else:
        tenant.name = config.profile.name
        tenant.next_invoice_number = max(tenant.next_invoice_number, wanted_next)
    stored = {
        c.id: c
        for c in session.scalars(select(m.Customer).where(m.Customer.tenant_id == config.tenant))
    }
    for customer in config.customers:
        row = stored.get(customer.id) or m.Customer(tenant_id=config.tenant, id=customer.id)
        row.name, row.invoice_currency = customer.name, customer.invoice_currency
        session.add(row)
    wanted = {
        (provider, account): customer.id
        for customer in config.customers
        for provider, accounts in customer.accounts.items()
        for account in accounts
    }
    for mapping in session.scalars(
        select(m.ProviderAccount).where(m.ProviderAccount.tenant_id == config.tenant)
    ):
        key = (mapping.provider, mapping.account_id)
        if wanted.get(key) == mapping.customer_id:
            del wanted[key]
        else:
            session.delete(mapping)
    session.flush()
    session.add_all(
        m.ProviderAccount(
            tenant_id=config.tenant, provider=provider, account_id=account, customer_id=customer
        )
        for (provider, account), customer in wanted.items()
    )
    return tenant
