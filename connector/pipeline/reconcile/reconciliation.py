"""What a reconciliation holds: one tenant × provider × period, customer by customer.

Values only, with the sums and checks read off them (``difference``, ``ties_out``);
:mod:`.reconcile` reads the database and makes them, :mod:`.report` writes them out.
Costs are in the provider's billing currency, prices in each statement's currency, and
amounts in different currencies are never added together.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from connector.contracts import ChargeCategory
from connector.domain import provider_credits as pc
from connector.domain.money import ZERO, total
from connector.domain.statement import BILLABLE_CATEGORIES


@dataclass(frozen=True, slots=True)
class StatementSummary:
    """The statement of one customer for the period, amounts as stored."""

    id: str
    number: str | None
    status: str
    revision: int
    currency: str
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    batch_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CustomerReconciliation:
    """One customer: billable cost (full precision) against the statement's price.

    ``marketplace_margin`` is the marketplace price at full precision minus marketplace
    cost and must be zero (pass-through); ``margin`` is price minus cost minus it and
    minus the provider credits on the statement, so ``price - billable_cost - passed ==
    margin + marketplace_margin`` (``passed`` at full precision, in the statement's
    currency). Both are None when no statement was generated. Third-party products the
    pricebook prices (``marketplace_pricing: pricebook``) are in ``cost``, not in
    ``marketplace_cost``: they are priced like any product.

    ``provider_credit`` is what the tenant's ``provider_credits`` passes to the customer
    (in ``cost_currency``; zero when credits stay with the reseller).
    ``rounding_difference`` is Σ price lines minus Σ full-precision detail prices.
    ``drift`` is current billable cost minus the cost of the batches the statement was
    built from (zero when it was built from the current ones).

    Costs and drift are in ``cost_currency`` (the provider's billing currency); price,
    margins and rounding in the statement's ``currency``. When the two differ, margins
    use the cost converted at the statement's recorded ``exchange_rate``; with no rate
    recorded they are None and price and cost stand apart.
    """

    customer_id: str
    name: str
    cost: Decimal
    marketplace_cost: Decimal
    cost_currency: str = ""
    exchange_rate: Decimal | None = None
    statement: StatementSummary | None = None
    price_by_kind: Mapping[str, Decimal] = field(default_factory=dict)
    price: Decimal | None = None
    margin: Decimal | None = None
    marketplace_margin: Decimal | None = None
    rounding: Decimal = ZERO
    rounding_difference: Decimal = ZERO
    stale: bool = False
    drift: Decimal = ZERO
    problems: tuple[str, ...] = ()
    provider_credit: Decimal = ZERO

    @property
    def billable_cost(self) -> Decimal:
        """Everything the provider billed for this customer's accounts that is billable."""
        return self.cost + self.marketplace_cost

    @property
    def currency(self) -> str | None:
        """The currency of price, margins and rounding: the statement's (None without one)."""
        return self.statement.currency if self.statement else None


@dataclass(frozen=True, slots=True)
class UnassignedAccount:
    """An account with charges but no customer: reported, never dropped."""

    account_id: str
    billable_cost: Decimal
    billed_cost: Decimal  # all categories, provider Tax and Credit included


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The whole reconciliation of one tenant × provider × period."""

    tenant: str
    provider: str
    period: str
    currency: str
    batch_ids: tuple[int, ...]
    by_category: Mapping[str, Decimal]
    provider_total: Decimal
    ingested_total: Decimal
    customers: tuple[CustomerReconciliation, ...]
    unassigned: tuple[UnassignedAccount, ...]
    problems: tuple[str, ...]
    #: The tenant's ``provider_credits`` for the period, as recorded at its close.
    provider_credits: str = pc.NONE
    #: The provider Credit the reseller keeps (None: all of it, nothing is passed on).
    credits_kept: Decimal | None = None

    @property
    def customers_cost(self) -> Decimal:
        """Σ billable cost of the customers' accounts (marketplace included)."""
        return total(c.billable_cost for c in self.customers)

    @property
    def unassigned_cost(self) -> Decimal:
        """Σ billable cost of accounts no customer claims."""
        return total(a.billable_cost for a in self.unassigned)

    @property
    def credits_passed(self) -> Decimal:
        """Σ provider credits passed to customers (their ``provider_credit``)."""
        return total(c.provider_credit for c in self.customers)

    @property
    def non_billable(self) -> Mapping[str, Decimal]:
        """Provider Tax, the Credit the reseller keeps (and any other unbilled category):
        the reseller's own."""
        own = {k: v for k, v in self.by_category.items() if k not in BILLABLE_CATEGORIES}
        if self.credits_kept is not None:
            own[str(ChargeCategory.CREDIT)] = self.credits_kept
        return own

    @property
    def rounding(self) -> Mapping[str, Decimal]:
        """Σ ``Rounding adjustment`` lines of the period's statements, per statement currency."""
        return _per_currency((c.currency, c.rounding) for c in self.customers)

    @property
    def rounding_difference(self) -> Mapping[str, Decimal]:
        """Σ price lines minus Σ full-precision prices, per statement currency."""
        return _per_currency((c.currency, c.rounding_difference) for c in self.customers)

    @property
    def difference(self) -> Decimal:
        """Provider total minus everything attributed; zero for consistent data."""
        attributed = (
            self.customers_cost
            + self.credits_passed
            + self.unassigned_cost
            + total(self.non_billable.values())
        )
        return self.provider_total - attributed

    @property
    def ties_out(self) -> bool:
        """Nothing dropped: zero difference, and the stored charges are what was ingested."""
        # The ingested total is summed from the provider's charges before they are
        # stored, so it also catches charges lost or altered on the way to the database.
        return self.difference == 0 and self.provider_total == self.ingested_total


def _per_currency(amounts: Iterable[tuple[str | None, Decimal]]) -> dict[str, Decimal]:
    """Amounts summed per currency (None: no statement, nothing to sum), codes sorted."""
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for currency, amount in amounts:
        if currency is not None:
            sums[currency] += amount
    return dict(sorted(sums.items()))
