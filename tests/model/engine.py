"""Run a model :class:`~tests.model.reference.Tenant` through the real pipeline.

The tenant becomes a tenant configuration and one small CUR file per provider and
period; then ingest, close, build and approve run as an operator would run them, and
what the database holds comes back in the model's own shapes, so the two can be
compared field by field. One database serves many tenants (a fresh tenant slug each),
which keeps one example to a few tens of milliseconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from connector.config.settings import DaemonSettings
from connector.config.tenant import TenantConfig
from connector.contracts import BillingPeriod, CanonicalCharge, ChargeBatch, ChargeCategory
from connector.domain.periods import parse_period
from connector.pipeline import credits
from connector.pipeline.build.build import generate
from connector.pipeline.close.close import signal_close
from connector.pipeline.ingest.ingest import ingest
from connector.pipeline.review.approve import approve
from connector.runtime.runtime import Runtime, open_runtime
from connector.storage import models as m
from tests.model import reference as ref
from tests.providers.cur_files import row, write_cur

# CUR line item types that give each FOCUS charge category (connector_aws.line_items).
LINE_ITEM_TYPES = {
    "Usage": "Usage",
    "Purchase": "Fee",
    "Adjustment": "Discount",
    "Tax": "Tax",
    "Credit": "Credit",
}
_slugs = itertools.count(1)
#: Feeds: ``cur`` writes CUR files the aws provider plugin reads (the whole ingest, DuckDB
#: included); ``memory`` hands the same charges to ingest through :class:`MemoryProvider`.
FEEDS = ("cur", "memory")


class MemoryProvider:
    """A provider plugin serving charges held in this process, already canonical.

    The aws plugin's DuckDB read costs about 0.1 s per ingest, most of an example; the
    long search (benchmarks/differential_search.py) feeds ingest through this instead,
    so that it can afford tens of thousands of examples. What the pipeline does from
    ``ingest`` on is the same either way.
    """

    name = "model-memory"
    settings_model = None
    # It stands in for the aws plugin: AWS Marketplace fees pass through at cost.
    marketplace_name = "AWS Marketplace"
    marketplace_pricing = "at_cost"
    #: feed name -> period key -> charges; filled by :func:`run` before each ingest.
    feeds: dict[str, dict[str, list[CanonicalCharge]]] = {}

    def __init__(self, settings: dict, base_dir: Path) -> None:
        self.feed = self.feeds[settings["feed"]]

    def fetch(self, period: BillingPeriod | None = None) -> Iterator[ChargeBatch]:
        for key, charges in sorted(self.feed.items()):
            found = parse_period(key)
            if period is None or period == found:
                digest = hashlib.sha256(repr(charges).encode()).hexdigest()
                yield ChargeBatch(found, f"memory:{key}", digest, charges, final=True)


def _canonical(charge: ref.Charge, period: str) -> CanonicalCharge:
    start = parse_period(period).start
    return CanonicalCharge(
        billing_account_id="900000000001",
        sub_account_id=charge.account,
        charge_category=ChargeCategory(charge.charge_category),
        service_name=charge.service,
        service_category=charge.service_category,
        sku=charge.sku,
        billed_cost=charge.cost,
        list_cost=charge.list_cost,
        billing_currency=charge.currency,
        charge_period_start=start,
        charge_period_end=start,
        quantity=Decimal(1),
        publisher="Seller, Inc." if charge.marketplace else "Amazon Web Services",
        is_marketplace=charge.marketplace,
        invoice_id="INV-1",
        line_item_type=LINE_ITEM_TYPES[charge.charge_category],
        charge_frequency="Usage-Based",
    )


@contextmanager
def pipeline_runtime(database_url: str, workspace: Path) -> Iterator[Runtime]:
    """A runtime on ``database_url`` with no tenant files: tenants are added per example."""
    tenants = workspace / "tenants"
    tenants.mkdir(parents=True, exist_ok=True)
    runtime = open_runtime(
        DaemonSettings(
            database_url=database_url,
            tenants_dir=tenants,
            output_dir=workspace / "out",
            build_workers=1,
        )
    )
    runtime.plugins.providers.add(MemoryProvider)
    try:
        yield runtime
    finally:
        runtime.db.dispose()


def _period_bounds(key: str) -> tuple[str, str]:
    period = parse_period(key)  # half-open: end is the next month's first day
    return f"{period.start.isoformat()}T00:00:00Z", f"{period.end.isoformat()}T00:00:00Z"


def _cur_rows(charges: tuple[ref.Charge, ...], period: str) -> list[dict[str, str]]:
    start, end = _period_bounds(period)
    usage_start = start.replace("T00:", "T01:")
    rows = []
    for number, charge in enumerate(charges):
        rows.append(
            row(
                line_item_id=f"li-{number}",
                period_start=start,
                period_end=end,
                start=usage_start,
                end=usage_start.replace("T01:", "T02:"),
                account=charge.account,
                type=LINE_ITEM_TYPES[charge.charge_category],
                product=charge.service,
                product_name=charge.service_category,
                usage_type=charge.sku,
                entity="AWS Marketplace" if charge.marketplace else "AWS",
                legal="Seller, Inc." if charge.marketplace else "Amazon Web Services, Inc.",
                currency=charge.currency,
                cost=f"{charge.cost:f}",
                public_cost=f"{charge.list_cost:f}",
            )
        )
    return rows


def _rule(rule: ref.Rule) -> dict:
    data = {"adjust": rule.adjust, "percent": str(rule.percent), "basis": rule.basis}
    for scope in ("service", "charge_category", "sku"):
        if getattr(rule, scope) is not None:
            data[scope] = getattr(rule, scope)
    return data


def tenant_config(tenant: ref.Tenant, slug: str, folder: Path, feed: str = "cur") -> TenantConfig:
    """The tenant file the model's tenant stands for, its data and rates in ``folder``."""
    options = tenant.options
    pricebooks, tax_rates, plans, customers = [], {}, [], []
    for customer in tenant.customers:
        books = {}
        for provider in tenant.providers:
            book = f"{customer.id}-{provider}"
            rules = [_rule(rule) for rule in customer.rules.get(provider, ())]
            version = {"effective": "2020-01-01", "rules": rules}
            pricebooks.append({"id": book, "provider": provider, "versions": [version]})
            books[provider] = book
        data = {
            "id": customer.id,
            "name": f"Customer {customer.id}",
            "invoice_currency": customer.invoice_currency,
            "pricebooks": books,
            "accounts": {p: list(a) for p, a in customer.accounts.items() if a},
            "tax_exempt": customer.tax_exempt,
            "global_discount": str(customer.global_discount),
        }
        if customer.tax_rate is not None:
            tax_rates[customer.tax_name] = str(customer.tax_rate)
            data["tax"] = customer.tax_name
        if customer.support is not None:
            plan = f"plan-{customer.id}"
            plans.append({
                "id": plan,
                "tiers": [{"percent": str(t.percent),
                           **({} if t.up_to is None else {"up_to": str(t.up_to)})}
                          for t in customer.support.tiers],
                "minimum_fee": str(customer.support.minimum_fee),
            })  # fmt: skip
            data["support_plan"] = plan
        customers.append(data)
    rates = folder / "rates.csv"
    rates.write_text(
        "period,from,to,rate\n"
        + "".join(f"{p},{s},{t},{r}\n" for (p, s, t), r in sorted(tenant.rates.items()))
    )
    config = {
        "tenant": slug,
        "profile": {"name": "Differential Reseller"},
        "invoice_options": {
            "include_credits_for_tax": options.include_credits_for_tax,
            "group_by_cloud_account": options.group_by_cloud_account,
            "add_rounding_adjustments": options.add_rounding_adjustments,
            "rounding": options.rounding,
            "tax_rounding": options.tax_rounding,
        },
        "generation": {
            "apply_credits": options.apply_credits,
            "include_tax": options.include_tax,
            "include_marketplace_fees": options.include_marketplace_fees,
            "use_credits_for_marketplace_fees": options.use_credits_for_marketplace_fees,
        },
        "providers": {
            p: {"plugin": "aws", "settings": {"path": str(folder / p)}}
            if feed == "cur"
            else {"plugin": MemoryProvider.name, "settings": {"feed": f"{slug}/{p}"}}
            for p in tenant.providers
        },
        "pricebooks": pricebooks,
        "customers": customers,
        "tax_rates": [{"name": n, "rate": r} for n, r in tax_rates.items()],
        "support_plans": plans,
        "erp": {"sink": "csv", "settings": {"output_dir": str(folder / "erp")}},
        "exchange_rates": str(rates),
    }
    return TenantConfig.model_validate(config, context={"base_dir": folder})


