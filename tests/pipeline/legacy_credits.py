"""Credit grants finer than a cent, as the ledger may hold them from before grants were
held to the currency's minor unit: builds must still use them exactly."""

from __future__ import annotations

from decimal import Decimal

from connector.pipeline import credits
from connector.runtime.tenants import sync_tenant


def store_grant(runtime, customer: str, amount: str, comment: str = "promo") -> None:
    """A grant of ``amount`` in the customer's invoice currency, stored without the
    checks ``credits.grant`` makes today (e.g. 100.0000000001 USD)."""
    config = runtime.tenant("acme")
    currency = config.customer(customer).invoice_currency
    with runtime.db.transaction() as session:
        sync_tenant(session, config)
        credits.add_grant(session, "acme", customer, Decimal(amount), currency, comment, "test")
