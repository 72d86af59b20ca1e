"""Reconcile: what the provider billed the reseller against what statements charge.

Read-only. Splits the provider's bill by charge category, attributes billable charges
to customers or unassigned accounts, compares each customer's cost with the price on
their statement (margin, rounding) and shows drift since generation. It ties out when
the provider total equals customers' plus unassigned billable cost, plus the provider
credits passed to customers, plus Tax and the Credit the reseller keeps.

Provider credits are the reseller's unless the tenant passes them on
(``providers.<key>.provider_credits``, :mod:`connector.domain.provider_credits`): each
customer's share is shown with the customer and checked against the credit lines on its
statement; what is not passed stays under ``non_billable`` as the reseller's. The
allocation is worked out here as the build works it out, from the period's recorded
configuration, and its parts must add up to the provider's Credit exactly.

Costs are in the provider's billing currency, prices in each statement's currency.
Amounts in different currencies are never added together: a margin is computed only
when the statement records the exchange rate from the billing currency, and the
report's totals are per currency.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload, undefer

from connector.contracts import BillingPeriod, ChargeCategory
from connector.domain import provider_credits as pc
from connector.domain.money import ZERO, money_text, total
from connector.domain.statement import BILLABLE_CATEGORIES
from connector.pipeline.build import provider_terms
from connector.pipeline.build.build import current_batch_ids
from connector.pipeline.close import period_config
from connector.pipeline.reconcile.reconciliation import (
    CustomerReconciliation,
    Reconciliation,
    StatementSummary,
    UnassignedAccount,
)
from connector.runtime.runtime import Runtime
from connector.storage import models as m

__all__ = [  # the values are reconciliation's; named here too, where callers look for them
    "CustomerReconciliation",
    "ReconcileError",
    "Reconciliation",
    "StatementSummary",
    "UnassignedAccount",
    "reconcile",
]

# Lines that are the price of what was consumed, before tax, credits, discounts, support
# (provider credits passed on are service or marketplace lines: in the price, told apart
# by their detail rows).
PRICE_KINDS = ("service", "marketplace", "rounding")
# Full precision of stored money (PostgreSQL NUMERIC(38, 12)): a converted provider
# credit is compared with what its statement stored at this precision.
STORED = Decimal("1E-10")


class ReconcileError(LookupError):
    """Nothing to reconcile; the message says which command produces the data."""


@dataclass(slots=True)
class _Cost:
    cost: Decimal = ZERO
    marketplace: Decimal = ZERO

    @property
    def billable(self) -> Decimal:
        return self.cost + self.marketplace


@dataclass(slots=True)
class _Bill:
    by_category: dict[str, Decimal] = field(
        default_factory=lambda: {str(c): ZERO for c in ChargeCategory}
    )
    billed: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    costs: dict[str, _Cost] = field(default_factory=lambda: defaultdict(_Cost))
    currencies: set[str] = field(default_factory=set)
    # (account, currency) -> billable cost: what pooled provider credits are shared by.
    weights: dict[tuple[str, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))


def _read_bill(
    session: Session, batch_ids: Iterable[int], accounts: Iterable[str] | None = None
) -> _Bill:
    query = select(
        m.Charge.sub_account_id,
        m.Charge.charge_category,
        m.Charge.is_marketplace,
        m.Charge.billed_cost,
        m.Charge.billing_currency,
    ).where(m.Charge.batch_id.in_(list(batch_ids)))
    if accounts is not None:
        query = query.where(m.Charge.sub_account_id.in_(list(accounts)))
    bill = _Bill()
    # Summed in Python: on SQLite money is stored as text, and SQL SUM would use floats.
    for account, category, marketplace, cost, currency in session.execute(query):
        bill.by_category[category] = bill.by_category.get(category, ZERO) + cost
        bill.billed[account] += cost
        bill.currencies.add(currency)
        if category in BILLABLE_CATEGORIES:
            bill.weights[(account, currency)] += cost
            if marketplace:
                bill.costs[account].marketplace += cost
            else:
                bill.costs[account].cost += cost
    return bill


def _summary(statement: m.Statement) -> StatementSummary:
    stored = ("id", "number", "status", "revision", "currency", "subtotal", "tax", "total")
    return StatementSummary(
        **{name: getattr(statement, name) for name in stored},
        batch_ids=tuple(sorted(statement.batch_ids or ())),
    )


def _customer(
    session: Session,
    customer_id: str,
    name: str,
    accounts: Sequence[str],
    costs: Mapping[str, _Cost],
    billed: Sequence[m.Statement],
    current: tuple[int, ...],
    currency: str,
    passed: Decimal = ZERO,
    at_cost: bool = True,
) -> CustomerReconciliation:
    """One customer's cost against what its statements charge: the usage statement
    (``billed[0]`` when there is one) and any upfront-purchase statements, together.

    ``passed``: the provider credits the tenant passes to the customer (billing
    currency); ``at_cost``: whether the provider's third-party products pass through at
    cost (the statement's record of it wins)."""
    cost = total(costs[a].cost for a in accounts if a in costs)
    marketplace_cost = total(costs[a].marketplace for a in accounts if a in costs)
    statement = billed[0] if billed else None
    if statement is not None:
        at_cost = (statement.options or {}).get("marketplace_pricing", "at_cost") == "at_cost"
    if not at_cost:  # priced by the pricebook like any product: margin, not pass-through
        cost, marketplace_cost = cost + marketplace_cost, ZERO
    if statement is None:
        problems = ("not generated",) if cost or marketplace_cost or passed else ()
        return CustomerReconciliation(
            customer_id, name, cost, marketplace_cost, currency, problems=problems,
            provider_credit=passed,
        )  # fmt: skip
    label = statement.number or f"draft {statement.id}"
    problems = []
    by_kind: dict[str, Decimal] = defaultdict(Decimal)
    details = [d for each in billed for d in each.details]
    for line in (line for each in billed for line in each.lines):
        by_kind[line.kind] += line.amount
    price = total(by_kind.get(kind, ZERO) for kind in PRICE_KINDS)
    credit_exact = total(d.price for d in details if d.line_item_type in pc.PASSED_DETAILS)
    marketplace_exact = ZERO
    if at_cost:
        marketplace_exact = total(
            d.price
            for d in details
            if d.is_marketplace and d.line_item_type not in pc.PASSED_DETAILS
        )
    rate = _recorded_rate(statement, currency)
    margin = marketplace_margin = None
    if rate is not None:
        # In the statement's currency, the cost converted as the build converted it.
        marketplace_margin = marketplace_exact - marketplace_cost * rate
        # Judged at full precision, so a marketplace line's rounding is not mistaken for
        # a markup; that rounding counts as margin, like the rounding of every other line.
        # Provider credits pass at cost: they are no margin either.
        margin = price - cost * rate - marketplace_exact - credit_exact
        expected = (passed * rate).quantize(STORED)
        if credit_exact.quantize(STORED) != expected:
            problems.append(
                f"{label} carries {money_text(credit_exact, statement.currency)} "
                f"{statement.currency} of provider credits; provider_credits passes "
                f"{money_text(expected, statement.currency)} {statement.currency} to this customer "
                "(regenerate the draft, or correct an approved statement with a credit note)"
            )
    summary = _summary(statement)
    stale = summary.batch_ids != current
    then = _read_bill(session, summary.batch_ids, accounts) if stale else None
    # Pass-through is judged against the data the statement was built from: a re-pull
    # that changed a marketplace charge is drift (below), not a markup on the statement.
    built_from = marketplace_cost
    if then is not None and at_cost:
        built_from = total(then.costs[a].marketplace for a in accounts if a in then.costs)
    passed_through = None if rate is None else marketplace_exact - built_from * rate
    if passed_through and not marketplace_exact:
        problems.append(f"marketplace cost {built_from:f} {currency} is not billed on {label}")
    elif passed_through:
        problems.append(
            f"marketplace margin {passed_through:f} {statement.currency} on {label} (must be "
            "0: marketplace fees pass through at cost)"
        )
    if rate is None:
        problems.append(
            f"{label} is in {statement.currency} but the provider bills in {currency} and "
            f"no {currency}->{statement.currency} exchange rate is recorded on it: no "
            "margin; price and cost are shown apart, each in its own currency"
        )
    drift = ZERO
    if then is not None:
        drift = cost + marketplace_cost - total(c.billable for c in then.costs.values())
        if drift:
            head = f"statement {label} locked"
            if statement.status == "Draft":
                head = f"{label} was built from older data (regenerate it)"
            problems.append(f"{head}; provider data changed by {drift:f} since generation")
    return CustomerReconciliation(
        customer_id=customer_id,
        name=name,
        cost=cost,
        marketplace_cost=marketplace_cost,
        cost_currency=currency,
        exchange_rate=rate,
        statement=summary,
        price_by_kind=dict(sorted(by_kind.items())),
        price=price,
        margin=margin,
        marketplace_margin=marketplace_margin,
        rounding=by_kind.get("rounding", ZERO),
        rounding_difference=price - total(d.price for d in details),
        stale=stale,
        drift=drift,
        problems=tuple(problems),
        provider_credit=passed,
    )


def _recorded_rate(statement: m.Statement, currency: str) -> Decimal | None:
    """The rate from the billing ``currency`` into the statement's, as recorded on it
    (1 for the same currency); None when nothing recorded relates the two."""
    if statement.currency == currency:
        return Decimal(1)
    if statement.billing_currency == currency and statement.exchange_rate is not None:
        return statement.exchange_rate
    return None


def reconcile(
    runtime: Runtime, tenant: str, provider: str, period: BillingPeriod
) -> Reconciliation:
    """Reconcile ``provider``'s bill for ``period`` with the tenant's statements.

    Reads the database only: the period's current charge batches, the stored account
    mappings and the period's statements. Raises :class:`ReconcileError` when no data
    of the period is stored.
    """
    config = runtime.tenant(tenant)
    if provider not in config.providers:
        raise ReconcileError(f"tenant {tenant!r} has no provider {provider!r} in its tenant file")
    with runtime.db.transaction() as session:
        current = tuple(sorted(current_batch_ids(session, tenant, provider, period)))
        if not current:
            raise ReconcileError(
                f"no {provider} data is stored for {period.key}: run "
                f"`connector ingest --tenant {tenant} --provider {provider}` first"
            )
        ingested = total(
            session.scalars(select(m.ChargeBatch.billed_total).where(m.ChargeBatch.id.in_(current)))
        )
        bill = _read_bill(session, current)
        # Provider credits and marketplace pricing as the period's build sees them.
        priced = period_config.recorded_config(session, config, provider, period)
        terms = provider_terms.marketplace_terms(runtime.plugins, priced, provider)
        allocation = provider_terms.allocation(
            session, priced, provider, current, weights=bill.weights
        )
        owners = dict(
            session.execute(
                select(m.ProviderAccount.account_id, m.ProviderAccount.customer_id).where(
                    m.ProviderAccount.tenant_id == tenant, m.ProviderAccount.provider == provider
                )
            ).all()
        )
        accounts: dict[str, list[str]] = defaultdict(list)
        for account, customer_id in sorted(owners.items()):
            accounts[customer_id].append(account)
        names = dict(
            session.execute(
                select(m.Customer.id, m.Customer.name).where(m.Customer.tenant_id == tenant)
            ).all()
        )
        # Each customer's live statements of the period: the usage statement first (a
        # voided one is replaced by its successor, a higher part, and nets out with its
        # credit note, both left out here), then any upfront-purchase statements.
        statements: dict[str, list[m.Statement]] = defaultdict(list)
        for s in session.scalars(
            select(m.Statement)
            .where(
                m.Statement.tenant_id == tenant,
                m.Statement.provider == provider,
                m.Statement.period_start == period.start,
                m.Statement.kind.in_(("usage", "purchase")),
                m.Statement.status != "Void",
            )
            .order_by(m.Statement.kind.desc(), m.Statement.part)
            .options(selectinload(m.Statement.lines), undefer(m.Statement.detail_rows))
        ):
            statements[s.customer_id].append(s)
        currency = min(bill.currencies) if bill.currencies else ""
        billed_customers = {owners[a] for a in bill.billed if a in owners}
        customers = tuple(
            _customer(
                session,
                customer_id,
                names.get(customer_id, customer_id),
                accounts.get(customer_id, []),
                bill.costs,
                statements.get(customer_id, []),
                current,
                currency,
                allocation.passed_to(customer_id),
                terms.at_cost,
            )
            for customer_id in sorted(billed_customers | set(statements) | set(allocation.passed))
        )
    unassigned = tuple(
        UnassignedAccount(account, bill.costs[account].billable, cost)
        for account, cost in sorted(bill.billed.items())
        if account not in owners
    )
    problems = [f"customer {c.customer_id}: {p}" for c in customers for p in c.problems]
    problems += [
        f"account {a.account_id} has no customer: billed {a.billed_cost:f}" for a in unassigned
    ]
    if len(bill.currencies) > 1:
        problems.append(f"charges are in several currencies: {', '.join(sorted(bill.currencies))}")
    result = Reconciliation(
        tenant=tenant,
        provider=provider,
        period=period.key,
        currency=currency,
        batch_ids=current,
        by_category=bill.by_category,
        provider_total=total(bill.by_category.values()),
        ingested_total=ingested,
        customers=customers,
        unassigned=unassigned,
        problems=tuple(problems),
        provider_credits=allocation.mode,
        credits_kept=allocation.kept_total(),
    )
    if not result.ties_out:
        problem = (
            f"does not tie out: provider total {result.provider_total:f}, attributed "
            f"{result.provider_total - result.difference:f} (difference {result.difference:f}), "
            f"ingested {result.ingested_total:f}"
        )
        result = replace(result, problems=(*result.problems, problem))
    return result
