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


# How a kind of charge is priced: (price from the list cost?, percent of it charged), or
# None for "at cost"; see PricebookVersion.pricing.
Pricing = tuple[bool, Decimal] | None


@dataclass(frozen=True, slots=True)
class PricebookVersion:
    """The rules of one pricebook from ``effective`` on; ``label`` is recorded on statements."""

    label: str
    effective: dt.date
    rules: Sequence[PriceRule]
    # The rule each kind of charge gets, found once: it depends only on the service,
    # category, charge category and SKU, which repeat across a tenant's customers.
    _found: dict = field(default_factory=dict, init=False, repr=False, compare=False)
    #: Each kind of charge's :data:`Pricing` found so far, by ``(service name, service
    #: category, charge category, SKU)``: the statement builder's hot loop reads it
    #: directly and calls :meth:`pricing` only for a kind it has not seen.
    pricings: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def rule_for(
        self, service_name: str, service_category: str, category: str, sku: str
    ) -> PriceRule | None:
        """The most specific matching rule; among equals, the first listed."""
        key = (service_name, service_category, category, sku)
        try:
            return self._found[key]
        except KeyError:
            rule = self._found[key] = self._most_specific(*key)
            return rule

    def pricing(self, service_name: str, service_category: str, category: str, sku: str) -> Pricing:
        """How this kind of charge is priced (and remembered in :attr:`pricings`):
        ``price = (list cost if the first item else cost) * percent / 100``."""
        rule = self.rule_for(service_name, service_category, category, sku)
        found = None if rule is None else (rule.basis == "list", rule.factor)
        self.pricings[(service_name, service_category, category, sku)] = found
        return found

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
