"""A tenant's free-text payment method as a UNCL4461 payment means code (BT-81)."""

from __future__ import annotations

# First match wins, so the more specific phrases come before the words they contain.
_CODES: tuple[tuple[str, str], ...] = (
    ("sepa direct debit", "59"),
    ("sepa", "58"),
    ("direct debit", "49"),
    ("debit card", "55"),
    ("credit card", "54"),
    ("card", "48"),
    ("ach", "3"),
    ("wire", "30"),
    ("transfer", "30"),
    ("bank", "42"),
    ("cheque", "20"),
    ("check", "20"),
    ("cash", "10"),
)
MUTUALLY_DEFINED = "ZZZ"


def payment_means_code(method: str) -> str:
    """``Credit card`` -> ``54``, ``ACH`` -> ``3``, ``Wire transfer`` -> ``30``.

    Methods no phrase matches get ``ZZZ`` (mutually defined); the method's own text is
    written beside the code (BT-82), so nothing the tenant said is lost.
    """
    words = f" {' '.join(method.casefold().replace('-', ' ').split())} "
    for phrase, code in _CODES:
        if f" {phrase} " in words or (len(phrase) > 4 and phrase in words):
            return code
    return MUTUALLY_DEFINED
