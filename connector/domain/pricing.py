"""Pricebook rules: the most specific rule in force decides a charge's price."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
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
        factor = HUNDRED + self.percent if self.adjust == "markup" else HUNDRED - self.percent
        return base * factor / HUNDRED


@dataclass(frozen=True, slots=True)
class PricebookVersion:
    """The rules of one pricebook from ``effective`` on; ``label`` is recorded on statements."""

    label: str
    effective: dt.date
    rules: Sequence[PriceRule]

    def rule_for(
        self, service_name: str, service_category: str, category: str, sku: str
    ) -> PriceRule | None:
        """The most specific matching rule; among equals, the first listed."""
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
