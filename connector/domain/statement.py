"""Building one statement from a customer's charges: price, group, round, then totals.

Pure: takes values, returns values. Amounts are summed at full precision and each
line is rounded once, to the currency's minor unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from connector.contracts import ChargeCategory, DetailRow, StatementLine
from connector.domain.money import ZERO, round_money, total
from connector.domain.pricing import PricebookVersion
from connector.domain.totals import Adjustments, apply_adjustments

# Provider tax is the reseller's cost and provider credits are the reseller's to pass
# on or not: neither is copied onto a customer's statement.
BILLABLE_CATEGORIES = frozenset(
    {ChargeCategory.USAGE, ChargeCategory.PURCHASE, ChargeCategory.ADJUSTMENT}
)


@dataclass(frozen=True, slots=True)
class CustomerCharge:
    """One stored canonical charge of the customer's accounts, in the statement currency."""

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


def _detail_rows(
    charges: Iterable[CustomerCharge], pricebook: PricebookVersion | None, options: StatementOptions
) -> list[DetailRow]:
    rows = []
    for c in charges:
        if c.charge_category not in BILLABLE_CATEGORIES:
            continue
        if c.is_marketplace and not options.include_marketplace:
            continue
        if c.is_marketplace or pricebook is None:
            # Marketplace passes through at cost: no markup, no discount.
            price = c.cost
        else:
            price = pricebook.price(
                c.service_name, c.service_category, c.charge_category, c.sku, c.cost, c.list_cost
            )
        rows.append(
            DetailRow(
                account_id=c.account_id,
                service_category=c.service_category,
                service_name=c.service_name,
                sku=c.sku,
                line_item_type=c.line_item_type,
                is_marketplace=c.is_marketplace,
                quantity=c.quantity,
                cost=c.cost,
                price=price,
                price_rounded=round_money(price, options.currency, options.rounding),
            )
        )
    rows.sort(
        key=lambda r: (
            r.is_marketplace,
            r.service_category,
            r.account_id,
            r.service_name,
            r.sku,
            r.line_item_type,
        )
    )
    return rows


def _groups(details: Sequence[DetailRow], options: StatementOptions) -> list[_Group]:
    groups: dict[tuple[bool, str, str | None], _Group] = {}
    for row in details:
        account = row.account_id if options.group_by_account else None
        key = (row.is_marketplace, row.service_category, account)
        if key not in groups:
            name = (
                f"AWS Marketplace: {row.service_category}"
                if row.is_marketplace
                else (row.service_category)
            )
            if account is not None:
                name = f"{account} · {name}"
            groups[key] = _Group(
                name,
                "marketplace" if row.is_marketplace else "service",
                row.service_category,
                account,
            )
        groups[key].price += row.price
        groups[key].cost += row.cost
    return [groups[k] for k in sorted(groups, key=lambda k: (k[0], k[2] or "", k[1]))]


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
    details = _detail_rows(charges, pricebook, options)
    lines: list[StatementLine] = []
    for group in _groups(details, options):
        lines.append(
            StatementLine(
                position=len(lines) + 1,
                kind=group.kind,
                description=group.description,
                amount=round_money(group.price, cur, mode),
                cost=group.cost,
                service_category=group.service_category,
                account_id=group.account_id,
            )
        )
    exact = total(r.price for r in details)
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
        cost=total(r.cost for r in details),
        credits=totals.credits,
    )
