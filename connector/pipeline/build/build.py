"""Build: one Draft statement per customer × provider × closed period."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.config.errors import ConfigError
from connector.config.tenant import Customer, GenerationOptions, TenantConfig
from connector.contracts import BillingPeriod, StatementGenerated
from connector.domain.money import exact_text
from connector.domain.periods import due_date
from connector.domain.pricing import PricebookVersion, PriceRule, version_in_force
from connector.domain.provider_credits import passed_in as provider_credits_passed_in
from connector.domain.statement import MarketplaceTerms, StatementOptions
from connector.domain.totals import Adjustments, SupportTerms
from connector.gc_pause import cycle_collector_paused
from connector.pipeline import credits
from connector.pipeline.build import parts as build_parts
from connector.pipeline.build import plan as build_plan
from connector.pipeline.build import provider_terms, purchases, store
from connector.pipeline.build.documents import printed_options
from connector.pipeline.build.purchases import PURCHASE, USAGE
from connector.pipeline.close import period_config
from connector.pipeline.close.close import detect_close
from connector.progress import NO_PROGRESS, Progress
from connector.runtime import webhook_events
from connector.runtime.audit import record
from connector.runtime.runtime import Runtime
from connector.runtime.tenants import lock_tenant, sync_tenant
from connector.storage import models as m
from connector.storage.ids import uuid7
from connector.storage.statistics import analyze_after_load
from connector.webhooks import DRAFTED

# A customer whose charges this run leaves off statements entirely (provider tax,
# credits not passed on, marketplace fees without "include marketplace fees").
NOTHING_TO_BILL = "nothing to bill: this run's options leave every charge off the statement"


class BuildError(Exception):
    """Statements cannot be built; the message says what to fix and where."""


@dataclass(slots=True)
class BuildReport:
    period: str
    # Made into objects when first read (see build_store.GeneratedStatements).
    generated: Sequence[m.Statement] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (customer, reason)
    # Spend no customer claims: (account, billing currency) -> billed cost, in full.
    unassigned: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    # Customers that could not be built, and what fixes each; the others were built.
    failed: list[tuple[str, str]] = field(default_factory=list)
    # What an explicit reprice of a closed period changed in its configuration.
    repriced: list[period_config.Change] = field(default_factory=list)


def current_batch_ids(
    session: Session, tenant: str, provider: str, period: BillingPeriod
) -> list[int]:
    return list(
        session.scalars(
            select(m.ChargeBatch.id).where(
                m.ChargeBatch.tenant_id == tenant,
                m.ChargeBatch.provider == provider,
                m.ChargeBatch.period_start == period.start,
                m.ChargeBatch.superseded_at.is_(None),
            )
        )
    )


def pricebook_versions(config: TenantConfig, pricebook_id: str) -> list[PricebookVersion]:
    """The domain view of a pricebook from the tenant file."""
    book = config.pricebook(pricebook_id)
    return [
        PricebookVersion(
            label=f"{book.id}@{version.effective.isoformat()}",
            effective=version.effective,
            rules=[
                PriceRule(
                    adjust=r.adjust,
                    percent=r.percent,
                    basis=r.basis,
                    service=r.service,
                    sku=r.sku,
                    charge_category=str(r.charge_category) if r.charge_category else None,
                )
                for r in version.rules
            ],
        )
        for version in book.versions
    ]


def _pricebook_for(
    config: TenantConfig,
    customer: Customer,
    index: int,
    provider: str,
    period: BillingPeriod,
    versions: dict[str, PricebookVersion | None],
) -> PricebookVersion:
    """The version in force for ``customer`` (``customers[index]``); ``versions`` caches
    each pricebook's version for this run."""
    pricebook_id = customer.pricebooks.get(provider)
    if pricebook_id is None or not customer.invoice_currency:
        raise BuildError(
            f"The customer with ID #{customer.id} does not have the currency "
            f"{customer.invoice_currency or 'USD'} enabled: add a pricebook for {provider!r} "
            f"under customers[{index}].pricebooks.{provider} (and invoice_currency) in the "
            f"tenant file"
        )
    if pricebook_id not in versions:
        found = version_in_force(pricebook_versions(config, pricebook_id), period.start)
        versions[pricebook_id] = found
    version = versions[pricebook_id]
    if version is None:
        raise BuildError(
            f"pricebook {pricebook_id!r} of customer #{customer.id} has no version in force on "
            f"{period.start}: add a version with an earlier 'effective' date"
        )
    return version


