"""Which statements a build makes: per customer, its revision, part and exchange rate.

A usage build makes one statement per customer that has charges and no approved
statement for the period; a purchase build one per customer with charges, which
bills the upfront purchases no approved purchase statement billed yet
(:mod:`connector.pipeline.build.purchases`). The plan is made from what each customer's
accounts were billed in (not from the charges, which the build's parts read): one
billing currency, converted into the customer's invoice currency with the period's rate.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from connector.config.tenant import Customer
from connector.contracts import BillingPeriod
from connector.domain.currency import ExchangeRates, MissingRate
from connector.pipeline.build import purchases, store


class PlanError(Exception):
    """The statements cannot be planned; the message says what to fix."""


@dataclass(slots=True)
class Planned:
    """One statement to build."""

    customer: Customer
    revision: int
    part: int
    billing_currency: str
    exchange_rate: Decimal  # billing currency -> invoice currency
    billed: Counter | None = None  # purchase builds: what approved purchase statements billed


@dataclass(slots=True)
class Plan:
    statements: list[Planned]
    rebuilt: list[str]  # ids of the Drafts the new statements replace
    skipped: list[tuple[str, str]]  # (customer, reason)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (customer, what to fix)


def _rate(
    customer: Customer,
    provider: str,
    period: BillingPeriod,
    currencies: set[str],
    rates: ExchangeRates,
) -> tuple[str, Decimal]:
    if len(currencies) > 1:
        raise PlanError(
            f"customer #{customer.id}'s {provider} charges of {period.key} are in several "
            f"billing currencies ({', '.join(sorted(currencies))}); one statement "
            "converts from one currency: split the accounts between customers"
        )
    (source,) = currencies
    try:
        return source, rates.rate(period.key, source, customer.invoice_currency)
    except MissingRate as exc:
        raise PlanError(
            f"customer #{customer.id} is invoiced in {customer.invoice_currency} and its "
            f"{provider} charges are in {source}: {exc}"
        ) from None


def plan(
    session: Session,
    tenant: str,
    provider: str,
    period: BillingPeriod,
    customers: Sequence[Customer],
    currencies: dict[str, set[str]],
    rates: ExchangeRates,
    *,
    kind: str,
) -> Plan:
    """The statements of a ``kind`` build; a customer whose charges cannot be converted
    is in ``failed`` with what to fix, and the others are planned.

    :param currencies: the billing currencies of each customer's charges, by customer
        id; a customer without charges is not in it.
    """
    result = Plan([], [], [])
    if kind == purchases.PURCHASE:
        stored_purchases = purchases.stored_purchases(session, tenant, provider, period)
    else:
        stored = store.stored_statements(session, tenant, provider, period)
    for customer in customers:
        found = currencies.get(customer.id)
        billed = None
        if kind == purchases.PURCHASE:
            earlier = stored_purchases.get(customer.id, purchases.CustomerPurchases())
            result.rebuilt.extend(earlier.drafts)
            if found is None:
                continue  # nothing bought: not worth a line in the report
            revision, part, billed = 1, earlier.last_part + 1, earlier.billed
        else:
            existing = stored.get(customer.id)
            voided = existing is not None and existing.status == "Void"
            if existing is not None and existing.status not in ("Draft", "Void"):
                result.skipped.append(
                    (customer.id, f"already {existing.status} as {existing.number}")
                )
                continue
            if found is None:
                result.skipped.append((customer.id, "no charges in this period"))
                continue
            if existing is None:
                revision, part = 1, 0
            elif voided:  # credited by a credit note: the corrected statement is a new part
                revision, part = 1, existing.part + 1
            else:
                revision, part = existing.revision + 1, existing.part
                result.rebuilt.append(existing.id)
        try:
            source, rate = _rate(customer, provider, period, found, rates)
        except PlanError as exc:
            result.failed.append((customer.id, str(exc)))
            continue
        result.statements.append(Planned(customer, revision, part, source, rate, billed))
    return result
