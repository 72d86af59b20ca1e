"""A plain reference model of the statement rules, written from DESIGN.md and the seeds.

It exists to be compared with the real pipeline (``test_differential``), so it shares
no code with it: nothing from ``connector.domain`` or ``connector.pipeline`` is
imported, only :mod:`decimal` and dataclasses. It is written for reading, not speed:
every rule is one small function named after the DESIGN.md paragraph it follows.

Where DESIGN.md and the seeds are silent, the model follows the engine's documented
choice, and the comment says where that choice is written down.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext

ZERO = Decimal(0)
HUNDRED = Decimal(100)

# ISO 4217 minor units of the currencies the model is exercised with (DESIGN.md,
# "Money": JPY 0, USD 2, BHD 3).
MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0, "BHD": 3, "KWD": 3}
ROUNDING = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}

# Charge categories that reach a customer's statement. DESIGN.md, "Tax": provider tax
# is the reseller's cost and never copied onto statements; "Credits": provider credits
# are passed on only where the tenant says so (the engine never does: see
# BILLABLE_CATEGORIES in connector/domain/statement.py).
BILLED_CATEGORIES = frozenset({"Usage", "Purchase", "Adjustment"})


# --- inputs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A pricebook rule: ``adjust`` (markup | discount) ``percent`` of ``basis`` (cost |
    list) for the charges matching every scope given (None matches all)."""

    adjust: str
    percent: Decimal
    basis: str = "cost"
    service: str | None = None  # the charge's service name or its service category
    charge_category: str | None = None
    sku: str | None = None


@dataclass(frozen=True)
class Tier:
    """``percent`` of the part of the base up to ``up_to`` (None: no upper bound)."""

    up_to: Decimal | None
    percent: Decimal


@dataclass(frozen=True)
class SupportPlan:
    tiers: tuple[Tier, ...]
    minimum_fee: Decimal = ZERO


@dataclass(frozen=True)
class Charge:
    """One charge as the provider billed it, in its billing ``currency``."""

    account: str
    service: str  # service name (AWS product code)
    service_category: str  # what a statement line is named after (AWS product name)
    sku: str
    charge_category: str  # Usage | Purchase | Adjustment | Tax | Credit
    marketplace: bool
    cost: Decimal
    list_cost: Decimal
    currency: str = "USD"


@dataclass(frozen=True)
class Options:
    """The tenant's invoice options and "Generate Invoices" defaults (seed 003)."""

    apply_credits: bool = True
    include_tax: bool = True
    include_marketplace_fees: bool = True
    use_credits_for_marketplace_fees: bool = False
    include_credits_for_tax: bool = False
    tax_rounding: str = "statement"  # statement | line
    rounding: str = "half_up"  # half_up | half_even
    add_rounding_adjustments: bool = False
    group_by_cloud_account: bool = False


@dataclass(frozen=True)
class Customer:
    id: str
    invoice_currency: str
    accounts: dict[str, tuple[str, ...]]  # provider -> cloud accounts
    rules: dict[str, tuple[Rule, ...]]  # provider -> its pricebook's rules
    tax_name: str | None = None
    tax_rate: Decimal | None = None
    tax_exempt: bool = False
    support: SupportPlan | None = None
    global_discount: Decimal = ZERO
    # Credit grants in the invoice currency, as (step, amount): granted before the
    # step-th statement run of the tenant (see Tenant.steps).
    grants: tuple[tuple[int, Decimal], ...] = ()


@dataclass(frozen=True)
class Tenant:
    """A whole tenant: options, customers, and each provider's charges per period."""

    options: Options
    customers: tuple[Customer, ...]
    providers: tuple[str, ...]
    periods: tuple[str, ...]  # YYYY-MM, in order
    charges: dict[tuple[str, str], tuple[Charge, ...]]  # (provider, period) -> charges
    # (period, from, to) -> units of ``to`` for one unit of ``from``
    rates: dict[tuple[str, str, str], Decimal] = field(default_factory=dict)

    def steps(self) -> list[tuple[str, str]]:
        """The statement runs in order: each period, each provider within it."""
        return [(period, provider) for period in self.periods for provider in self.providers]


