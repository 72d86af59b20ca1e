"""Building one statement from a customer's charges: price, group, round, then totals.

Pure: takes values, returns values. Amounts are summed at full precision and each
line is rounded once, to the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter
from typing import NamedTuple

from connector.contracts import ChargeCategory, DetailRow, StatementLine
from connector.domain.money import ROUNDING_MODES, ZERO, quantum, round_money, total
from connector.domain.pricing import PricebookVersion
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
# and usage type (attrgetter builds the same tuple as a lambda would, in C).
_DETAIL_ORDER = attrgetter(
    "is_marketplace", "service_category", "account_id", "service_name", "sku", "line_item_type"
)


def _detail_rows(
    charges: Iterable[CustomerCharge], pricebook: PricebookVersion | None, options: StatementOptions
) -> list[DetailRow]:
    # The hot loop of a large build (one pass per charge): what round_money looks up on
    # every call is looked up once here, with the same quantize and the same type check.
    cents = quantum(options.currency)
    rounding = ROUNDING_MODES[options.rounding]
    include_marketplace = options.include_marketplace
    price_of = None if pricebook is None else pricebook.price
    billable = BILLABLE_CATEGORIES
    rows = []
    for c in charges:
        if c.charge_category not in billable:
            continue
        if c.is_marketplace:
            if not include_marketplace:
                continue
            # Marketplace passes through at cost: no markup, no discount.
            price = c.cost
        elif price_of is None:
            price = c.cost
        else:
            price = price_of(
                c.service_name, c.service_category, c.charge_category, c.sku, c.cost, c.list_cost
            )
        if not isinstance(price, Decimal):
            raise TypeError(f"money must be Decimal, got {type(price).__name__} {price!r}")
        rows.append(
            DetailRow(
                c.account_id,
                c.service_category,
                c.service_name,
                c.sku,
                c.line_item_type,
                c.is_marketplace,
                c.quantity,
                c.cost,
                price,
                price.quantize(cents, rounding=rounding),
            )
        )
    rows.sort(key=_DETAIL_ORDER)
    return rows


def _groups(
    details: Sequence[DetailRow], options: StatementOptions
) -> tuple[list[_Group], Decimal, Decimal]:
    """The line groups in line order, and Σ price and Σ cost of all ``details``.

    One pass; every sum adds the same values in the same (detail) order as summing
    each on its own would.
    """
    by_account = options.group_by_account
    groups: dict[tuple[bool, str, str | None], _Group] = {}
    key: tuple[bool, str, str | None] | None = None
    group = _Group("", "", "", None)
    exact = cost = ZERO
    for row in details:
        # Details are sorted by group, so the key mostly repeats: look it up on change.
        row_key = (row.is_marketplace, row.service_category, row.account_id if by_account else None)
        if row_key != key:
            key = row_key
            found = groups.get(key)
            if found is None:
                account = key[2]
                name = (
                    f"AWS Marketplace: {row.service_category}"
                    if row.is_marketplace
                    else (row.service_category)
                )
                if account is not None:
                    name = f"{account} · {name}"
                found = groups[key] = _Group(
                    name,
                    "marketplace" if row.is_marketplace else "service",
                    row.service_category,
                    account,
                )
            group = found
        group.price += row.price
        group.cost += row.cost
        exact += row.price
        cost += row.cost
    ordered = [groups[k] for k in sorted(groups, key=lambda k: (k[0], k[2] or "", k[1]))]
    return ordered, exact, cost


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
    details = _detail_rows(charges, pricebook, options)
    groups, exact, cost = _groups(details, options)
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
