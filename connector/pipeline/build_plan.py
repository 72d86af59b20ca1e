"""Which statements a build makes: per customer, its revision, part and charges.

A usage build makes one statement per customer that has charges and no approved
statement for the period; a purchase build one per customer with upfront purchases
not yet billed (:mod:`connector.pipeline.purchases`). Either way the charges are
converted into the customer's invoice currency with the period's rate first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from connector.config.tenant import Customer
from connector.contracts import BillingPeriod
from connector.domain.currency import ExchangeRates, MissingRate, convert
from connector.domain.statement import CustomerCharge
from connector.pipeline import build_store as store
from connector.pipeline import purchases


class PlanError(Exception):
    """The statements cannot be planned; the message says what to fix."""


@dataclass(slots=True)
class Planned:
    """One statement to build."""

    customer: Customer
    revision: int
    part: int
    charges: list[CustomerCharge]  # in the invoice currency
    billing_currency: str
    exchange_rate: Decimal


@dataclass(slots=True)
class Plan:
    statements: list[Planned]
    rebuilt: list[str]  # ids of the Drafts the new statements replace
    skipped: list[tuple[str, str]]  # (customer, reason)


def _converted(
    customer: Customer,
    provider: str,
    period: BillingPeriod,
    found: store.CustomerCharges,
    chosen: list[CustomerCharge],
    rates: ExchangeRates,
) -> tuple[list[CustomerCharge], str, Decimal]:
    if len(found.currencies) > 1:
        raise PlanError(
            f"customer #{customer.id}'s {provider} charges of {period.key} are in several "
            f"billing currencies ({', '.join(sorted(found.currencies))}); one statement "
            "converts from one currency: split the accounts between customers"
        )
    (source,) = found.currencies
    try:
        rate = rates.rate(period.key, source, customer.invoice_currency)
    except MissingRate as exc:
        raise PlanError(
            f"customer #{customer.id} is invoiced in {customer.invoice_currency} and its "
            f"{provider} charges are in {source}: {exc}"
        ) from None
    return convert(chosen, rate), source, rate


def plan(
    session: Session,
    tenant: str,
    provider: str,
    period: BillingPeriod,
    customers: Sequence[Customer],
    charges: dict[str, store.CustomerCharges],
    rates: ExchangeRates,
    *,
    kind: str,
    upfront_apart: bool,
) -> Plan:
    """The statements of a ``kind`` build; every conversion problem is reported at once.

    :param upfront_apart: upfront purchases are billed by purchase statements, so usage
        statements leave them out.
    """
    result = Plan([], [], [])
    if kind == purchases.PURCHASE:
        stored_purchases = purchases.stored_purchases(session, tenant, provider, period)
    else:
        stored = store.stored_statements(session, tenant, provider, period)
    errors = []
    for customer in customers:
        found = charges.get(customer.id)
        if kind == purchases.PURCHASE:
            earlier = stored_purchases.get(customer.id, purchases.CustomerPurchases())
            result.rebuilt.extend(earlier.drafts)
            chosen = [] if found is None else purchases.unbilled(found.charges, earlier.billed)
            if not chosen:
                continue  # nothing new bought: not worth a line in the report
            revision, part = 1, earlier.last_part + 1
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
            chosen = purchases.without_upfront(found.charges) if upfront_apart else found.charges
            if existing is None:
                revision, part = 1, 0
            elif voided:  # credited by a credit note: the corrected statement is a new part
                revision, part = 1, existing.part + 1
            else:
                revision, part = existing.revision + 1, existing.part
                result.rebuilt.append(existing.id)
        try:
            converted, source, rate = _converted(customer, provider, period, found, chosen, rates)
        except PlanError as exc:
            errors.append(str(exc))
            continue
        result.statements.append(Planned(customer, revision, part, converted, source, rate))
    if errors:
        raise PlanError("\n".join(errors))
    return result