# --- outputs ------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    kind: str  # service | marketplace | rounding | discount | support | credit | tax
    description: str
    amount: Decimal


@dataclass(frozen=True)
class Statement:
    customer: str
    provider: str
    period: str
    currency: str
    lines: tuple[Line, ...]
    discount: Decimal
    support: Decimal
    credits: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class Outcome:
    statements: tuple[Statement, ...]
    balances: dict[str, Decimal]  # customer -> credit left, in its invoice currency


# --- the rules ----------------------------------------------------------------------


def to_minor_unit(amount: Decimal, currency: str, rounding: str) -> Decimal:
    """DESIGN.md "Rounding": to the currency's minor unit, half-up unless configured."""
    return amount.quantize(Decimal(1).scaleb(-MINOR_UNITS[currency]), ROUNDING[rounding])


def specificity(rule: Rule) -> int:
    """DESIGN.md "Pricebooks": the most specific rule wins. A SKU is narrower than a
    service, which is narrower than a charge category; the spec gives no ranking
    between scopes, so the model uses the one written in PriceRule.specificity
    (connector/domain/pricing.py), and among equals the first rule listed."""
    return (
        (4 if rule.sku is not None else 0)
        + (2 if rule.service is not None else 0)
        + (1 if rule.charge_category is not None else 0)
    )


def matching_rule(rules: Sequence[Rule], charge: Charge) -> Rule | None:
    best = None
    for rule in rules:
        if rule.service is not None and rule.service not in (
            charge.service,
            charge.service_category,
        ):
            continue
        if rule.charge_category is not None and rule.charge_category != charge.charge_category:
            continue
        if rule.sku is not None and rule.sku != charge.sku:
            continue
        if best is None or specificity(rule) > specificity(best):
            best = rule
    return best


def price(rules: Sequence[Rule], charge: Charge) -> Decimal:
    """Full-precision price of a non-marketplace charge; at cost when no rule applies."""
    rule = matching_rule(rules, charge)
    if rule is None:
        return charge.cost
    basis = charge.list_cost if rule.basis == "list" else charge.cost
    if rule.adjust == "markup":
        return basis + basis * rule.percent / HUNDRED
    return basis - basis * rule.percent / HUNDRED


def support_fee(base: Decimal, plan: SupportPlan) -> Decimal:
    """Progressive tiers on ``base`` (each tier's percent of the part inside it), then
    at least the minimum fee (DESIGN.md "Support plans")."""
    fee, lower = ZERO, ZERO
    for tier in plan.tiers:
        upper = base if tier.up_to is None else min(base, tier.up_to)
        if upper > lower:
            fee += (upper - lower) * tier.percent / HUNDRED
        if tier.up_to is not None:
            lower = tier.up_to
    return max(fee, plan.minimum_fee)


def line_tax(
    taxed: Sequence[Decimal],
    before_tax_credit: Decimal,
    rate: Decimal,
    round_: Callable[[Decimal], Decimal],
) -> Decimal:
    """Tax rounded per taxed line, credits before tax taken out of the lines first.

    Credits first cancel the negative lines' worth, then the positive lines in
    statement order, each at most its own amount; each line's tax is on what credits
    left of it. A base fully cancelled by credits so carries a tax of exactly 0
    (DESIGN.md "Domain rules": "tax is never charged on a base that credits
    cancelled", whatever the tax rounding mode).
    """
    if before_tax_credit == 0:
        return sum((round_(amount * rate) for amount in taxed), ZERO)
    pool = before_tax_credit + sum((-a for a in taxed if a < 0), ZERO)
    tax = ZERO
    for amount in taxed:
        if amount <= 0:
            continue
        take = min(pool, amount)
        pool -= take
        tax += round_((amount - take) * rate)
    return tax


