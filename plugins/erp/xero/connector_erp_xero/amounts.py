"""Amounts as Xero will compute them: tax split over lines, unit prices, exact numbers.

The SDK turns every Decimal into a float before JSON encoding (its serializer has no
other path for ``number`` fields). A float prints as the shortest decimal that reads
back to it, and any decimal of at most 15 significant digits is the only such decimal
for its float (10**15 < 2**53), so ``12.30`` goes out as ``12.3`` and never as
``12.300000000000001``. :func:`exact` enforces that bound; bigger amounts are refused
rather than sent rounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from connector.contracts import PluginError, StatementDocument, StatementLine, minor_unit

#: Significant digits a float carries through a decimal round trip without loss.
FLOAT_EXACT_DIGITS = 15
CENT = Decimal("0.01")
UNIT_4DP = Decimal("0.0001")

# Lines the customer's tax is computed on, as the core's statement build does: priced
# lines, discount, support fee and rounding. Marketplace pass-through is never taxed;
# credits stay outside (a StatementLine does not say whether they were in the base).
# Xero's total is exact either way; only the split of the tax between lines would differ.
TAXED_KINDS = frozenset({"service", "discount", "support", "rounding"})


def in_minor_units(document: StatementDocument) -> Decimal:
    """``document``'s minor unit, once every amount Xero will hold is known to be whole in it.

    Raises PluginError naming the first amount that is not (Xero would round it).
    """
    unit = minor_unit(document.currency)
    amounts = [(f"line {line.position}", line.amount) for line in document.lines]
    amounts += [("tax", document.tax), ("total", document.total)]
    for what, amount in amounts:
        if amount != amount.quantize(unit):
            raise PluginError(
                f"statement {document.number}: {what} is {amount.normalize():f} "
                f"{document.currency}, finer than the currency's minor unit {unit}; "
                "Xero would round it"
            )
    return unit


def allocate(amount: Decimal, weights: Sequence[Decimal], quantum: Decimal) -> list[Decimal]:
    """``amount`` split in proportion to ``weights``, each share rounded half-up to ``quantum``.

    The largest weight (by size; the first of equals) takes what rounding left over, so
    ``sum(shares) == amount`` exactly and the odd minor unit lands where it is the
    smallest part of the line's tax, never as tax of the wrong sign on a small negative
    line. With weights summing to zero, the largest takes all.
    """
    if not weights:
        raise ValueError("cannot allocate over no lines")
    base = sum(weights, Decimal(0))
    largest = max(range(len(weights)), key=lambda index: (abs(weights[index]), -index))
    shares = [Decimal(0).quantize(quantum)] * len(weights)
    if base != 0:
        shares = [(amount * weight / base).quantize(quantum, ROUND_HALF_UP) for weight in weights]
    others = sum((share for i, share in enumerate(shares) if i != largest), Decimal(0))
    shares[largest] = (amount - others).quantize(quantum)
    return shares


def exact(amount: Decimal, where: str) -> Decimal:
    """``amount`` if the SDK's float conversion keeps it exact (``-0`` made ``0``).

    Raises PluginError otherwise, naming ``where``.
    """
    digits = amount.normalize().as_tuple().digits
    if len(digits) > FLOAT_EXACT_DIGITS:
        raise PluginError(
            f"{where}: amount {amount} has more than {FLOAT_EXACT_DIGITS} significant digits, "
            "which Xero's SDK cannot send without rounding it"
        )
    return abs(amount) if amount.is_zero() else amount


def tax_shares(document: StatementDocument, lines: Sequence[StatementLine]) -> dict[int, Decimal]:
    """The statement's tax split over its taxed lines, keyed by index in ``lines``.

    The shares add up to ``document.tax`` exactly, so the TotalTax Xero adds up from the
    lines' TaxAmount is ours to the penny.
    """
    if document.tax.is_zero():
        return {}
    taxed = [
        index
        for index, line in enumerate(lines)
        if line.kind in TAXED_KINDS and not line.amount.is_zero()
    ]
    if not taxed:
        raise PluginError(
            f"statement {document.number} has tax {document.tax} but no taxed line "
            f"(kinds {', '.join(sorted(TAXED_KINDS))}) to carry it in Xero"
        )
    weights = [lines[index].amount for index in taxed]
    shares = allocate(document.tax, weights, minor_unit(document.currency))
    return dict(zip(taxed, shares, strict=True))


def unit_price(line: StatementLine, quantum: Decimal) -> tuple[Decimal, Decimal, bool]:
    """``(quantity, unit amount, needs 4 decimals)`` with which Xero's line amount is ours.

    Xero computes LineAmount as Quantity x UnitAmount rounded half-up to the currency's
    minor unit. A quantity Xero can hold (positive, at most 4 decimals) is kept when a
    unit price of 2 or, failing that, 4 decimals gives back the line's amount exactly;
    otherwise the line goes as quantity 1 at its amount, which always does.
    """
    amount, quantity = line.amount, line.quantity
    usable = (
        quantity > 0 and quantity != 1 and quantity == quantity.quantize(UNIT_4DP) and amount != 0
    )
    if usable:
        for places, needs_four in ((quantum, False), (UNIT_4DP, True)):
            if needs_four and places >= quantum:
                continue
            unit = (amount / quantity).quantize(places, ROUND_HALF_UP)
            if (quantity * unit).quantize(quantum, ROUND_HALF_UP) == amount:
                return quantity, unit, needs_four and unit != unit.quantize(quantum)
    return Decimal(1), amount, False
