"""A report's usage-type lines: the stored charges priced now, and the statements as billed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from sqlalchemy.orm import Session

from connector.config.rates import tenant_rates
from connector.config.tenant import TenantConfig
from connector.domain.currency import ExchangeRates, MissingRate
from connector.domain.pricing import PricebookVersion, version_in_force
from connector.domain.report_rounding import BillUnit, UsageLine, row_key
from connector.pipeline.build.build import pricebook_versions
from connector.pipeline.report import sql
from connector.pipeline.report.range import DateRange
from connector.storage import models as m

Lines = dict[tuple, UsageLine]


def add_line(lines: Lines, line: UsageLine) -> None:
    """Add ``line`` to ``lines``, summing exactly with one of the same usage type."""
    key = row_key(line, "usage-type")
    found = lines.get(key)
    if found is not None:
        line = UsageLine(
            *key,
            quantity=found.quantity + line.quantity,
            cost=found.cost + line.cost,
            price=found.price + line.price,
        )
    lines[key] = line


class Pricer:
    """Prices usage-type groups as a statement built now would, and says what it used.

    Non-marketplace groups get the customer's pricebook version in force for the
    period (``pricing="period"``) or on the report date (``"latest"``); marketplace
    groups pass through at cost. Cost is first converted into the customer's invoice
    currency with the period's rate, as the statement builder does.
    """

    def __init__(self, config: TenantConfig, provider: str, pricing: str, as_of: dt.date):
        self.config, self.provider, self.pricing, self.as_of = config, provider, pricing, as_of
        self.rates: ExchangeRates = tenant_rates(config)
        self.versions: dict[tuple[str, dt.date], PricebookVersion | None] = {}
        self.used: dict[tuple[str, str], str] = {}  # (period, customer) -> version label
        self.problems: set[str] = set()

    def version(self, customer_id: str, period_start: dt.date) -> PricebookVersion | None:
        book = self.config.customer(customer_id).pricebooks.get(self.provider)
        if book is None:
            self.problems.add(
                f"customer {customer_id} has no pricebook for {self.provider}: priced at cost "
                f"(add customers[].pricebooks.{self.provider} in the tenant file)"
            )
            return None
        key = (book, period_start)
        if key not in self.versions:
            day = period_start if self.pricing == "period" else max(self.as_of, period_start)
            found = version_in_force(pricebook_versions(self.config, book), day)
            if found is None:
                self.problems.add(
                    f"pricebook {book!r} has no version in force on {day}: customer "
                    f"{customer_id} priced at cost"
                )
            self.versions[key] = found
        return self.versions[key]

    def line(self, customer_id: str, period: str, row: tuple) -> UsageLine:
        """The priced line of one group of :func:`report_sql.charge_groups`."""
        start, account, category, marketplace, s_category, s_name, sku, item, currency = row[:9]
        cost, listed, quantity = row[9:]
        wanted = self.config.customer(customer_id).invoice_currency
        try:
            rate = self.rates.rate(period, currency, wanted)
            currency = wanted
        except MissingRate as exc:
            self.problems.add(f"customer {customer_id} shown in {currency}: {exc}")
            rate = Decimal(1)
        if rate != 1:
            cost, listed = cost * rate, listed * rate
        version = self.version(customer_id, start)
        price = cost  # marketplace passes through at cost, as does a missing pricebook
        if version is not None:
            self.used[(period, customer_id)] = version.label
            if not marketplace:  # the version remembers each kind of charge's rule
                rule = version.rule_for(s_name, s_category, category, sku)
                price = cost if rule is None else rule.apply(cost, listed)
        return UsageLine(period, currency, customer_id, account, bool(marketplace), s_category,
                         s_name, sku, item, quantity, cost, price)  # fmt: skip


def current_lines(
    session: Session,
    tenant: str,
    provider: str,
    days: DateRange,
    periods: Mapping[dt.date, str],
    owners: Mapping[str, Sequence[str]],
    customers: Sequence[str] | None,
    pricer: Pricer,
    progress: sql.Progress | None,
) -> tuple[Lines, dict[tuple[str, str, str], Decimal]]:
    """The stored current charges as priced lines, and unassigned cost per
    ``(period, currency, account)`` (left out when ``customers`` limits the report)."""
    accounts = None
    if customers:
        accounts = [a for a, ids in owners.items() if set(customers) & set(ids)]
    lines: Lines = {}
    unassigned: dict[tuple[str, str, str], Decimal] = {}
    groups = sql.charge_groups(session, tenant, provider, days.first, days.last, accounts, progress)
    for row in groups:
        period, account = periods[row[0]], row[1]
        holders = owners.get(account)
        if holders is None:
            key = (period, row[8], account)
            unassigned[key] = unassigned.get(key, Decimal(0)) + row[9]
            continue
        for customer_id in holders:
            if not customers or customer_id in customers:
                add_line(lines, pricer.line(customer_id, period, row))
    return lines, unassigned


def billed_lines(
    session: Session,
    statements: Iterable[m.Statement],
    periods: Mapping[dt.date, str],
    progress: sql.Progress | None,
) -> tuple[Lines, dict[BillUnit, Decimal]]:
    """The statements' locked detail rows as lines, and their stored price lines as the
    bill view's units (usage and purchase statements of a customer's period together)."""
    by_id = {s.id: s for s in statements}
    lines: Lines = {}
    for statement_id, details in sql.statement_details(session, list(by_id), progress):
        s = by_id[statement_id]
        for d in details:
            add_line(lines, UsageLine(periods[s.period_start], s.currency, s.customer_id,
                                      d.account_id, bool(d.is_marketplace), d.service_category,
                                      d.service_name, d.sku, d.line_item_type, d.quantity,
                                      d.cost, d.price))  # fmt: skip
    units: dict[BillUnit, Decimal] = {}
    for statement_id, kind, category, account, amount in sql.price_lines(session, list(by_id)):
        s = by_id[statement_id]
        unit = (periods[s.period_start], s.currency, s.customer_id, account,
                kind == "marketplace", category or "")  # fmt: skip
        units[unit] = units.get(unit, Decimal(0)) + amount
    return lines, units
