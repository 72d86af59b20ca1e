"""The order of calculation below the priced lines: discount, support, credits, tax.

For one statement (DESIGN.md, "Order of calculation"): the priced subtotal S of the
non-marketplace lines -> global discount D on S -> support fee P on S - D (tiers, then
the minimum) -> B = S - D + P. Marketplace pass-through M is never discounted, never
in the support base and never taxed. With credit balance K and tax rate r:

- credits before tax: C1 = min(K, B); tax = r(B - C1); C2 = min(K - C1, M) when credits
  may pay marketplace fees, else 0; due = B - C1 + tax + M - C2. Rounded per line, the
  credit pays the taxed lines in order and each is taxed on what is left of it
  (:func:`net_of_credit`), so a base the credits cancel carries no tax.
- credits after tax:  tax = rB; C = min(K, B + tax + (M if credits may pay marketplace
  fees else 0)); due = B + tax + M - C.

Every step is its own rounded statement line, so the lines always add up to the total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from connector.contracts import StatementLine
from connector.domain.money import ZERO, quantum, round_money, total

HUNDRED = Decimal(100)
# Line kinds that make up the taxable base B (marketplace and credits are not in it).
TAXED_KINDS = frozenset({"service", "rounding", "discount", "support"})


@dataclass(frozen=True, slots=True)
class SupportTerms:
    """Progressive tiers ``(up_to, percent)`` (last ``up_to`` None) and a minimum fee."""

    tiers: Sequence[tuple[Decimal | None, Decimal]]
    minimum_fee: Decimal = ZERO


def support_fee(base: Decimal, terms: SupportTerms) -> Decimal:
    """Each tier's percent of the part of ``base`` inside it, at least the minimum fee.

    Tiers 10% up to 10,000 then 5% on 25,000 gives 1,000 + 750 = 1,750.
    """
    fee, lower = ZERO, ZERO
    for up_to, percent in terms.tiers:
        upper = base if up_to is None else min(base, up_to)
        if upper > lower:
            fee += (upper - lower) * percent / HUNDRED
        if up_to is None or base <= up_to:
            break
        lower = up_to
    return max(fee, terms.minimum_fee)


@dataclass(frozen=True, slots=True)
class Adjustments:
    """What applies below the priced lines for one customer and run."""

    discount_percent: Decimal = ZERO
    support: SupportTerms | None = None
    credit_available: Decimal = ZERO
    credits_before_tax: bool = False
    credits_for_marketplace: bool = False
    tax_name: str | None = None
    tax_rate: Decimal | None = None  # None: no tax on this statement
    tax_rounding: str = "statement"  # statement | line


@dataclass(slots=True)
class Totals:
    lines: list[StatementLine] = field(default_factory=list)
    discount: Decimal = ZERO
    support: Decimal = ZERO
    credits: Decimal = ZERO
    tax: Decimal = ZERO


def _tax(amounts: Sequence[Decimal], rate: Decimal, per_line: bool, cur: str, mode: str) -> Decimal:
    if per_line:
        return total(round_money(a * rate, cur, mode) for a in amounts)
    return round_money(total(amounts) * rate, cur, mode)


def net_of_credit(amounts: Sequence[Decimal], credit: Decimal) -> list[Decimal]:
    """The taxed lines' amounts left once ``credit`` (at most their sum) has paid them.

    Rounded per line, a credit taxed as a line of its own does not cancel the tax of
    the lines it pays: ten lines of 0.10 at 5% carry 0.01 of tax each (0.005 rounded
    up), the 1.00 credit -0.05, and a fully credited statement would still be taxed
    0.05. So the credit pays the lines instead: the negative lines (a discount, a
    refund) and the credit are taken from the positive lines in statement order, and
    each line's tax is then on what is left of it. Those amounts add up to B - C1, a
    line the credit paid in full carries no tax, and a base the credits cancelled
    carries none at all (seed 004: a $0.00 statement).
    """
    pool = credit - total(a for a in amounts if a < ZERO)
    left = []
    for amount in amounts:
        take = min(pool, amount) if amount > ZERO else ZERO
        pool -= take
        left.append(max(amount - take, ZERO))
    return left


def apply_adjustments(
    priced: Sequence[StatementLine], adj: Adjustments, currency: str, mode: str = "half_up"
) -> Totals:
    """The discount, support, credit and tax lines that follow ``priced`` (rounded lines)."""
    out = Totals(tax=round_money(ZERO, currency, mode), credits=round_money(ZERO, currency, mode))
    position = len(priced)

    def add(kind: str, description: str, amount: Decimal) -> None:
        nonlocal position
        position += 1
        out.lines.append(StatementLine(position, kind, description, amount))

    subtotal = total(line.amount for line in priced if line.kind in TAXED_KINDS)
    marketplace = total(line.amount for line in priced if line.kind == "marketplace")
    if adj.discount_percent:
        out.discount = round_money(subtotal * adj.discount_percent / HUNDRED, currency, mode)
        add("discount", f"Discount ({adj.discount_percent.normalize():f}%)", -out.discount)
    if adj.support is not None:
        out.support = round_money(support_fee(subtotal - out.discount, adj.support), currency, mode)
        add("support", "Support plan", out.support)
    base = subtotal - out.discount + out.support
    taxed = [line.amount for line in (*priced, *out.lines) if line.kind in TAXED_KINDS]
    rate, per_line = adj.tax_rate, adj.tax_rounding == "line"
    # A grant may hold up to 10 decimal places, but a credit line, like every line, is
    # in whole minor units: only those are applied (rounded down, so never more than
    # the balance) and the fraction stays in the balance for later statements.
    available = max(adj.credit_available, ZERO).quantize(quantum(currency), ROUND_DOWN)
    if adj.credits_before_tax:
        before = min(available, max(base, ZERO))
        if rate is not None:
            # Per statement: r(B - C1), rounded once. Per line: each line's tax on what
            # the credit left of it (see net_of_credit).
            if not per_line:
                out.tax = _tax([*taxed, -before], rate, per_line, currency, mode)
            elif before:
                out.tax = _tax(net_of_credit(taxed, before), rate, per_line, currency, mode)
            else:
                out.tax = _tax(taxed, rate, per_line, currency, mode)
        after = min(available - before, marketplace) if adj.credits_for_marketplace else ZERO
        # A marketplace refund (M < 0) takes back part of C1, as the after-tax formula
        # nets it in B + tax + M; an application is never below zero.
        out.credits = max(before + after, ZERO)
    else:
        if rate is not None:
            out.tax = _tax(taxed, rate, per_line, currency, mode)
        payable = base + out.tax + (marketplace if adj.credits_for_marketplace else ZERO)
        out.credits = min(available, max(payable, ZERO))
    if out.credits:
        add("credit", "Credits applied", -out.credits)
    if rate is not None:
        add("tax", f"{adj.tax_name or 'Tax'} ({(rate * HUNDRED).normalize():f}%)", out.tax)
    return out
