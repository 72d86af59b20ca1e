"""What a provider's bill brings to statements beyond its charges: the marketplace its
third-party products come from, and the provider credits the tenant passes on.

Both are read the same way by the build and by reconcile, so that reconcile reports
exactly what the statements were built to carry.

The marketplace is the provider plugin's to name (``marketplace_name`` on its class,
"AWS Marketplace", "Azure Marketplace") and to give a default pricing
(``marketplace_pricing``: ``"at_cost"`` passes third-party products through as
marketplace fees, the AWS rule of seeds 002 and 003; without it, ``"pricebook"``); the
tenant's ``providers.<key>.marketplace_pricing`` overrides the plugin's default.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.config.tenant import TenantConfig
from connector.contracts import ChargeCategory
from connector.domain import provider_credits as pc
from connector.domain.money import ZERO
from connector.domain.statement import BILLABLE_CATEGORIES, MarketplaceTerms
from connector.plugins import PluginHost
from connector.registries import UnknownPluginError
from connector.storage import models as m

#: A plugin that does not name its marketplace gets this one.
GENERIC_MARKETPLACE = "Marketplace"
AT_COST, PRICEBOOK = "at_cost", "pricebook"


def marketplace_terms(plugins: PluginHost, config: TenantConfig, provider: str) -> MarketplaceTerms:
    """The marketplace of ``provider`` (a key of the tenant's providers) and whether its
    products pass through at cost, from the plugin and the tenant's setting."""
    settings = config.providers[provider]
    try:
        cls: type | None = plugins.providers.get(settings.plugin_name(provider))
    except UnknownPluginError:
        cls = None  # priced without its plugin (blocked, uninstalled): the generic terms
    name = getattr(cls, "marketplace_name", None) or GENERIC_MARKETPLACE
    pricing = settings.marketplace_pricing or getattr(cls, "marketplace_pricing", PRICEBOOK)
    return MarketplaceTerms(name=name, at_cost=pricing == AT_COST)


def owners(config: TenantConfig, provider: str) -> dict[str, str]:
    """Account id -> the customer it is billed to (the first customer listing it)."""
    found: dict[str, str] = {}
    for customer in config.customers:
        for account in customer.accounts.get(provider, ()):
            found.setdefault(account, customer.id)
    return found


def credit_charges(session: Session, batch_ids: Sequence[int]) -> list[pc.CreditCharge]:
    """Every Credit charge of the batches, in a stable order."""
    rows = session.execute(
        select(m.Charge.sub_account_id, m.Charge.billed_cost, m.Charge.billing_currency,
               m.Charge.charge_class, m.Charge.service_category, m.Charge.is_marketplace)
        .where(m.Charge.batch_id.in_(list(batch_ids)),
               m.Charge.charge_category == str(ChargeCategory.CREDIT))
        .order_by(m.Charge.id)
    )  # fmt: skip
    return [
        pc.CreditCharge(
            account, cost, currency, charge_class == pc.REFUND_CLASS, category, bool(marketplace)
        )
        for account, cost, currency, charge_class, category, marketplace in rows
    ]


def billable_weights(session: Session, batch_ids: Sequence[int]) -> dict[tuple[str, str], Decimal]:
    """(account, currency) -> the account's billable charges: what pooled credits are
    shared by. Summed in Python: on SQLite money is stored as text, and SQL SUM would
    use floats."""
    weights: dict[tuple[str, str], Decimal] = {}
    rows = session.execute(
        select(m.Charge.sub_account_id, m.Charge.billing_currency, m.Charge.billed_cost).where(
            m.Charge.batch_id.in_(list(batch_ids)),
            m.Charge.charge_category.in_([str(c) for c in BILLABLE_CATEGORIES]),
        )
    )
    for account, currency, cost in rows:
        weights[(account, currency)] = weights.get((account, currency), ZERO) + cost
    return weights


def allocation(
    session: Session,
    config: TenantConfig,
    provider: str,
    batch_ids: Sequence[int],
    weights: dict[tuple[str, str], Decimal] | None = None,
) -> pc.Allocation:
    """Where the period's provider credits go under the tenant's ``provider_credits``
    (``config`` as it prices the period: see :mod:`connector.pipeline.close.period_config`).

    :param weights: the billable charges per (account, currency) when the caller has
        summed them already; read here when the mode needs them.
    """
    mode = config.providers[provider].provider_credits
    credits = credit_charges(session, batch_ids)
    if mode == pc.PROPORTIONAL and weights is None and any(not c.refund for c in credits):
        weights = billable_weights(session, batch_ids)
    return pc.allocate(mode, credits, owners(config, provider), weights or {})
