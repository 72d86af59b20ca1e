"""Pricebook rules: the most specific rule in force decides a charge's price."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class PriceRule:
    """Mark up or discount cost (or list price) by ``percent`` for the charges in scope.

    A scope left as None matches everything; ``service`` matches a charge's service
    name or its service category.
    """

    adjust: str  # markup | discount
    percent: Decimal
    basis: str = "cost"  # cost | list
    service: str | None = None
    charge_category: str | None = None
    sku: str | None = None
    # Percent of the basis charged (115 for a 15% markup), worked out once.
    factor: Decimal = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        factor = HUNDRED + self.percent if self.adjust == "markup" else HUNDRED - self.percent
        object.__setattr__(self, "factor", factor)

    @property
    def specificity(self) -> int:
        # A SKU is narrower than a service, which is narrower than a charge category.
        return (
            4 * (self.sku is not None)
            + 2 * (self.service is not None)
            + (self.charge_category is not None)
        )

    def matches(self, service_name: str, service_category: str, category: str, sku: str) -> bool:
        return (
            (self.service is None or self.service in (service_name, service_category))
            and (self.charge_category is None or self.charge_category == category)
            and (self.sku is None or self.sku == sku)
        )

    def apply(self, cost: Decimal, list_cost: Decimal) -> Decimal:
        base = list_cost if self.basis == "list" else cost
        return base * self.factor / HUNDRED


@dataclass(frozen=True, slots=True)
class PricebookVersion:
    """The rules of one pricebook from ``effective`` on; ``label`` is recorded on statements."""

    label: str
    effective: dt.date
    rules: Sequence[PriceRule]
    #: The rule each kind of charge gets (``None``: at cost), found once, by ``(service
    #: name, service category, charge category, SKU)``: these repeat across a tenant's
    #: customers. The statement builder's hot loop reads it directly and calls
    #: :meth:`rule_for` only for a kind not found yet.
    by_kind: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def rule_for(
        self, service_name: str, service_category: str, category: str, sku: str
    ) -> PriceRule | None:
        """The most specific matching rule; among equals, the first listed."""
        key = (service_name, service_category, category, sku)
        try:
            return self.by_kind[key]
        except KeyError:
            rule = self.by_kind[key] = self._most_specific(*key)
            return rule

    def _most_specific(
        self, service_name: str, service_category: str, category: str, sku: str
    ) -> PriceRule | None:
        best: PriceRule | None = None
        for rule in self.rules:
            if rule.matches(service_name, service_category, category, sku) and (
                best is None or rule.specificity > best.specificity
            ):
                best = rule
        return best

    def price(
        self,
        service_name: str,
        service_category: str,
        category: str,
        sku: str,
        cost: Decimal,
        list_cost: Decimal,
    ) -> Decimal:
        """Full-precision price; cost unchanged when no rule applies."""
        rule = self.rule_for(service_name, service_category, category, sku)
        return cost if rule is None else rule.apply(cost, list_cost)


def version_in_force(
    versions: Sequence[PricebookVersion], period_start: dt.date
) -> PricebookVersion | None:
    """The latest version effective on or before the period's first day.

    A version that takes effect mid-period applies from the next period on, so a
    change made after a period closed never alters that period.
    """
    candidates = [v for v in versions if v.effective <= period_start]
    return max(candidates, key=lambda v: v.effective, default=None)
