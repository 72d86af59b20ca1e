"""Building one statement from a customer's charges: price, group, round, then totals.

Pure: takes values, returns values. Amounts are summed at full precision and each
line is rounded once, to the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from operator import itemgetter
from typing import NamedTuple

from connector.contracts import ChargeCategory, DetailRow, StatementLine
from connector.domain.money import ROUNDING_MODES, ZERO, quantum, round_money, total
from connector.domain.pricing import HUNDRED, PricebookVersion
from connector.domain.totals import Adjustments, apply_adjustments
from connector.frozen import unfrozen_twin

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
        if marketplace:
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
        key = (marketplace, category, account if by_account else None)
        found = sums.get(key)
        if found is None:
            sums[key] = [price, cost]
        else:
            found[0] += price
            found[1] += cost
    rows.sort(key=_DETAIL_ORDER)
    return rows, sums


def _line_order(key: GroupKey) -> tuple[bool, str, str]:
    marketplace, category, account = key
    return marketplace, account or "", category


# StatementLine's plain twin: a large build makes hundreds of thousands of lines.
_LINE_TWIN = unfrozen_twin(StatementLine)
_LINE_QUANTITY = next(f.default for f in fields(StatementLine) if f.name == "quantity")


def _group_lines(
    sums: dict[GroupKey, list[Decimal]], cents: Decimal, rounding: str
) -> tuple[list[StatementLine], Decimal, Decimal, Decimal]:
    """One rounded line per group in line order (marketplace last, then account and
    category), with Σ exact price, Σ cost and Σ rounded amount of them all."""
    lines: list[StatementLine] = []
    exact = cost = rounded = ZERO
    twin, new = _LINE_TWIN, object.__new__
    for position, key in enumerate(sorted(sums, key=_line_order), start=1):
        marketplace, category, account = key
        name = f"AWS Marketplace: {category}" if marketplace else category
        if account is not None:
            name = f"{account} · {name}"
        price, group_cost = sums[key]
        amount = price.quantize(cents, rounding)  # round_money, its lookups done once
        kind = "marketplace" if marketplace else "service"
        exact += price
        cost += group_cost
        rounded += amount
        if twin is None:
            line = StatementLine(position, kind, name, amount, group_cost, category, account)
        else:  # the same StatementLine, made through its twin (connector.frozen)
            line = new(twin)
            line.position, line.kind, line.description, line.amount = position, kind, name, amount
            line.cost, line.service_category, line.account_id = group_cost, category, account
            line.quantity = _LINE_QUANTITY
            line.__class__ = StatementLine
        lines.append(line)
    return lines, exact, cost, rounded


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
    details, sums = _priced(charges, pricebook, options)
    lines, exact, cost, rounded = _group_lines(sums, quantum(cur), ROUNDING_MODES[mode])
    difference = round_money(exact, cur, mode) - rounded
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
