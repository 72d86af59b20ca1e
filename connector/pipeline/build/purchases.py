"""Upfront purchases billed as they appear ("AWS RI purchase: immediately").

With the tenant's ``aws_ri_purchase: immediately``, one-time purchases (upfront
reservation and savings-plan fees) get their own Draft statements, kind ``purchase``,
as soon as they are in the billing data, without waiting for the period to close; the
period's usage statement then leaves every one of them out. A purchase is recognised
again in later report versions by what it is (account, service, SKU, line item type
and cost), never by a provider's row id, which changes between versions.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.config.tenant import TenantConfig
from connector.contracts import BillingPeriod, ChargeCategory
from connector.domain.statement import CustomerCharge
from connector.storage import models as m
from connector.storage.details import read_details

USAGE, PURCHASE = "usage", "purchase"
ONE_TIME = "One-Time"


def billed_immediately(config: TenantConfig, provider: str) -> bool:
    """Whether ``provider``'s upfront purchases get their own statements as they appear."""
    return (
        config.invoice_options.aws_ri_purchase == "immediately"
        and config.providers[provider].plugin == "aws"
    )


def is_upfront(charge: CustomerCharge) -> bool:
    """A one-time purchase billed by the provider itself (marketplace passes through)."""
    return (
        charge.charge_category == ChargeCategory.PURCHASE
        and charge.charge_frequency == ONE_TIME
        and not charge.is_marketplace
    )


def _key(
    account: str, service: str, category: str, sku: str, item: str, cost: Decimal, rate: Decimal
) -> tuple:
    """What a purchase is, with ``cost`` in the invoice currency at ``rate`` (the billing
    currency's cost times the rate, as the build converts it)."""
    return (account, service, category, sku, item, cost.normalize(), rate.normalize())


@dataclass(slots=True)
class CustomerPurchases:
    """A customer's purchase statements of one period."""

    drafts: list[str] = field(default_factory=list)  # statement ids, rebuilt on each run
    # Keys of purchases already approved, each with the exchange rate it was billed at.
    billed: Counter = field(default_factory=Counter)
    last_part: int = 0  # the highest part number approved


def stored_purchases(
    session: Session, tenant: str, provider: str, period: BillingPeriod
) -> dict[str, CustomerPurchases]:
    """The period's purchase statements by customer, with what the approved ones billed."""
    found: dict[str, CustomerPurchases] = {}
    approved: dict[str, tuple[str, Decimal]] = {}
    rows = session.execute(
        select(
            m.Statement.id,
            m.Statement.customer_id,
            m.Statement.status,
            m.Statement.part,
            m.Statement.exchange_rate,
        ).where(
            m.Statement.tenant_id == tenant,
            m.Statement.provider == provider,
            m.Statement.period_start == period.start,
            m.Statement.kind == PURCHASE,
        )
    )
    for statement_id, customer_id, status, part, rate in rows:
        entry = found.setdefault(customer_id, CustomerPurchases())
        if status == "Draft":
            entry.drafts.append(statement_id)
        else:
            # Statements built before rates were recorded were in the billing currency.
            approved[statement_id] = (customer_id, Decimal(1) if rate is None else rate)
            entry.last_part = max(entry.last_part, part)
    if approved:
        snapshots = session.execute(
            select(m.Statement.id, m.Statement.detail_rows).where(m.Statement.id.in_(approved))
        )
        for statement_id, text in snapshots:
            customer_id, rate = approved[statement_id]
            for d in read_details(text):
                # The detail rows hold the cost converted into the invoice currency.
                key = _key(d.account_id, d.service_name, d.service_category, d.sku,
                           d.line_item_type, d.cost, rate)  # fmt: skip
                found[customer_id].billed[key] += 1
    return found


def unbilled(charges: Iterable[CustomerCharge], billed: Counter) -> list[CustomerCharge]:
    """The upfront purchases in ``charges`` (in the billing currency) that no approved
    purchase statement billed.

    An approved statement's detail rows hold costs converted into the invoice currency,
    so each charge is compared converted at the rate of each approved statement: a
    EUR customer's approved 1,200.00 USD fee is its 1,105.80 EUR row at 0.9215, and
    must not be billed again.
    """
    left = Counter(billed)
    rates = sorted({key[-1] for key in billed})
    out = []
    for c in charges:
        if not is_upfront(c):
            continue
        for rate in rates:
            key = _key(c.account_id, c.service_name, c.service_category, c.sku,
                       c.line_item_type, c.cost * rate, rate)  # fmt: skip
            if left[key]:
                left[key] -= 1
                break
        else:
            out.append(c)
    return out


def without_upfront(charges: Sequence[CustomerCharge]) -> list[CustomerCharge]:
    """``charges`` less the upfront purchases, which purchase statements bill."""
    return [c for c in charges if not is_upfront(c)]