def run(runtime: Runtime, tenant: ref.Tenant, workspace: Path, feed: str = "cur") -> ref.Outcome:
    """Ingest, close, build and approve every step of ``tenant``; what was stored."""
    slug = f"d{next(_slugs)}"
    folder = workspace / slug
    folder.mkdir(parents=True)
    for (provider, period), charges in tenant.charges.items():
        if not charges:
            continue
        if feed == "cur":
            write_cur(folder / provider / f"cur-{period}.csv", _cur_rows(charges, period))
        else:
            MemoryProvider.feeds.setdefault(f"{slug}/{provider}", {})[period] = [
                _canonical(charge, period) for charge in charges
            ]
    runtime.tenants[slug] = tenant_config(tenant, slug, folder, feed)
    try:
        ingested = set()
        today = parse_period(tenant.periods[-1]).end + dt.timedelta(days=10)
        for step, (period, provider) in enumerate(tenant.steps()):
            for customer in tenant.customers:
                for when, amount in customer.grants:
                    if when == step:
                        credits.grant(runtime, slug, customer.id, f"{amount:f}", "model", "test")
            if not tenant.charges.get((provider, period)):
                continue
            if provider not in ingested:
                ingest(runtime, slug, provider)
                ingested.add(provider)
            billing_period = parse_period(period)
            if feed == "cur":
                signal_close(runtime, slug, provider, billing_period)
            # else the memory provider says its data is final: the provider's own close.
            generate(runtime, slug, provider, billing_period, today=today)
        # Approval numbers the Drafts and must leave every amount as built. Once, at the
        # end: a Draft's credit is already spent for the next run's balance.
        approve(runtime, slug, None, "test")
        return _stored(runtime, tenant, slug)
    finally:
        del runtime.tenants[slug]
        for provider in tenant.providers:
            MemoryProvider.feeds.pop(f"{slug}/{provider}", None)