def _statement_options(
    config: TenantConfig,
    customer: Customer,
    options: GenerationOptions,
    credit: Decimal,
    support: bool = True,
    marketplace: MarketplaceTerms | None = None,
) -> StatementOptions:
    """The customer's options for this run; ``credit`` is its usable credit balance.

    ``support=False`` for purchase statements: the support plan is a monthly fee on the
    period's usage statement, and a minimum fee must not be charged once per purchase.
    ``marketplace``: the provider's (:func:`provider_terms.marketplace_terms`).
    """
    tax_rate = tax_name = None
    if options.include_tax and customer.tax and not customer.tax_exempt:
        rate = config.tax_rate(customer.tax)
        tax_rate, tax_name = rate.rate, rate.name
    support_terms = None
    if support and customer.support_plan:
        plan = config.support_plan(customer.support_plan)
        support_terms = SupportTerms([(t.up_to, t.percent) for t in plan.tiers], plan.minimum_fee)
    invoice = config.invoice_options
    return StatementOptions(
        currency=customer.invoice_currency,
        group_by_account=invoice.group_by_cloud_account,
        include_marketplace=options.include_marketplace_fees,
        marketplace=marketplace or MarketplaceTerms(),
        add_rounding_adjustments=invoice.add_rounding_adjustments,
        rounding=invoice.rounding,
        adjustments=Adjustments(
            discount_percent=customer.global_discount,
            support=support_terms,
            credit_available=credit if options.apply_credits else Decimal(0),
            credits_before_tax=invoice.include_credits_for_tax,
            credits_for_marketplace=options.use_credits_for_marketplace_fees,
            tax_name=tax_name,
            tax_rate=tax_rate,
            tax_rounding=invoice.tax_rounding,
        ),
    )


def generate(
    runtime: Runtime,
    tenant: str,
    provider: str,
    period: BillingPeriod,
    customer_ids: Sequence[str] | None = None,
    overrides: dict | None = None,
    today: dt.date | None = None,
    kind: str = USAGE,
    *,
    reprice: bool = False,
    actor: str = "connector",
    progress: Progress = NO_PROGRESS,
) -> BuildReport:
    """Build Draft statements for a closed period.

    The statements built are stored together or not at all. A customer that cannot be
    built (no pricebook, no exchange rate) is in the report's ``failed`` with what to
    fix, and the others are built; when none can be, :class:`BuildError` says why.

    A Draft already there is replaced by a new revision; an approved statement is
    left alone (it is corrected by a credit note, never rebuilt). ``kind="purchase"``
    builds the statements of upfront purchases not yet billed (see
    :mod:`connector.pipeline.build.purchases`), closed period or not; a usage build under
    that policy builds them first, and leaves them out of the usage statements.

    A closed period is priced by the configuration recorded when it closed
    (:mod:`connector.pipeline.close.period_config`); ``reprice=True`` is the operator saying
    it should be repriced with today's tenant file, audited under ``actor``.
    ``progress`` counts the statements built.
    """
    config = runtime.tenant(tenant)
    today = today or dt.date.today()
    if provider not in config.providers:
        raise BuildError(f"tenant {tenant!r} has no provider {provider!r} in its tenant file")
    immediate = purchases.billed_immediately(config, provider)
    if kind == PURCHASE:
        if not immediate:
            raise BuildError(
                f"purchases of {provider} are billed with the period's statement: set "
                "invoice_options.aws_ri_purchase: immediately in the tenant file to bill "
                "them as they appear"
            )
        return _generate(
            runtime, config, provider, period, customer_ids, overrides, today, kind, reprice,
            actor, progress,
        )  # fmt: skip
    if detect_close(runtime, tenant, provider, period, today) is None:
        raise BuildError(
            f"period {period.key} of {provider} is not closed for tenant {tenant!r}: wait for "
            f"the provider's close, or signal it with `connector close --tenant {tenant} "
            f"--provider {provider} --period {period.key}`"
        )
    report = None
    if immediate:
        report = _generate(
            runtime, config, provider, period, customer_ids, overrides, today, PURCHASE,
            reprice, actor, progress,
        )  # fmt: skip
        reprice = False  # done, and audited once
    usage = _generate(
        runtime, config, provider, period, customer_ids, overrides, today, USAGE, reprice,
        actor, progress,
    )  # fmt: skip
    if report is not None:
        usage.generated = [*report.generated, *usage.generated]
        usage.repriced = report.repriced or usage.repriced
        usage.failed = [*report.failed, *(f for f in usage.failed if f not in report.failed)]
    return usage