def service_lines(
    charges: Sequence[Charge], customer: Customer, provider: str, options: Options, rate: Decimal
) -> tuple[list[Line], Decimal, Decimal]:
    """The priced lines (DESIGN.md "Rounding"), the full-precision sum of them all, and
    that of the marketplace lines.

    One line per service category, or per cloud account × service category with
    "group lines by cloud account"; marketplace lines follow. The order within each is
    the engine's (connector/domain/statement.py ``_line_order``: account, then service
    category); it matters to per-line tax with credits.
    """
    rules = customer.rules.get(provider, ())
    sums: dict[tuple[bool, str, str], Decimal] = {}
    for charge in charges:
        if charge.charge_category not in BILLED_CATEGORIES:
            continue
        if charge.marketplace and not options.include_marketplace_fees:
            continue
        # DESIGN.md "Currency": converted with the period's rate; the engine converts
        # each charge's cost and list cost before pricing, at full precision
        # (connector/domain/currency.py ``convert``), so markups apply to the
        # converted cost and each line is rounded once, in the statement currency.
        converted = Charge(
            charge.account, charge.service, charge.service_category, charge.sku,
            charge.charge_category, charge.marketplace, charge.cost * rate,
            charge.list_cost * rate, customer.invoice_currency,
        )  # fmt: skip
        # DESIGN.md "Marketplace fees": passed through at cost, no markup or discount.
        amount = converted.cost if charge.marketplace else price(rules, converted)
        account = charge.account if options.group_by_cloud_account else ""
        key = (charge.marketplace, account, charge.service_category)
        sums[key] = sums.get(key, ZERO) + amount
    lines = []
    for marketplace, account, category in sorted(sums):
        name = f"AWS Marketplace: {category}" if marketplace else category
        if account:
            name = f"{account} · {name}"
        amount = to_minor_unit(sums[marketplace, account, category], customer.invoice_currency,
                               options.rounding)  # fmt: skip
        lines.append(Line("marketplace" if marketplace else "service", name, amount))
    fees = sum((amount for key, amount in sums.items() if key[0]), ZERO)
    return lines, sum(sums.values(), ZERO), fees


