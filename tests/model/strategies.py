"""Hypothesis strategies for whole tenants of the reference model.

A drawn tenant has every invoice and generation option at random, one to four
customers (taxed, exempt or untaxed; with or without a discount, a tiered support plan
and credit grants), pricebooks of rules of every specificity on cost or list price,
invoice currencies of 0, 2 and 3 decimals converted from USD or EUR billing, and one to
three periods of one or two providers, so credit balances carry forward across periods
and clouds. Amounts include zero, negatives, sub-cent and huge values, and sometimes
many tiny charges at once: where rounding and credit rules are easiest to get wrong.
"""

from __future__ import annotations

from decimal import Decimal

from hypothesis import strategies as st

from tests.model import reference as ref

PERIODS = ("2026-10", "2026-11", "2026-12")
PROVIDERS = ("aws", "aws2")
# (service name, service category): AWS product codes and names.
SERVICES = (
    ("AmazonEC2", "Amazon Elastic Compute Cloud"),
    ("AmazonS3", "Amazon Simple Storage Service"),
    ("AWSLambda", "AWS Lambda"),
    ("AmazonRDS", "Amazon Relational Database Service"),
)
MARKETPLACE = (("prod-datadog", "Datadog Pro"), ("prod-trial", "Free Trial Tool"))
SKUS = ("USE1-BoxUsage:m5.large", "USE1-Requests-Tier1", "TimedStorage-ByteHrs", "Invocations")
BILLED = ("Usage", "Purchase", "Adjustment")
INVOICE_CURRENCIES = ("USD", "EUR", "JPY", "BHD", "KWD")
BILLING_CURRENCIES = ("USD", "EUR")


def scaled(low: int, high: int, places: st.SearchStrategy[int]) -> st.SearchStrategy[Decimal]:
    """``n`` × 10^-``places`` for ``low <= n <= high``: exact decimals of a chosen size."""
    return st.builds(lambda n, k: Decimal(n).scaleb(-k), st.integers(low, high), places)


# Every strategy is made once, here: hypothesis validates a strategy each time one is
# made, and making them inside the draws below cost more than running an example.

#: Billed costs as CUR files hold them: at most 10 decimal places.
AMOUNTS = st.one_of(
    st.just(Decimal(0)),
    scaled(-999, 999, st.integers(3, 10)),  # sub-cent, either sign
    scaled(-(10**6), 10**7, st.integers(0, 4)),  # everyday amounts
    scaled(-(10**5), 10**9, st.integers(2, 10)),  # cents to thousands, full precision
    scaled(10**17, 10**19, st.just(10)),  # a billion, to ten decimals
)


def percents(high: int) -> st.SearchStrategy[Decimal]:
    """0 to ``high`` percent, at most two decimals."""
    return scaled(0, high * 100, st.just(2)).map(lambda d: d.normalize())


MARKUPS, DISCOUNTS, SUPPORT_PERCENTS, GLOBAL_DISCOUNTS = (
    percents(60), percents(100), percents(20), st.just(Decimal(0)) | percents(50)
)  # fmt: skip
BOOLEANS = st.booleans()
PICK = st.integers(0, 2**16)  # an index into a list drawn earlier, modulo its length
SERVICE_SCOPES = st.none() | st.sampled_from([s for pair in SERVICES for s in pair])
CATEGORY_SCOPES = st.none() | st.sampled_from(BILLED)
SKU_SCOPES = st.none() | st.sampled_from(SKUS)
BASES = st.sampled_from(("cost", "list"))


@st.composite
def _rules(draw: st.DrawFn) -> ref.Rule:
    adjust = draw(st.sampled_from(("markup", "discount")))
    return ref.Rule(
        adjust=adjust,
        percent=draw(MARKUPS if adjust == "markup" else DISCOUNTS),
        basis=draw(BASES),
        service=draw(SERVICE_SCOPES),
        charge_category=draw(CATEGORY_SCOPES),
        sku=draw(SKU_SCOPES),
    )


RULE_LISTS = st.lists(_rules(), max_size=4).map(tuple)
TIER_BOUNDS = st.sets(scaled(1, 10**6, st.integers(0, 2)), max_size=2)
MINIMUM_FEES = st.just(Decimal(0)) | scaled(0, 50000, st.integers(0, 3))


@st.composite
def _support_plans(draw: st.DrawFn) -> ref.SupportPlan:
    uppers = [*sorted(draw(TIER_BOUNDS)), None]
    return ref.SupportPlan(
        tiers=tuple(ref.Tier(up_to, draw(SUPPORT_PERCENTS)) for up_to in uppers),
        minimum_fee=draw(MINIMUM_FEES),
    )


SUPPORT_PLANS = st.none() | _support_plans()
TAX_RATES = st.sampled_from(("0.0825", "0.2", "0.05", "0.175", "0.07375", "0")).map(Decimal)
ANY_TAX_RATES = TAX_RATES | scaled(0, 9999, st.just(4))
CURRENCIES = st.sampled_from(INVOICE_CURRENCIES)
# Grants are in whole minor units of the customer's currency (the ledger refuses finer).
GRANT_UNITS = st.integers(1, 10**7) | st.integers(1, 10**11)
ACCOUNT_COUNTS = st.integers(0, 2)
GRANT_COUNTS = st.integers(0, 3)


