"""Provider credits and refunds passed on to customers, as the tenant chooses (pure).

DESIGN.md: provider credits and refunds in the billing data are reported to the
reseller and "passed to customers only where the tenant says so". The tenant says so
per provider (``providers.<key>.provider_credits``):

- ``none``: every provider credit stays with the reseller (reconcile shows it).
- ``refunds``: a refund (a Credit charge of FOCUS charge class ``Correction``: money
  given back for something billed) goes to the customer whose account it is on; other
  credits stay with the reseller.
- ``proportional``: refunds as above, and the period's other provider credits
  (promotional credits, partner-earned credit: AWS applies credits to the whole
  organisation's bill, seed 004) are shared among the customers in proportion to their
  accounts' billable charges. Accounts no customer claims hold a share too, which stays
  with the reseller, so unassigned spend does not make the customers' shares larger.

A share is in whole minor units of the credit's currency: the whole minor units of
the pool are split by the largest-remainder method (the units left after every holder
got its whole part go to the largest remainders, ties to the holder whose key sorts
first), so the shares add up to exactly that many units, whatever the weights. The
fraction of a minor unit the pool may carry stays with the reseller. A refund passes as
billed, at full precision, like any charge: the statement line rounds it.

Everything here is in the provider's billing currency; a statement converts what it is
given, like its charges.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

from connector.domain.money import ZERO, quantum, total

NONE, REFUNDS, PROPORTIONAL = "none", "refunds", "proportional"
MODES = (NONE, REFUNDS, PROPORTIONAL)
#: The FOCUS charge class of a refund: a correction of something billed before.
REFUND_CLASS = "Correction"
#: The ``line_item_type`` of the detail rows a passed credit adds to a statement: how
#: reconcile and the detailed CSV tell them from the charges.
REFUND_DETAIL = "Provider refund"
SHARE_DETAIL = "Provider credit share"
PASSED_DETAILS = frozenset({REFUND_DETAIL, SHARE_DETAIL})
#: The statement line of a customer's share of the pooled credits.
SHARE_LINE = "Provider credits"


@dataclass(frozen=True, slots=True)
class CreditCharge:
    """One Credit charge of the provider's bill (negative: money to the reseller)."""

    account_id: str
    amount: Decimal
    currency: str
    refund: bool  # charge class Correction
    service_category: str = ""
    is_marketplace: bool = False


@dataclass(frozen=True, slots=True)
class PassedCredit:
    """An amount passed to one customer's statement.

    A refund names the account and service category it was billed for; a share of the
    pooled credits names neither.
    """

    amount: Decimal
    currency: str
    refund: bool
    account_id: str | None = None
    service_category: str = SHARE_LINE
    is_marketplace: bool = False

    def converted(self, rate: Decimal) -> PassedCredit:
        """In the statement currency, at full precision (as charges are converted)."""
        if rate == 1:
            return self
        return PassedCredit(self.amount * rate, self.currency, self.refund, self.account_id,
                            self.service_category, self.is_marketplace)  # fmt: skip


@dataclass(slots=True)
class Allocation:
    """Where the period's provider credits go: passed to customers or kept.

    ``passed`` holds each customer's credits; ``kept`` what stays with the reseller, by
    currency. Σ passed + Σ kept is the Σ of the credit charges allocated, exactly.
    """

    mode: str
    passed: dict[str, list[PassedCredit]] = field(default_factory=dict)
    kept: dict[str, Decimal] = field(default_factory=dict)

    def passed_to(self, customer_id: str, currency: str | None = None) -> Decimal:
        """Σ what ``customer_id`` gets (in ``currency`` only, when given)."""
        return total(
            c.amount
            for c in self.passed.get(customer_id, ())
            if currency is None or c.currency == currency
        )

    def kept_total(self) -> Decimal:
        return total(self.kept.values())

    def _pass(self, customer_id: str, credit: PassedCredit) -> None:
        self.passed.setdefault(customer_id, []).append(credit)

    def _keep(self, currency: str, amount: Decimal) -> None:
        self.kept[currency] = self.kept.get(currency, ZERO) + amount