def statement(
    charges: Sequence[Charge],
    customer: Customer,
    provider: str,
    period: str,
    options: Options,
    rate: Decimal,
    balance: Decimal,
) -> Statement | None:
    """One customer's statement for one provider and period (DESIGN.md "Order of
    calculation"), or None when the run leaves nothing on it."""
    currency = customer.invoice_currency

    def round_(amount: Decimal) -> Decimal:
        return to_minor_unit(amount, currency, options.rounding)

    lines, exact, exact_fees = service_lines(charges, customer, provider, options, rate)
    if options.add_rounding_adjustments:
        # DESIGN.md "Rounding": the lines add up to round(exact). Marketplace fees are
        # never in S, discounted or taxed, so what their own lines round off is a
        # marketplace line; the rest is a "Rounding adjustment" in S.
        fees = sum((ln.amount for ln in lines if ln.kind == "marketplace"), ZERO)
        fees_adjustment = round_(exact_fees) - fees
        adjustment = round_(exact) - sum((ln.amount for ln in lines), ZERO) - fees_adjustment
        if adjustment:
            lines.append(Line("rounding", "Rounding adjustment", adjustment))
        if fees_adjustment:
            lines.append(Line("marketplace", "AWS Marketplace: Rounding adjustment",
                              fees_adjustment))  # fmt: skip

    # S: the non-marketplace lines, with their own rounding adjustment.
    subtotal = sum((ln.amount for ln in lines if ln.kind in ("service", "rounding")), ZERO)
    marketplace = sum((ln.amount for ln in lines if ln.kind == "marketplace"), ZERO)
    discount = ZERO
    if customer.global_discount:
        discount = round_(subtotal * customer.global_discount / HUNDRED)
        # The engine shows the line whenever the customer has a discount, even 0.00.
        percent = f"{customer.global_discount.normalize():f}"
        lines.append(Line("discount", f"Discount ({percent}%)", -discount))
    support = ZERO
    if customer.support is not None:
        support = round_(support_fee(subtotal - discount, customer.support))
        lines.append(Line("support", "Support plan", support))
    base = subtotal - discount + support
    taxed = [ln.amount for ln in lines if ln.kind not in ("marketplace",)]

    taxing = options.include_tax and customer.tax_rate is not None and not customer.tax_exempt
    rate_ = customer.tax_rate if taxing else None
    # DESIGN.md "Credits": a credit line is in whole minor units, so only whole minor
    # units of the balance are applied, rounded down (never more than the balance).
    available = ZERO
    if options.apply_credits:
        available = max(balance, ZERO).quantize(
            Decimal(1).scaleb(-MINOR_UNITS[currency]), ROUND_DOWN
        )
    tax = ZERO
    if options.include_credits_for_tax:
        before = min(available, max(base, ZERO))
        if rate_ is not None:
            if options.tax_rounding == "line":
                tax = line_tax(taxed, before, rate_, round_)
            else:
                tax = round_((base - before) * rate_)
        credits = before
        if options.use_credits_for_marketplace_fees:
            # DESIGN.md: C2 = min(K - C1, M). A marketplace refund (M < 0) so takes back
            # part of C1, as the credits-after-tax formula nets it in B + tax + M; but
            # an application is never negative ("consumes up to its eligible amount").
            credits = max(before + min(available - before, marketplace), ZERO)
    else:
        if rate_ is not None:
            if options.tax_rounding == "line":
                tax = line_tax(taxed, ZERO, rate_, round_)
            else:
                tax = round_(base * rate_)
        payable = base + tax
        if options.use_credits_for_marketplace_fees:
            payable += marketplace
        credits = min(available, max(payable, ZERO))
    if credits:
        lines.append(Line("credit", "Credits applied", -credits))
    if rate_ is not None:
        lines.append(Line("tax", f"{customer.tax_name} ({(rate_ * HUNDRED).normalize():f}%)", tax))
    if not lines:
        return None
    total = base + marketplace - credits + tax
    return Statement(
        customer.id, provider, period, currency, tuple(lines), discount, support, credits,
        tax, total,
    )  # fmt: skip


def exchange_rate(tenant: Tenant, period: str, source: str, target: str) -> Decimal:
    return Decimal(1) if source == target else tenant.rates[(period, source, target)]


def run(tenant: Tenant) -> Outcome:
    """Every statement of the tenant, run after run, carrying each customer's credit
    balance forward across periods and providers (seed 004: "the platform will hold the
    remainder of the credit"; seed 003: a credit earned on one cloud may pay another's).
    """
    balances = {customer.id: ZERO for customer in tenant.customers}
    statements = []
    # Amounts of 10 decimals times rates and percentages stay exact in 60 digits: the
    # model never rounds except where a rule says so.
    with localcontext() as context:
        context.prec = 60
        for step, (period, provider) in enumerate(tenant.steps()):
            for customer in tenant.customers:
                for when, amount in customer.grants:
                    if when == step:
                        balances[customer.id] += amount
            charges = tenant.charges.get((provider, period), ())
            for customer in tenant.customers:
                accounts = set(customer.accounts.get(provider, ()))
                mine = [c for c in charges if c.account in accounts]
                if not mine:  # the engine skips a customer without charges
                    continue
                rate = exchange_rate(tenant, period, mine[0].currency, customer.invoice_currency)
                made = statement(
                    mine, customer, provider, period, tenant.options, rate, balances[customer.id]
                )
                if made is None:
                    continue
                balances[customer.id] -= made.credits
                statements.append(made)
    return Outcome(tuple(statements), balances)