def _stored(runtime: Runtime, tenant: ref.Tenant, slug: str) -> ref.Outcome:
    order = {step: n for n, step in enumerate(tenant.steps())}
    customers = {c.id: n for n, c in enumerate(tenant.customers)}
    with runtime.db.transaction() as session:
        rows = session.scalars(
            select(m.Statement)
            .where(m.Statement.tenant_id == slug)
            .options(selectinload(m.Statement.lines))
        ).all()
        statements = []
        for s in rows:
            period = s.period_start.strftime("%Y-%m")
            lines = tuple(ref.Line(ln.kind, ln.description, ln.amount) for ln in s.lines)
            kinds = {ln.kind: ln.amount for ln in lines}
            statements.append(
                ref.Statement(
                    s.customer_id,
                    s.provider,
                    period,
                    s.currency,
                    lines,
                    -kinds.get("discount", Decimal(0)),
                    kinds.get("support", Decimal(0)),
                    -kinds.get("credit", Decimal(0)),
                    s.tax,
                    s.total,
                )  # fmt: skip
            )
        statements.sort(key=lambda s: (order[s.period, s.provider], customers[s.customer]))
        balances = {
            c.id: credits.balance(session, slug, c.id, c.invoice_currency) for c in tenant.customers
        }
    return ref.Outcome(tuple(statements), balances)


def differences(expected: ref.Outcome, actual: ref.Outcome) -> list[str]:
    """Every way the engine's outcome differs from the model's, in words."""
    found = []
    want = {(s.period, s.provider, s.customer): s for s in expected.statements}
    got = {(s.period, s.provider, s.customer): s for s in actual.statements}
    for key in sorted(want.keys() - got.keys()):
        found.append(f"{key}: the model has a statement, the engine none")
    for key in sorted(got.keys() - want.keys()):
        found.append(f"{key}: the engine built a statement, the model none: {got[key]}")
    for key in sorted(want.keys() & got.keys()):
        a, b = want[key], got[key]
        model_lines = [(ln.kind, ln.description, ln.amount) for ln in a.lines]
        engine_lines = [(ln.kind, ln.description, ln.amount) for ln in b.lines]
        if model_lines != engine_lines:
            found.append(f"{key}: lines\n  model  {model_lines}\n  engine {engine_lines}")
        for name in ("currency", "discount", "support", "credits", "tax", "total"):
            if getattr(a, name) != getattr(b, name):
                found.append(f"{key}: {name} model {getattr(a, name)} engine {getattr(b, name)}")
    for customer, balance in expected.balances.items():
        if actual.balances.get(customer) != balance:
            found.append(
                f"customer {customer}: credit balance model {balance} "
                f"engine {actual.balances.get(customer)}"
            )
    return found
