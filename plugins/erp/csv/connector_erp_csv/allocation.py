"""Splitting one rounded amount over several lines so the parts add up exactly."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal


def allocate(amount: Decimal, weights: Sequence[Decimal], quantum: Decimal) -> list[Decimal]:
    """``amount`` split in proportion to ``weights``, each share rounded half-up to ``quantum``.

    The last share takes whatever rounding left over, so ``sum(shares) == amount`` exactly.
    Proportional shares are also what an ERP computing tax line by line arrives at, give
    or take that last minor unit. With weights summing to zero, the last share takes all.
    """
    if not weights:
        raise ValueError("cannot allocate over no lines")
    base = sum(weights, Decimal(0))
    shares = [Decimal(0).quantize(quantum)] * (len(weights) - 1)
    if base != 0:
        shares = [
            (amount * weight / base).quantize(quantum, ROUND_HALF_UP) for weight in weights[:-1]
        ]
    shares.append((amount - sum(shares, Decimal(0))).quantize(quantum))
    return shares
