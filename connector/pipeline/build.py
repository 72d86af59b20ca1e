"""Build: one Draft statement per customer × provider × closed period."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from connector.config.tenant import Customer, GenerationOptions, TenantConfig
from connector.contracts import BillingPeriod, StatementGenerated
from connector.domain.periods import due_date
from connector.domain.pricing import PricebookVersion, PriceRule, version_in_force
from connector.domain.statement import (
    BuiltStatement,
    CustomerCharge,
    StatementOptions,
    build_statement,
)
from connector.domain.totals import Adjustments, SupportTerms
from connector.pipeline import credits
from connector.pipeline.audit import record
from connector.pipeline.close import detect_close
from connector.pipeline.runtime import Runtime
from connector.pipeline.tenants import sync_tenant
from connector.storage import models as m


class BuildError(Exception):
    """Statements cannot be built; the message says what to fix and where."""


@dataclass(slots=True)
class BuildReport:
    period: str
    generated: list[m.Statement] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (customer, reason)
    unassigned: dict[str, Decimal] = field(default_factory=dict)  # account -> billed cost


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
    config: TenantConfig, customer: Customer, provider: str, period: BillingPeriod
) -> PricebookVersion:
    pricebook_id = customer.pricebooks.get(provider)
    index = config.customers.index(customer)
    if pricebook_id is None or not customer.invoice_currency:
        raise BuildError(
            f"The customer with ID #{customer.id} does not have the currency "
            f"{customer.invoice_currency or 'USD'} enabled: add a pricebook for {provider!r} "
            f"under customers[{index}].pricebooks.{provider} (and invoice_currency) in the "
            f"tenant file"
        )
    version = version_in_force(pricebook_versions(config, pricebook_id), period.start)
    if version is None:
        raise BuildError(
            f"pricebook {pricebook_id!r} of customer #{customer.id} has no version in force on "
            f"{period.start}: add a version with an earlier 'effective' date"
        )
    return version


def _charges(
    session: Session, batch_ids: Sequence[int], accounts: Sequence[str]
) -> list[tuple[CustomerCharge, str]]:
    rows = session.scalars(
        select(m.Charge).where(
            m.Charge.batch_id.in_(batch_ids), m.Charge.sub_account_id.in_(accounts)
        )
    )
    return [
        (
            CustomerCharge(
                account_id=c.sub_account_id,
                service_name=c.service_name,
                service_category=c.service_category,
                sku=c.sku,
                line_item_type=c.line_item_type,
                charge_category=c.charge_category,
                is_marketplace=c.is_marketplace,
                cost=c.billed_cost,
                list_cost=c.list_cost,
                quantity=c.quantity,
            ),
            c.billing_currency,
        )
        for c in rows
    ]


def unassigned_spend(
    session: Session, tenant: str, provider: str, batch_ids: Sequence[int]
) -> dict[str, Decimal]:
    """Billed cost per account that no customer claims: reported, never dropped."""
    mapped = select(m.ProviderAccount.account_id).where(
        m.ProviderAccount.tenant_id == tenant, m.ProviderAccount.provider == provider
    )
    rows = session.execute(
        select(m.Charge.sub_account_id, m.Charge.billed_cost).where(
            m.Charge.batch_id.in_(batch_ids), m.Charge.sub_account_id.not_in(mapped)
        )
    )
    spend: dict[str, Decimal] = {}
    for account, cost in rows:
        spend[account] = spend.get(account, Decimal(0)) + cost
    return spend


def _store(
    session: Session,
    config: TenantConfig,
    customer: Customer,
    provider: str,
    period: BillingPeriod,
    built: BuiltStatement,
    pricebook: PricebookVersion,
    batch_ids: list[int],
    options: GenerationOptions,
    today: dt.date,
    revision: int,
) -> m.Statement:
    terms = config.invoice_options
    statement = m.Statement(
        id=str(uuid.uuid4()),
        tenant_id=config.tenant,
        customer_id=customer.id,
        provider=provider,
        period_start=period.start,
        period_end=period.end,
        status="Draft",
        revision=revision,
        currency=customer.invoice_currency,
        subtotal=built.subtotal,
        tax=built.tax,
        total=built.total,
        issue_date=today,
        due_date=due_date(today, terms.term_type, terms.term_value),
        pricebook_version=pricebook.label,
        batch_ids=batch_ids,
        options=options.model_dump(mode="json"),
    )
    statement.lines = [m.StatementLine(**asdict(line)) for line in built.lines]
    statement.details = [m.StatementDetail(**asdict(detail)) for detail in built.details]
    session.add(statement)
    return statement


def _statement_options(
    config: TenantConfig, customer: Customer, options: GenerationOptions, credit: Decimal
) -> StatementOptions:
    """The customer's options for this run; ``credit`` is its usable credit balance."""
    tax_rate = tax_name = None
    if options.include_tax and customer.tax and not customer.tax_exempt:
        rate = config.tax_rate(customer.tax)
        tax_rate, tax_name = rate.rate, rate.name
    support = None
    if customer.support_plan:
        plan = config.support_plan(customer.support_plan)
        support = SupportTerms([(t.up_to, t.percent) for t in plan.tiers], plan.minimum_fee)
    invoice = config.invoice_options
    return StatementOptions(
        currency=customer.invoice_currency,
        group_by_account=invoice.group_by_cloud_account,
        include_marketplace=options.include_marketplace_fees,
        add_rounding_adjustments=invoice.add_rounding_adjustments,
        rounding=invoice.rounding,
        adjustments=Adjustments(
            discount_percent=customer.global_discount,
            support=support,
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
) -> BuildReport:
    """Build Draft statements for a closed period, all of them or none.

    A Draft already there is replaced by a new revision; an approved statement is
    left alone (it is corrected by a credit note, never rebuilt).
    """
    config = runtime.tenant(tenant)
    today = today or dt.date.today()
    options = config.generation.model_copy(update=overrides or {})
    if provider not in config.providers:
        raise BuildError(f"tenant {tenant!r} has no provider {provider!r} in its tenant file")
    if detect_close(runtime, tenant, provider, period, today) is None:
        raise BuildError(
            f"period {period.key} of {provider} is not closed for tenant {tenant!r}: wait for "
            f"the provider's close, or signal it with `connector close --tenant {tenant} "
            f"--provider {provider} --period {period.key}`"
        )
    wanted = set(customer_ids) if customer_ids else None
    customers = [
        c for c in config.customers if provider in c.accounts and (wanted is None or c.id in wanted)
    ]
    if wanted is not None and (missing := wanted - {c.id for c in customers}):
        raise BuildError(
            f"no customer with {provider} accounts has ID {', '.join(sorted(missing))}"
        )
    errors, pricebooks = [], {}
    for customer in customers:
        try:
            pricebooks[customer.id] = _pricebook_for(config, customer, provider, period)
        except BuildError as exc:
            errors.append(str(exc))
    if errors:
        raise BuildError("\n".join(errors))

    report = BuildReport(period.key)
    with runtime.db.transaction() as session:
        sync_tenant(session, config)
        batch_ids = current_batch_ids(session, tenant, provider, period)
        if not batch_ids:
            raise BuildError(
                f"no {provider} data is stored for {period.key}: run "
                f"`connector ingest --tenant {tenant} --provider {provider}` first"
            )
        report.unassigned = unassigned_spend(session, tenant, provider, batch_ids)
        if report.unassigned and config.unassigned_spend == "block":
            accounts = ", ".join(sorted(report.unassigned))
            raise BuildError(
                f"accounts {accounts} have spend but no customer; map them under "
                "customers[].accounts or set unassigned_spend: report"
            )
        for customer in customers:
            existing = session.scalar(
                select(m.Statement).where(
                    m.Statement.tenant_id == tenant,
                    m.Statement.customer_id == customer.id,
                    m.Statement.provider == provider,
                    m.Statement.period_start == period.start,
                )
            )
            if existing is not None and existing.status != "Draft":
                report.skipped.append(
                    (customer.id, f"already {existing.status} as {existing.number}")
                )
                continue
            charges = _charges(session, batch_ids, customer.accounts[provider])
            if not charges:
                report.skipped.append((customer.id, "no charges in this period"))
                continue
            foreign = {cur for _, cur in charges if cur != customer.invoice_currency}
            if foreign:
                raise BuildError(
                    f"customer #{customer.id} is invoiced in {customer.invoice_currency} but "
                    f"its {provider} charges are in {', '.join(sorted(foreign))}; currency "
                    "conversion is not available yet: set invoice_currency to the billing "
                    "currency"
                )
            revision = 1
            if existing is not None:
                revision = existing.revision + 1
                credits.release(session, existing.id)
                session.delete(existing)
                session.flush()
            available = Decimal(0)
            if options.apply_credits:
                # Locked until commit: a concurrent build cannot spend the same balance.
                credits.lock_customer(session, tenant, customer.id)
                available = credits.balance(session, tenant, customer.id, customer.invoice_currency)
            built = build_statement(
                [c for c, _ in charges],
                pricebooks[customer.id],
                _statement_options(config, customer, options, available),
            )
            statement = _store(
                session,
                config,
                customer,
                provider,
                period,
                built,
                pricebooks[customer.id],
                batch_ids,
                options,
                today,
                revision,
            )
            if built.credits:
                credits.apply_credit(
                    session, tenant, customer.id, customer.invoice_currency, statement.id,
                    built.credits, "system",
                )  # fmt: skip
            record(
                session,
                tenant,
                "system",
                "statement.generate",
                statement.id,
                {"customer": customer.id, "revision": revision, "total": str(built.total)},
            )
            report.generated.append(statement)
    for statement in report.generated:
        runtime.emit(StatementGenerated(tenant=tenant, statement_id=statement.id))
    return report


def delete_draft(session: Session, tenant: str, statement: m.Statement, actor: str) -> None:
    """Remove a Draft; anything approved is corrected by a credit note instead."""
    if statement.status != "Draft":
        raise BuildError(
            f"statement {statement.number or statement.id} is {statement.status}; "
            "only Drafts can be deleted (correct an Open one with a credit note)"
        )
    credits.release(session, statement.id)
    session.execute(delete(m.StatementDetail).where(m.StatementDetail.statement_id == statement.id))
    session.delete(statement)
    record(session, tenant, actor, "statement.delete", statement.id, {})
