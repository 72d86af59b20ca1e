"""Exact money: ISO 4217 minor units and rounding to them."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

# ISO 4217 currencies whose minor unit is not 2 (the rest use cents).
#
# Kept by hand rather than read from babel (babel.numbers.get_currency_precision):
# babel gives CLDR's display digits, which are not ISO 4217's minor units. Checked
# against babel 2.19 for every code in iso4217.CURRENCIES: 15 differ, all with CLDR 0
# where ISO says 2 (AFN ALL COP HUF IDR IRR KPW LAK LBP MGA MMK SOS SYP YER) or 3 (IQD).
# Rounding to them would drop cents a statement in Colombian pesos or forints owes, and
# would disagree with the ERPs, which use ISO's units.
_MINOR_UNITS = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "CLF": 4,
    "UYW": 4,
}

ROUNDING_MODES = {"half_up": ROUND_HALF_UP, "half_even": ROUND_HALF_EVEN}
ZERO = Decimal(0)


def minor_units(currency: str) -> int:
    """Decimal places of ``currency`` (JPY 0, USD 2, BHD 3)."""
    return _MINOR_UNITS.get(currency.upper(), 2)


@functools.lru_cache(maxsize=256)  # every amount shown or rounded asks; few currencies
def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str, mode: str = "half_up") -> Decimal:
    """``amount`` rounded to the currency's minor unit (half-up unless told otherwise)."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, got {type(amount).__name__} {amount!r}")
    return amount.quantize(quantum(currency), rounding=ROUNDING_MODES[mode])


def total(amounts: Iterable[Decimal]) -> Decimal:
    """Exact sum; Decimal zero for nothing."""
    return sum(amounts, ZERO)


def tidy(amount: Decimal, currency: str) -> Decimal:
    """``amount`` in the currency's minor units when that loses nothing, else as is.

    PostgreSQL hands amounts back with 12 decimal places and SQLite as they were
    stored; statements, balances and messages read the same on both without hiding a
    digit.
    """
    cents = amount.quantize(quantum(currency))
    return cents if cents == amount else amount.normalize()


def exact_text(amount: Decimal) -> str:
    """``amount`` in full, at least to the cent: 18.00, 7.1234567891; the same text on
    every database, whatever scale it stores money at (PostgreSQL: 12 places)."""
    amount = amount.normalize()
    if amount.as_tuple().exponent > -2:
        amount = amount.quantize(Decimal("0.01"))
    return f"{amount:f}"


def money_text(amount: Decimal | None, currency: str | None) -> str | None:
    """``amount`` as fixed-point text for files and ``--json``: in the currency's minor
    unit when that loses nothing (0.27, 0.00), else in full (0.2712345). PostgreSQL's
    padding (0.270000000000, 0E-12) never shows, so both engines print the same bytes.
    Strings, so no JSON reader turns an exact amount into a float. ``None`` stays None.
    """
    if amount is None:
        return None
    return f"{tidy(amount, currency) if currency else amount.normalize():f}"


def quantity_text(value: Decimal | None) -> str | None:
    """A quantity or rate as given, without a database's padding: 1.5, 100."""
    return None if value is None else f"{value.normalize():f}"
