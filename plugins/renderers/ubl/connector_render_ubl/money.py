"""Amounts and percentages as UBL writes them: fixed-point text, never through float."""

from __future__ import annotations

from decimal import Decimal

from connector.contracts import PluginError, minor_unit

HUNDRED = Decimal(100)


def minor_units(currency: str) -> int:
    """Decimal places of ``currency`` (JPY 0, USD 2, BHD 3)."""
    return -minor_unit(currency).as_tuple().exponent


def amount_text(amount: Decimal, currency: str, what: str) -> str:
    """``amount`` with exactly the currency's decimal places (``12.5`` USD -> ``12.50``).

    Statement amounts are already rounded to the minor unit; one that is not would
    change value when written, so it is refused rather than silently re-rounded.
    """
    quantum = Decimal(1).scaleb(-minor_units(currency))
    written = amount.quantize(quantum)
    if written != amount:
        raise PluginError(
            f"{what} is {amount} {currency}, which is not rounded to the currency's "
            f"{minor_units(currency)} decimal places; UBL amounts must be exact"
        )
    if written.is_zero():
        written = abs(written)  # never "-0.00"
    return format(written, "f")


def percent_text(rate: Decimal) -> str:
    """A rate as a percentage without trailing zeros (``0.0825`` -> ``8.25``, ``0.2`` -> ``20``)."""
    percent = (rate * HUNDRED).normalize()
    return format(percent, "f")