def _reported(
    made: Iterator[list[build_parts.Made | None]],
) -> Iterator[list[build_parts.Made | None]]:
    """``made``, with a lost worker reported as a BuildError (the CLI's exit code 5)."""
    try:
        yield from made
    except build_parts.WorkerLost as exc:
        raise BuildError(str(exc)) from None


def _generate(
    runtime: Runtime,
    config: TenantConfig,
    provider: str,
    period: BillingPeriod,
    customer_ids: Sequence[str] | None,
    overrides: dict | None,
    today: dt.date,
    kind: str,
    reprice: bool = False,
    actor: str = "connector",
    progress: Progress = NO_PROGRESS,
) -> BuildReport:
    tenant = config.tenant
    wanted = set(customer_ids) if customer_ids else None
    if wanted is not None and (
        missing := wanted - {c.id for c in config.customers if provider in c.accounts}
    ):
        raise BuildError(
            f"no customer with {provider} accounts has ID {', '.join(sorted(missing))}"
        )
    report = BuildReport(period.key)
    generated: list[dict] = []
    what = f"{provider} {period.key} {'purchase ' if kind == PURCHASE else ''}statements"
    progress.stage(f"planning {what}", unit="statements")
    with cycle_collector_paused(), runtime.db.transaction() as session:
        sync_tenant(session, config)
        try:
            priced = period_config.frozen_config(
                session, config, provider, period, reprice=reprice, actor=actor
            )
        except ConfigError as exc:
            raise BuildError(str(exc)) from None
        # A closed period is priced as it was when it closed (period_config).
        config, report.repriced = priced.config, priced.repriced
        options = config.generation.model_copy(update=overrides or {})
        customers = [
            (index, c)
            for index, c in enumerate(config.customers)
            if provider in c.accounts and (wanted is None or c.id in wanted)
        ]
        pricebooks, versions = {}, {}
        for index, customer in customers:
            try:
                pricebooks[customer.id] = _pricebook_for(
                    config, customer, index, provider, period, versions
                )
            except BuildError as exc:
                # One customer's gap must not stop the others' statements.
                report.failed.append((customer.id, str(exc)))
        customers = [(index, c) for index, c in customers if c.id in pricebooks]
        batch_ids = current_batch_ids(session, tenant, provider, period)
        if not batch_ids:
            raise BuildError(
                f"no {provider} data is stored for {period.key}: run "
                f"`connector ingest --tenant {tenant} --provider {provider}` first"
            )
        claimed = {a for c in config.customers for a in c.accounts.get(provider, ())}
        currencies, report.unassigned = store.customer_currencies(
            session, batch_ids, {c.id: c.accounts[provider] for _, c in customers}, claimed
        )
        if report.unassigned and config.unassigned_spend == "block":
            accounts = ", ".join(
                f"{account} (billed {exact_text(cost)} {currency})"
                for (account, currency), cost in sorted(report.unassigned.items())
            )
            raise BuildError(
                f"{provider} {period.key}: accounts {accounts} have spend but no customer, "
                f"and the tenant file says unassigned_spend: block; map them under "
                f"customers[].accounts.{provider} or set unassigned_spend: report"
            )
        try:
            planned = build_plan.plan(
                session, tenant, provider, period, [c for _, c in customers], currencies,
                priced.rates, kind=kind,
            )  # fmt: skip
        except build_plan.PlanError as exc:
            raise BuildError(str(exc)) from None
        report.failed += planned.failed
        if report.failed and not planned.statements:
            raise BuildError("\n".join(reason for _, reason in report.failed))
        report.skipped = planned.skipped
        todo = planned.statements
        progress.stage(f"building {what}", total=len(todo), unit="statements")
        # Drafts being rebuilt give their credit back before balances are read.
        store.remove_drafts(session, planned.rebuilt)
        balances: dict[str, Decimal] = {}
        if options.apply_credits:
            # Locked until commit: a concurrent build cannot spend the same balance.
            store.lock_customers(session, tenant, [p.customer.id for p in todo])
            balances = store.credit_balances(
                session, tenant, {p.customer.id: p.customer.invoice_currency for p in todo}
            )
        marketplace = provider_terms.marketplace_terms(runtime.plugins, config, provider)
        # Provider credits the tenant passes on go on usage statements (by customer, in
        # the billing currency; each statement converts its own).
        passed: dict[str, list] = {}
        if kind == USAGE and config.providers[provider].provider_credits != "none":
            passed = provider_terms.allocation(session, config, provider, batch_ids).passed
        orders = [
            build_parts.Order(
                str(uuid7()),
                tuple(p.customer.accounts[provider]),
                pricebooks[p.customer.id],
                _statement_options(
                    config,
                    p.customer,
                    options,
                    balances.get(p.customer.id, Decimal(0)),
                    support=kind == USAGE,
                    marketplace=marketplace,
                ),
                p.exchange_rate,
                p.billed,
                provider_credits_passed_in(passed.get(p.customer.id, ()), p.billing_currency),
            )
            for p in todo
        ]
        terms = config.invoice_options
        due = due_date(today, terms.term_type, terms.term_value)
        # What the statement was built with; the invoice option decides how its tax was
        # computed, and a later change of the tenant file must not restate that.
        dumped = {
            **options.model_dump(mode="json"),
            "include_credits_for_tax": terms.include_credits_for_tax,
            # How marketplace products and provider credits were treated (reconcile).
            "marketplace_pricing": "at_cost" if marketplace.at_cost else "pricebook",
            "provider_credits": config.providers[provider].provider_credits,
        }
        parts = build_parts.parts(
            orders, batch_ids, purchases.billed_immediately(config, provider),
            text_money=runtime.db.dialect != "postgresql",
        )  # fmt: skip
        workers = runtime.settings.build_workers or os.cpu_count() or 1
        made_parts = build_parts.made_parts(session, runtime.db.url, parts, workers)
        position = lines_stored = 0
        for part, made_part in zip(parts, _reported(made_parts), strict=True):
            built_round = []
            for order, made in zip(part.orders, made_part, strict=True):
                planned_statement = todo[position]
                position += 1
                customer = planned_statement.customer
                if made is None:  # a purchase build found nothing left to bill, or
                    if kind == USAGE:  # nothing the customer is billed for is on it
                        report.skipped.append((customer.id, NOTHING_TO_BILL))
                    continue
                available = balances.get(customer.id, Decimal(0))
                if not Decimal(0) <= made.credits <= available:  # as credits.apply_credit
                    raise credits.CreditError(
                        f"customer {customer.id} has {available} {customer.invoice_currency} "
                        f"of credit left; {made.credits} cannot be applied to statement "
                        f"{made.statement_id}"
                    )
                # Another statement of this build would draw on what is left.
                balances[customer.id] = available - made.credits
                adjustments = order.options.adjustments
                row = store.statement_row(
                    made.statement_id, tenant, customer.id, provider, period, made,
                    kind=kind, part=planned_statement.part, revision=planned_statement.revision,
                    currency=customer.invoice_currency,
                    billing_currency=planned_statement.billing_currency,
                    exchange_rate=planned_statement.exchange_rate,
                    tax_name=adjustments.tax_name, tax_rate=adjustments.tax_rate,
                    issue_date=today, due_date=due, pricebook_version=order.pricebook.label,
                    batch_ids=batch_ids,
                    options={**dumped, **printed_options(config, customer.id)},
                )  # fmt: skip
                audit = {
                    "customer": customer.id,
                    "kind": kind,
                    "revision": planned_statement.revision,
                    "total": str(made.total),
                }
                built_round.append(store.NewStatement(row, made, audit))
                generated.append(row)
            store.store(session, tenant, built_round)
            lines_stored += sum(len(s.made.lines) for s in built_round)
            webhook_events.record(session, config, DRAFTED, [s.row for s in built_round])
            progress.advance(len(part.orders))
        # Approval, rendering and pushing read them back by id, a chunk at a time.
        analyze_after_load(session, m.Statement.__tablename__, len(generated))
        analyze_after_load(session, m.StatementLine.__tablename__, lines_stored)
    report.generated = store.GeneratedStatements(runtime.db, generated)
    for row in generated:
        runtime.emit(StatementGenerated(tenant=tenant, statement_id=row["id"]))
    return report


def delete_draft(session: Session, tenant: str, statement: m.Statement, actor: str) -> None:
    """Remove a Draft; anything approved is corrected by a credit note instead.

    The statement is re-read under the tenant's lock (the one approval and voiding take
    numbers under) and its own row lock before its status is checked: a Draft approved
    while this waited is Open by then and refused, never deleted with its number.
    """
    lock_tenant(session, tenant)
    current = session.scalars(
        select(m.Statement)
        .where(m.Statement.id == statement.id, m.Statement.tenant_id == tenant)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if current is None:
        raise BuildError(
            f"statement {statement.id} is no longer there (deleted or rebuilt meanwhile)"
        )
    if current.status != "Draft":
        raise BuildError(
            f"statement {current.number or current.id} is {current.status}; "
            "only Drafts can be deleted (correct an Open one with a credit note)"
        )
    credits.release(session, current.id)
    session.delete(current)
    record(session, tenant, actor, "statement.delete", current.id, {})