@st.composite
def customers(draw: st.DrawFn, index: int, providers: tuple[str, ...], steps: int) -> ref.Customer:
    accounts = {}
    for number, provider in enumerate(providers):
        count = max(draw(ACCOUNT_COUNTS), 1 if number == 0 else 0)
        accounts[provider] = tuple(f"{index}{number}{n}".ljust(12, "7") for n in range(count))
    rate = draw(ANY_TAX_RATES) if draw(BOOLEANS) else None
    currency = draw(CURRENCIES)
    grants = tuple(
        (draw(PICK) % steps, Decimal(draw(GRANT_UNITS)).scaleb(-ref.MINOR_UNITS[currency]))
        for _ in range(draw(GRANT_COUNTS))
    )
    return ref.Customer(
        id=f"c{index}",
        invoice_currency=currency,
        accounts=accounts,
        rules={p: draw(RULE_LISTS) for p in providers},
        tax_name=None if rate is None else f"Tax {rate}",
        tax_rate=rate,
        tax_exempt=draw(BOOLEANS),
        support=draw(SUPPORT_PLANS),
        global_discount=draw(GLOBAL_DISCOUNTS),
        grants=grants,
    )


SERVICE_CHOICES = st.sampled_from(SERVICES)
MARKETPLACE_CHOICES = st.sampled_from(MARKETPLACE)
SKU_CHOICES = st.sampled_from(SKUS)
CHARGE_CATEGORIES = st.sampled_from(
    ("Usage", "Usage", "Usage", "Purchase", "Adjustment", "Tax", "Credit")
)


def charge(draw: st.DrawFn, accounts: list[str], currency: str) -> ref.Charge:
    """One charge of one of ``accounts``, drawn inside another composite."""
    marketplace = draw(BOOLEANS) and draw(BOOLEANS)
    service, category = draw(MARKETPLACE_CHOICES if marketplace else SERVICE_CHOICES)
    cost = draw(AMOUNTS)
    list_cost = cost if draw(BOOLEANS) else draw(AMOUNTS)
    return ref.Charge(
        account=accounts[draw(PICK) % len(accounts)],
        service=service,
        service_category=category,
        sku=draw(SKU_CHOICES),
        charge_category=draw(CHARGE_CATEGORIES),
        marketplace=marketplace,
        cost=cost,
        list_cost=list_cost,
        currency=currency,
    )


TINY_PARTS = st.lists(scaled(1, 999, st.integers(3, 6)), min_size=10, max_size=60)
CHARGE_COUNTS = st.integers(1, 8)
ONE_IN_TEN = st.integers(0, 9)


def tiny_charges(draw: st.DrawFn, accounts: list[str], currency: str) -> list[ref.Charge]:
    """Many sub-cent charges of one kind: each line's sum is far from its rounded parts."""
    one = charge(draw, accounts, currency)
    return [
        ref.Charge(one.account, one.service, one.service_category, one.sku,
                   one.charge_category, one.marketplace, part, part, currency)
        for part in draw(TINY_PARTS)
    ]  # fmt: skip


@st.composite
def options(draw: st.DrawFn) -> ref.Options:
    return ref.Options(
        apply_credits=draw(BOOLEANS),
        include_tax=draw(BOOLEANS),
        include_marketplace_fees=draw(BOOLEANS),
        use_credits_for_marketplace_fees=draw(BOOLEANS),
        include_credits_for_tax=draw(BOOLEANS),
        tax_rounding=draw(st.sampled_from(("statement", "line"))),
        rounding=draw(st.sampled_from(("half_up", "half_even"))),
        add_rounding_adjustments=draw(BOOLEANS),
        group_by_cloud_account=draw(BOOLEANS),
    )


OPTIONS = options()
RATES = scaled(1, 10**7, st.integers(1, 6)).filter(lambda r: r > 0)
BILLING = st.sampled_from(BILLING_CURRENCIES)


@st.composite
def tenants(draw: st.DrawFn, max_customers: int = 4) -> ref.Tenant:
    """A whole tenant; each provider and period has at least one charge to ingest."""
    providers = PROVIDERS[: draw(st.integers(1, 2))]
    periods = PERIODS[: draw(st.integers(1, 3))]
    steps = len(providers) * len(periods)
    count = draw(st.integers(1, max_customers))
    people = tuple(draw(customers(i, providers, steps)) for i in range(1, count + 1))
    billing = {p: draw(BILLING) for p in providers}
    table = {}
    for provider in providers:
        accounts = [a for c in people for a in c.accounts.get(provider, ())]
        if not accounts:
            continue
        for period in periods:
            found = [charge(draw, accounts, billing[provider]) for _ in range(draw(CHARGE_COUNTS))]
            if draw(ONE_IN_TEN) == 0:
                found += tiny_charges(draw, accounts, billing[provider])
            table[(provider, period)] = tuple(found)
    rates = {}
    for customer in people:
        for provider in providers:
            if not customer.accounts.get(provider):
                continue
            source, target = billing[provider], customer.invoice_currency
            for period in periods:
                if source != target and (period, source, target) not in rates:
                    rates[(period, source, target)] = draw(RATES)
    return ref.Tenant(draw(OPTIONS), people, providers, periods, table, rates)