def largest_remainder(units: int, weights: Mapping[str, Decimal]) -> dict[str, int]:
    """``units`` (whole minor units, >= 0) split in proportion to ``weights`` (>= 0).

    Each holder gets the whole part of its exact share; the units left over go one each
    to the largest remainders, ties to the key that sorts first. The result adds up to
    ``units`` exactly. With no positive weight, nobody gets anything.
    """
    if units < 0:
        raise ValueError(f"units to split must not be negative, got {units}")
    positive = {key: Fraction(w) for key, w in weights.items() if w > 0}
    whole = sum(positive.values(), Fraction(0))
    if not positive or not units:
        return {key: 0 for key in weights}
    exact = {key: units * w / whole for key, w in positive.items()}
    shares = {key: int(share) for key, share in exact.items()}  # floor: shares are >= 0
    left = units - sum(shares.values())
    by_remainder = sorted(exact, key=lambda key: (-(exact[key] - shares[key]), key))
    for key in by_remainder[:left]:
        shares[key] += 1
    return {key: shares.get(key, 0) for key in weights}


def _split_pool(
    allocation: Allocation,
    pool: Decimal,
    currency: str,
    weights: Mapping[str, Decimal],
    owners: Mapping[str, str],
) -> None:
    """Share ``pool`` (one currency) among the customers by their accounts' weights."""
    unit = quantum(currency)
    sign = -1 if pool < 0 else 1
    whole = abs(pool).quantize(unit, ROUND_DOWN)
    # Holders: each customer (its accounts' weights summed) and each unclaimed account,
    # whose share the reseller keeps.
    holders: dict[str, Decimal] = {}
    for account, weight in weights.items():
        owner = owners.get(account)
        key = f"customer:{owner}" if owner is not None else f"account:{account}"
        holders[key] = holders.get(key, ZERO) + weight
    # A holder whose charges net to a refund is owed nothing from the pool.
    split = largest_remainder(int(whole / unit), {k: max(w, ZERO) for k, w in holders.items()})
    given = ZERO
    for key in sorted(split):
        units = split[key]
        if not units or not key.startswith("customer:"):
            continue
        amount = sign * units * unit
        given += amount
        allocation._pass(key.removeprefix("customer:"), PassedCredit(amount, currency, False))
    allocation._keep(currency, pool - given)


def allocate(
    mode: str,
    credits: Iterable[CreditCharge],
    owners: Mapping[str, str],
    weights: Mapping[tuple[str, str], Decimal],
) -> Allocation:
    """Where each credit charge goes under ``mode``.

    :param owners: account id -> the customer it is billed to (accounts not in it are
        unassigned).
    :param weights: (account id, currency) -> the account's billable charges: what the
        pooled credits of that currency are shared by (``proportional`` only).
    """
    if mode not in MODES:
        raise ValueError(f"provider_credits must be one of {', '.join(MODES)}, not {mode!r}")
    allocation = Allocation(mode)
    pools: dict[str, Decimal] = {}
    refunds: dict[tuple[str, str, str, str, bool], Decimal] = {}
    for credit in credits:
        owner = owners.get(credit.account_id)
        if credit.refund and mode != NONE and owner is not None:
            key = (owner, credit.account_id, credit.currency, credit.service_category,
                   credit.is_marketplace)  # fmt: skip
            refunds[key] = refunds.get(key, ZERO) + credit.amount
        elif not credit.refund and mode == PROPORTIONAL:
            pools[credit.currency] = pools.get(credit.currency, ZERO) + credit.amount
        else:
            allocation._keep(credit.currency, credit.amount)
    for (owner, account, currency, category, marketplace), amount in sorted(refunds.items()):
        allocation._pass(owner, PassedCredit(amount, currency, True, account, category,
                                             marketplace))  # fmt: skip
    for currency, pool in sorted(pools.items()):
        in_currency = {a: w for (a, c), w in sorted(weights.items()) if c == currency}
        _split_pool(allocation, pool, currency, in_currency, owners)
    return allocation


def passed_in(credits: Sequence[PassedCredit], currency: str) -> tuple[PassedCredit, ...]:
    """The credits of ``credits`` in ``currency`` (a statement converts from one)."""
    return tuple(c for c in credits if c.currency == currency)
