"""Amounts as Xero will compute them: minor units, tax split, unit prices, exact numbers.

The arithmetic every ERP shares (minor units, the tax split over the taxed lines with the
remainder on the largest line) is :mod:`connector.plugin_kit.invoice_lines`; what is
Xero's own is here.

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
from connector.plugin_kit import invoice_lines

#: Significant digits a float carries through a decimal round trip without loss.
FLOAT_EXACT_DIGITS = 15
CENT = Decimal("0.01")
UNIT_4DP = Decimal("0.0001")


def in_minor_units(document: StatementDocument) -> Decimal:
    """``document``'s minor unit, once every amount Xero will hold is known to be whole in it.

    Raises PluginError naming the first amount that is not (Xero would round it).
    """
    unit = minor_unit(document.currency)
    invoice_lines.in_minor_units(document, unit, "Xero would round it")
    return unit


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
    lines' TaxAmount is ours to the penny; the largest line takes the rounding remainder.
    """
    return invoice_lines.tax_shares(document, lines, "Xero", minor_unit(document.currency))


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
