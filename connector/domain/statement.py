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
class StatementOptions:
    currency: str
    group_by_account: bool = False
    include_marketplace: bool = True
    add_rounding_adjustments: bool = False
    rounding: str = "half_up"
    adjustments: Adjustments = Adjustments()


@dataclass(frozen=True, slots=True)
class BuiltStatement:
    lines: Sequence[StatementLine]
    details: Sequence[DetailRow]
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    cost: Decimal
    credits: Decimal


@dataclass(slots=True)
class _Group:
    description: str
    kind: str
    service_category: str
    account_id: str | None
    price: Decimal = ZERO
    cost: Decimal = ZERO


# The detail order: marketplace last, then by service category, account, service, SKU
# and usage type (DetailRow's fields 5, 1, 0, 2, 3, 4; itemgetter builds the tuple in C).
_DETAIL_ORDER = itemgetter(5, 1, 0, 2, 3, 4)
_UNSEEN = object()


GroupKey = tuple[bool, str, "str | None"]  # marketplace, service category, account


def _priced(
    charges: Iterable[CustomerCharge], pricebook: PricebookVersion | None, options: StatementOptions
) -> tuple[list[DetailRow], dict[GroupKey, list[Decimal]]]:
    """The detail rows in detail order, and Σ price and Σ cost of each line group.

    The hot loop of a large build (one pass per charge): each charge is unpacked once
    instead of read field by field, the rule of each kind of charge is looked up once
    per statement, what round_money looks up on every call is looked up once here
    (with the same quantize and the same type check), detail rows are made as the
    tuples they are, and each charge is added to its group's sums as it is priced
    (exact Decimal sums, so the order they are added in does not change them).
    """
    cents = quantum(options.currency)
    rounding = ROUNDING_MODES[options.rounding]
    include_marketplace = options.include_marketplace
    by_account = options.group_by_account
    pricings = {} if pricebook is None else pricebook.pricings
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
        if marketplace:
            if not include_marketplace:
                continue
            # Marketplace passes through at cost: no markup, no discount.
            price = cost
        elif pricebook is None:
            price = cost
        else:  # pricebook.price, without a call per charge
            kind = (service, category, charge_category, sku)
            pricing = pricings.get(kind, _UNSEEN)
            if pricing is _UNSEEN:
                pricing = pricebook.pricing(*kind)
            if pricing is None:
                price = cost
            else:  # PriceRule.apply
                from_list, percent = pricing
                price = (list_cost if from_list else cost) * percent / HUNDRED
        if type(price) is not decimal and not isinstance(price, decimal):
            raise TypeError(f"money must be Decimal, got {type(price).__name__} {price!r}")
        append(
            make(DetailRow, (account, category, service, sku, item_type, marketplace, quantity,
                             cost, price, price.quantize(cents, rounding)))
        )  # fmt: skip
        key = (marketplace, category, account if by_account else None)
        found = sums.get(key)
        if found is None:
            sums[key] = [price, cost]
        else:
            found[0] += price
            found[1] += cost
    rows.sort(key=_DETAIL_ORDER)
    return rows, sums


def _groups(sums: dict[GroupKey, list[Decimal]]) -> tuple[list[_Group], Decimal, Decimal]:
    """The line groups in line order (marketplace last, then account and category), and
    Σ price and Σ cost of them all."""
    ordered = []
    for key in sorted(sums, key=lambda k: (k[0], k[2] or "", k[1])):
        marketplace, category, account = key
        name = f"AWS Marketplace: {category}" if marketplace else category
        if account is not None:
            name = f"{account} · {name}"
        price, cost = sums[key]
        kind = "marketplace" if marketplace else "service"
        ordered.append(_Group(name, kind, category, account, price, cost))
    return ordered, total(g.price for g in ordered), total(g.cost for g in ordered)


def build_statement(
    charges: Iterable[CustomerCharge], pricebook: PricebookVersion | None, options: StatementOptions
) -> BuiltStatement:
    """Price every charge, group into lines, round each line once, then the totals.

    Lines are service categories (or account × service category when grouping by
    account); marketplace lines follow and stay visible at $0.00. With rounding
    adjustments on, a ``Rounding adjustment`` line makes the lines add up to the
    rounded full-precision total. Discount, support fee, credits and tax follow, in
    the order of :mod:`connector.domain.totals`.
    """
    cur, mode = options.currency, options.rounding
    cents, rounding = quantum(cur), ROUNDING_MODES[mode]
    details, sums = _priced(charges, pricebook, options)
    groups, exact, cost = _groups(sums)
    lines: list[StatementLine] = [
        # round_money(group.price, cur, mode), its lookups done once above
        StatementLine(
            position,
            group.kind,
            group.description,
            group.price.quantize(cents, rounding=rounding),
            group.cost,
            group.service_category,
            group.account_id,
        )
        for position, group in enumerate(groups, start=1)
    ]
    difference = round_money(exact, cur, mode) - total(line.amount for line in lines)
    if options.add_rounding_adjustments and difference:
        lines.append(
            StatementLine(
                position=len(lines) + 1,
                kind="rounding",
                description="Rounding adjustment",
                amount=difference,
            )
        )
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
