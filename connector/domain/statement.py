"""Building one statement from a customer's charges: price, group, round, then totals.

Pure: takes values, returns values. Amounts are summed at full precision and each
line is rounded once, to the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import NamedTuple

from connector.contracts import ChargeCategory, DetailRow, StatementLine
from connector.domain.money import ROUNDING_MODES, ZERO, quantum, round_money, total
from connector.domain.pricing import HUNDRED, PricebookVersion
from connector.domain.provider_credits import REFUND_DETAIL, SHARE_DETAIL, PassedCredit
from connector.domain.totals import Adjustments, apply_adjustments

# Provider tax is the reseller's cost and provider credits are the reseller's to pass
# on or not: neither is copied onto a customer's statement.
BILLABLE_CATEGORIES = frozenset(
    {ChargeCategory.USAGE, ChargeCategory.PURCHASE, ChargeCategory.ADJUSTMENT}
)


class CustomerCharge(NamedTuple):
    """One stored canonical charge of the customer's accounts, in the statement currency.

    A named tuple rather than a dataclass: a large build makes millions of them, and a
    tuple is made in a third of the time.
    """

    account_id: str
    service_name: str
    service_category: str
    sku: str
    line_item_type: str
    charge_category: str
    is_marketplace: bool
    cost: Decimal
    list_cost: Decimal
    quantity: Decimal
    charge_frequency: str | None = None


@dataclass(frozen=True, slots=True)
class MarketplaceTerms:
    """How a provider's third-party (marketplace) products reach a statement.

    ``name`` is the provider's marketplace, as its plugin names it ("AWS Marketplace",
    "Azure Marketplace"): it heads each line of a third-party product. ``at_cost``: they
    pass through as marketplace fees (no markup, no discount, support fee or tax; left
    off without "include marketplace fees"); otherwise the pricebook prices them like
    any product.
    """

    name: str = "Marketplace"
    at_cost: bool = True


@dataclass(frozen=True, slots=True)
class StatementOptions:
    currency: str
    group_by_account: bool = False
    include_marketplace: bool = True
    add_rounding_adjustments: bool = False
    rounding: str = "half_up"
    adjustments: Adjustments = Adjustments()
    marketplace: MarketplaceTerms = MarketplaceTerms()
    #: Provider credits the tenant passes to this customer, in the statement currency
    #: (:mod:`connector.domain.provider_credits`).
    provider_credits: tuple[PassedCredit, ...] = ()


@dataclass(frozen=True, slots=True)
class BuiltStatement:
    lines: Sequence[StatementLine]
    details: Sequence[DetailRow]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    cost: Decimal
    credits: Decimal


# The detail order: marketplace last, then by service category, account, service, SKU
# and usage type (DetailRow's fields 5, 1, 0, 2, 3, 4; itemgetter builds the tuple in C).
_DETAIL_ORDER = itemgetter(5, 1, 0, 2, 3, 4)
_UNSEEN = object()


# Line groups, in this order: first-party products, third-party products the pricebook
# prices, marketplace fees passed through at cost.
FIRST_PARTY, THIRD_PARTY, PASS_THROUGH = 0, 1, 2
GroupKey = tuple[int, str, "str | None"]  # group, service category, account


def _priced(
    charges: Iterable[CustomerCharge], pricebook: PricebookVersion | None, options: StatementOptions
) -> tuple[list[DetailRow], dict[GroupKey, list[Decimal]]]:
    """The detail rows in detail order, and Σ price and Σ cost of each line group.

    The hot loop of a large build (one pass per charge): each charge is unpacked once
    instead of read field by field, each kind of charge's markup is read from the
    pricebook's table (found once per pricebook version, see PricebookVersion.by_kind),
    what round_money looks up on every call is looked up once here
    (with the same quantize and the same type check), detail rows are made as the
    tuples they are, and each charge is added to its group's sums as it is priced
    (exact Decimal sums, so the order they are added in does not change them).
    """
    cents = quantum(options.currency)
    rounding = ROUNDING_MODES[options.rounding]
    include_marketplace = options.include_marketplace
    at_cost = options.marketplace.at_cost
    by_account = options.group_by_account
    rules = {} if pricebook is None else pricebook.by_kind
    billable = BILLABLE_CATEGORIES
    make = tuple.__new__
    decimal = Decimal
    rows = []
    append = rows.append
    sums: dict[GroupKey, list[Decimal]] = {}
    for charge in charges:
        (account, service, category, sku, item_type, charge_category, marketplace, cost,
         list_cost, quantity, _frequency) = charge  # fmt: skip
        if charge_category not in billable:
            continue
        group = FIRST_PARTY
        if marketplace:
            group = PASS_THROUGH if at_cost else THIRD_PARTY
        if group == PASS_THROUGH:
            if not include_marketplace:
                continue
            # Marketplace passes through at cost: no markup, no discount.
            price = cost
        elif pricebook is None:
            price = cost
        else:  # pricebook.price, without a call per charge
            kind = (service, category, charge_category, sku)
            rule = rules.get(kind, _UNSEEN)
            if rule is _UNSEEN:
                rule = pricebook.rule_for(*kind)
            if rule is None:
                price = cost
            else:  # PriceRule.apply, without the call
                price = (list_cost if rule.basis == "list" else cost) * rule.factor / HUNDRED
        if type(price) is not decimal and not isinstance(price, decimal):
            raise TypeError(f"money must be Decimal, got {type(price).__name__} {price!r}")
        append(
            make(DetailRow, (account, category, service, sku, item_type, marketplace, quantity,
                             cost, price, price.quantize(cents, rounding)))
        )  # fmt: skip
        key = (group, category, account if by_account else None)
        found = sums.get(key)
        if found is None:
            sums[key] = [price, cost]
        else:
            found[0] += price
            found[1] += cost
    rows.sort(key=_DETAIL_ORDER)
    return rows, sums


def _line_order(key: GroupKey) -> tuple[int, str, str]:
    group, category, account = key
    return group, account or "", category


def _group_lines(
    sums: dict[GroupKey, list[Decimal]], cents: Decimal, rounding: str, marketplace: str
) -> tuple[list[StatementLine], Decimal, Decimal]:
    """One rounded line per group in line order (first-party products, then third-party
    ones, marketplace fees last; then account and category), with Σ exact price and
    Σ cost of them all. A third-party product's line is headed by the
    ``marketplace`` it was bought on."""
    lines: list[StatementLine] = []
    exact = cost = ZERO
    for position, key in enumerate(sorted(sums, key=_line_order), start=1):
        group, category, account = key
        name = f"{marketplace}: {category}" if group != FIRST_PARTY else category
        if account is not None:
            name = f"{account} · {name}"
        price, group_cost = sums[key]
        amount = price.quantize(cents, rounding)  # round_money, its lookups done once
        kind = "marketplace" if group == PASS_THROUGH else "service"
        exact += price
        cost += group_cost
        lines.append(StatementLine(position, kind, name, amount, group_cost, category, account))
    return lines, exact, cost


def _passed_lines(
    options: StatementOptions, before: int
) -> tuple[list[StatementLine], list[DetailRow]]:
    """The lines and detail rows of the provider credits passed to the customer.

    A refund is a negative line of the service category it refunds ("Amazon Elastic
    Compute Cloud (refund)"; a marketplace fee's refund is a marketplace line when fees
    pass through at cost, so it is left off and untaxed with them); a share of pooled
    credits is one "Provider credits" line. Both at cost: the reseller passes on what
    the provider gave back. Each line is rounded once, like every line.
    """
    cur, mode = options.currency, options.rounding
    terms = options.marketplace
    sums: dict[tuple[int, str, str | None], Decimal] = {}
    details = []
    for credit in options.provider_credits:
        group = FIRST_PARTY
        if credit.is_marketplace:
            group = PASS_THROUGH if terms.at_cost else THIRD_PARTY
        if group == PASS_THROUGH and not options.include_marketplace:
            continue
        name = credit.service_category
        if credit.refund:
            name = f"{terms.name}: {name} (refund)" if group else f"{name} (refund)"
        account = credit.account_id if options.group_by_account else None
        key = (group, name, account)
        sums[key] = sums.get(key, ZERO) + credit.amount
        details.append(
            DetailRow(credit.account_id or "", name, credit.service_category, "",
                      REFUND_DETAIL if credit.refund else SHARE_DETAIL, credit.is_marketplace,
                      ZERO, credit.amount, credit.amount, round_money(credit.amount, cur, mode))
        )  # fmt: skip
    lines = []
    for position, key in enumerate(sorted(sums, key=_line_order), start=before + 1):
        group, name, account = key
        amount = round_money(sums[key], cur, mode)
        lines.append(
            StatementLine(
                position,
                "marketplace" if group == PASS_THROUGH else "service",
                f"{account} · {name}" if account is not None else name,
                amount,
                sums[key],
                name,
                account,
            )
        )
    return lines, details


def _rounding_lines(
    lines: Sequence[StatementLine], exact: Decimal, exact_fees: Decimal, options: StatementOptions
) -> list[StatementLine]:
    """The lines that make ``lines`` add up to the rounded full-precision total ``exact``.

    What the marketplace fees passed through at cost round off on their own lines
    (``exact_fees`` is their exact sum) is a marketplace line: like the fees, it is
    never discounted, in the support base or taxed. Two fees of 0.005 shown as 0.01
    each would otherwise take a cent off the taxed base, and off its tax. The rest
    (the other lines' rounding, and what rounding the total once adds) is the
    ``Rounding adjustment``, in the taxed base as before.
    """
    cur, mode = options.currency, options.rounding
    fees = total(line.amount for line in lines if line.kind == "marketplace")
    fees_difference = round_money(exact_fees, cur, mode) - fees
    rest = round_money(exact, cur, mode) - total(line.amount for line in lines) - fees_difference
    found = []
    if rest:
        found.append(("rounding", "Rounding adjustment", rest))
    if fees_difference:
        name = f"{options.marketplace.name}: Rounding adjustment"
        found.append(("marketplace", name, fees_difference))
    return [
        StatementLine(len(lines) + n, kind, description, amount)
        for n, (kind, description, amount) in enumerate(found, start=1)
    ]


def build_statement(
    charges: Iterable[CustomerCharge], pricebook: PricebookVersion | None, options: StatementOptions
) -> BuiltStatement:
    """Price every charge, group into lines, round each line once, then the totals.

    Lines are service categories (or account × service category when grouping by
    account), third-party products after first-party ones, headed by the provider's
    marketplace; marketplace fees passed through at cost follow and stay visible at
    $0.00; then any provider credits passed to the customer. With rounding
    adjustments on, a ``Rounding adjustment`` line makes the lines add up to the
    rounded full-precision total (the marketplace fees' own rounding is a marketplace
    line, outside the taxed base: see :func:`_rounding_lines`). Discount, support
    fee, credits and tax follow, in the order of :mod:`connector.domain.totals`.
    """
    cur, mode = options.currency, options.rounding
    details, sums = _priced(charges, pricebook, options)
    lines, exact, cost = _group_lines(
        sums, quantum(cur), ROUNDING_MODES[mode], options.marketplace.name
    )
    # Σ exact price of the marketplace fees passed through at cost.
    exact_fees = total(sums[key][0] for key in sums if key[0] == PASS_THROUGH)
    if options.provider_credits:
        passed, passed_details = _passed_lines(options, len(lines))
        lines += passed
        details += passed_details
        exact += total(d.price for d in passed_details)
        cost += total(d.cost for d in passed_details)
        # A passed credit is at cost: its line's cost is its exact amount.
        exact_fees += total(line.cost for line in passed if line.kind == "marketplace")
    if options.add_rounding_adjustments:
        lines += _rounding_lines(lines, exact, exact_fees, options)
    totals = apply_adjustments(lines, options.adjustments, cur, mode)
    lines += totals.lines
    subtotal = total(line.amount for line in lines if line.kind not in ("credit", "tax"))
    return BuiltStatement(
        lines=lines,
        details=details,
        subtotal=subtotal,
        tax=totals.tax,
        total=subtotal - totals.credits + totals.tax,
        cost=cost,
        credits=totals.credits,
    )
