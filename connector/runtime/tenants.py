"""Mirroring tenant files into the database: tenants, customers, account mappings."""

from __future__ import annotations

import threading
import weakref
from typing import TYPE_CHECKING

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from connector.config.tenant import TenantConfig
from connector.storage import models as m
from connector.storage.statistics import analyze_after_load

if TYPE_CHECKING:
    from connector.storage.db import Database

# Which tenant file (the loaded TenantConfig object) this process last synced into which
# database, by (id of the database, tenant): weak references both, so neither is kept
# alive, and an id reused by a new object never passes for the old one.
_synced: dict[tuple[int, str], tuple[weakref.ref[Database], weakref.ref[TenantConfig]]] = {}
_synced_lock = threading.Lock()


def lock_tenant(session: Session, tenant: str) -> m.Tenant | None:
    """The tenant row, locked until the transaction ends (None before its first sync).

    It is the invoice counter's lock: approvals and voids take numbers under it, so
    numbers handed out at the same time stay unique and gapless.
    """
    return session.scalar(
        select(m.Tenant)
        .where(m.Tenant.id == tenant)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def sync_tenant(session: Session, config: TenantConfig) -> m.Tenant:
    """Make the stored tenant, customers and account mappings match the tenant file.

    Writes only what differs, under a lock on the tenant row, so processes syncing the
    same file at once do not collide. The invoice counter only moves forward: a file
    asking for a higher next number raises it, a lower one never reuses numbers.
    """
    tenant = lock_tenant(session, config.tenant)
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
    # Compared as plain rows and written only where they differ: a tenant of thousands
    # of customers is synced before every build, and ORM objects for each cost more
    # than the comparison.
    stored = {
        customer_id: (name, currency)
        for customer_id, name, currency in session.execute(
            select(m.Customer.id, m.Customer.name, m.Customer.invoice_currency).where(
                m.Customer.tenant_id == config.tenant
            )
        )
    }
    new_customers = []
    for customer in config.customers:
        wanted_row = (customer.name, customer.invoice_currency)
        found = stored.get(customer.id)
        if found is None:
            new_customers.append(
                {"tenant_id": config.tenant, "id": customer.id, "name": customer.name,
                 "invoice_currency": customer.invoice_currency}
            )  # fmt: skip
        elif found != wanted_row:
            session.execute(
                update(m.Customer)
                .where(m.Customer.tenant_id == config.tenant, m.Customer.id == customer.id)
                .values(name=customer.name, invoice_currency=customer.invoice_currency)
            )
    if new_customers:
        session.execute(insert(m.Customer), new_customers)
        analyze_after_load(session, m.Customer.__tablename__, len(new_customers))
    wanted = {
        (provider, account): customer.id
        for customer in config.customers
        for provider, accounts in customer.accounts.items()
        for account in accounts
    }
    stale = []
    for mapping_id, provider, account, customer_id in session.execute(
        select(
            m.ProviderAccount.id,
            m.ProviderAccount.provider,
            m.ProviderAccount.account_id,
            m.ProviderAccount.customer_id,
        ).where(m.ProviderAccount.tenant_id == config.tenant)
    ):
        if wanted.get((provider, account)) == customer_id:
            del wanted[(provider, account)]
        else:
            stale.append(mapping_id)
    if stale:
        session.execute(delete(m.ProviderAccount).where(m.ProviderAccount.id.in_(stale)))
    if wanted:
        session.execute(
            insert(m.ProviderAccount),
            [
                {"tenant_id": config.tenant, "provider": provider, "account_id": account,
                 "customer_id": customer}
                for (provider, account), customer in wanted.items()
            ],
        )  # fmt: skip
        analyze_after_load(session, m.ProviderAccount.__tablename__, len(wanted))
    return tenant


def sync_tenant_once(db: Database, config: TenantConfig) -> None:
    """:func:`sync_tenant` in a transaction of its own, unless this process has already
    synced this very ``config`` into ``db``.

    For operations that need the tenant file's data in the database but run many times
    on one file, such as single approvals through the API: a tenant of thousands of
    customers costs tens of milliseconds to compare, and its file changes rarely. A
    changed tenant file is a new ``TenantConfig`` (the daemon's reload, a new process),
    so it is synced before the next such operation. The sync is remembered only once
    its transaction has committed.
    """
    key = (id(db), config.tenant)
    with _synced_lock:
        known = _synced.get(key)
    if known is not None and known[0]() is db and known[1]() is config:
        return
    with db.transaction() as session:
        sync_tenant(session, config)
    with _synced_lock:
        _synced[key] = (weakref.ref(db), weakref.ref(config))
