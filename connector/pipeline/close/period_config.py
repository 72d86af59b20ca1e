"""What prices a closed period, recorded when it closes: a closed month stays closed.

Seed 003: "After the billing cycle has closed, any changes to your pricebook or support
plan settings will reflect in the current month and will not apply to prior months."
So when a period closes for a tenant and provider, everything in the tenant file that
prices it is stored with the close: the pricebooks (every version's rules, not only
its id: a version edited in place must not reprice a month it already priced), the
support plans, tax rates, invoice and generation options, each customer's pricing
settings, each provider's (how its marketplace products are priced, which provider
credits reach customers), and the period's exchange rates. Building the period reads
the tenant file as it was then, with today's names, addresses, accounts and ERP
mappings (those do not price anything, and a mapping fixed after the close must still
take effect).

What was not there at the close is taken from today's file, because it priced nothing
yet: a pricebook or plan added later, a customer added later, an exchange rate that
was missing (the build could not have used it). A period closed before this record
existed is recorded at its first build, and frozen from then on.

Repricing a closed period with today's file is an explicit operator action
(:func:`frozen_config` with ``reprice=True``): the record is replaced, and the audit
trail keeps who did it and every setting that changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.config.errors import ConfigError, ConfigIssue
from connector.config.rates import tenant_rates
from connector.config.tenant import TenantConfig
from connector.config.yamlfile import read_yaml
from connector.contracts import BillingPeriod
from connector.domain.currency import ExchangeRates
from connector.runtime.audit import record
from connector.storage import models as m

# The tenant file's sections that price a period, each list keyed by its entries' id.
SECTIONS = {
    "invoice_options": None,
    "generation": None,
    "pricebooks": "id",
    "support_plans": "id",
    "tax_rates": "name",
}
# A customer's own settings that price its statements.
CUSTOMER_FIELDS = frozenset(
    {"invoice_currency", "pricebooks", "tax", "tax_exempt", "payment_method", "support_plan",
     "global_discount"}
)  # fmt: skip
# A provider's own settings that price its statements.
PROVIDER_FIELDS = frozenset({"marketplace_pricing", "provider_credits"})
PROVIDERS = "providers"
RATES = "exchange_rates"


def take(config: TenantConfig, period: BillingPeriod) -> dict[str, Any]:
    """What prices ``period`` in ``config`` today, as JSON-ready data."""
    data = config.model_dump(mode="json", include=set(SECTIONS))
    data["customers"] = {
        c.id: c.model_dump(mode="json", include=set(CUSTOMER_FIELDS)) for c in config.customers
    }
    data[PROVIDERS] = {
        key: p.model_dump(mode="json", include=set(PROVIDER_FIELDS))
        for key, p in config.providers.items()
    }
    try:
        rates = tenant_rates(config).rates
    except ConfigError:
        rates = {}  # a broken rates file is reported by check-config and by the build
    # "USD/EUR": "0.9215": one unit of the first is that many of the second.
    data[RATES] = {
        f"{source}/{target}": str(rate)
        for (key, source, target), rate in sorted(rates.items())
        if key == period.key
    }
    return data


def _merged(today: list[dict], recorded: list[dict], key: str) -> list[dict]:
    """``recorded``'s entries, then those of ``today`` whose key it does not have."""
    kept = {entry[key] for entry in recorded}
    return [*recorded, *(entry for entry in today if entry[key] not in kept)]


def as_recorded(config: TenantConfig, recorded: Mapping[str, Any]) -> TenantConfig:
    """``config`` with the recorded sections and customers' pricing settings."""
    data = config.model_dump(mode="json")
    for section, key in SECTIONS.items():
        if section in recorded:
            data[section] = (
                recorded[section] if key is None else _merged(data[section], recorded[section], key)
            )
    customers = recorded.get("customers", {})
    for customer in data["customers"]:
        then = customers.get(customer["id"])
        if then is not None:
            # A pricebook named for a provider only since the close prices nothing yet.
            books = {**customer["pricebooks"], **then.get("pricebooks", {})}
            customer.update(then, pricebooks=books)
    for key, then in recorded.get(PROVIDERS, {}).items():
        if key in data[PROVIDERS]:
            data[PROVIDERS][key].update(then)
    frozen = TenantConfig.model_validate(data, context={"base_dir": config.base_dir})
    return frozen


def recorded_rates(
    config: TenantConfig, recorded: Mapping[str, Any], period: BillingPeriod
) -> ExchangeRates:
    """The period's rates as recorded at the close; a pair missing then, from today's file."""
    rates = {
        (period.key, *pair.split("/")): Decimal(rate)
        for pair, rate in recorded.get(RATES, {}).items()
    }
    try:
        today = tenant_rates(config)
    except ConfigError:
        if not rates:
            raise
        return ExchangeRates(rates, source=f"the rates recorded when {period.key} closed")
    return ExchangeRates({**today.rates, **rates}, source=today.source)


@dataclass(frozen=True, slots=True)
class Change:
    """One setting that differs between the recorded and today's configuration."""

    setting: str  # a dotted path: pricebooks.aws-standard.versions[0].rules[1].percent
    before: Any
    after: Any


def _flat(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _flat(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            name = item.get("id") or item.get("name") if isinstance(item, Mapping) else None
            yield from _flat(item, f"{path}.{name}" if name else f"{path}[{index}]")
    else:
        yield path, value


def changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    """Every setting that differs, by dotted path, in a stable order."""
    old, new = dict(_flat(before, "")), dict(_flat(after, ""))
    return [
        Change(path, old.get(path), new.get(path))
        for path in sorted(old.keys() | new.keys())
        if old.get(path) != new.get(path)
    ]


@dataclass(frozen=True, slots=True)
class PeriodConfig:
    """The configuration a build of a period uses."""

    config: TenantConfig
    rates: ExchangeRates
    repriced: list[Change]  # what an explicit reprice changed (empty otherwise)


def frozen_config(
    session: Session,
    config: TenantConfig,
    provider: str,
    period: BillingPeriod,
    *,
    reprice: bool = False,
    actor: str = "connector",
) -> PeriodConfig:
    """The configuration that prices ``period`` of ``provider``, in the build's session.

    An open period is priced by today's file. A closed one by what was recorded at its
    close (recorded now if the close predates the record). ``reprice`` replaces the
    record with today's file and audits who did it and what changed.
    """
    close = session.get(m.PeriodClose, (config.tenant, provider, period.start))
    if close is None:
        return PeriodConfig(config, tenant_rates(config), [])
    today = take(config, period)
    changed: list[Change] = []
    if close.config is None:
        close.config = today
    elif reprice:
        changed = changes(close.config, today)
        close.config = today
        record(
            session, config.tenant, actor, "period.reprice", f"{provider}:{period.key}",
            {"changes": [[c.setting, c.before, c.after] for c in changed]},
        )  # fmt: skip
    elif PROVIDERS not in close.config:
        # Recorded before providers' pricing settings were: recorded now, frozen from
        # then on (a new dict: the JSON column sees the change).
        close.config = {**close.config, PROVIDERS: today[PROVIDERS]}
    recorded = close.config
    return PeriodConfig(
        as_recorded(config, recorded), recorded_rates(config, recorded, period), changed
    )


def recorded_config(
    session: Session, config: TenantConfig, provider: str, period: BillingPeriod
) -> TenantConfig:
    """``config`` as it prices ``period`` of ``provider``, changing nothing: what was
    recorded at the close, or today's file when nothing is (reconcile reads this)."""
    close = session.get(m.PeriodClose, (config.tenant, provider, period.start))
    if close is None or close.config is None:
        return config
    return as_recorded(config, close.config)


@dataclass(frozen=True, slots=True)
class EditedVersion:
    """A pricebook version whose rules differ from those it priced approved statements
    with: it was edited in place after their period closed."""

    pricebook: int  # index in the tenant file's pricebooks
    version: int | None  # index in its versions; None when the version was removed
    label: str  # id@effective, as statements record it
    periods: list[str]  # the closed periods it priced
    numbers: list[str]  # the approved statements it priced


def edited_versions(session: Session, config: TenantConfig) -> list[EditedVersion]:
    """Every version of the tenant file that no longer has the rules it priced approved
    statements with (check-config reports them: the fix is a new version)."""
    used: dict[tuple[str, dt.date], dict[str, list[str]]] = {}
    for provider, start, label, number in session.execute(
        select(m.Statement.provider, m.Statement.period_start, m.Statement.pricebook_version,
               m.Statement.number)
        .where(m.Statement.tenant_id == config.tenant, m.Statement.number.is_not(None),
               m.Statement.pricebook_version.is_not(None))
        .order_by(m.Statement.number)
    ):  # fmt: skip
        used.setdefault((provider, start), {}).setdefault(label, []).append(number)
    today = {
        f"{book.id}@{version.effective.isoformat()}": (b, v, version.model_dump(mode="json"))
        for b, book in enumerate(config.pricebooks)
        for v, version in enumerate(book.versions)
    }
    found: dict[str, EditedVersion] = {}
    closes = session.scalars(
        select(m.PeriodClose).where(
            m.PeriodClose.tenant_id == config.tenant, m.PeriodClose.config.is_not(None)
        )
    )
    for close in closes:
        labels = used.get((close.provider, close.period_start), {})
        for b, book in enumerate(close.config.get("pricebooks", [])):
            for version in book["versions"]:
                label = f"{book['id']}@{version['effective']}"
                if label not in labels or today.get(label, (0, 0, None))[2] == version:
                    continue
                where = today.get(label)
                edited = found.setdefault(label, EditedVersion(
                    where[0] if where else _index(config, book["id"], b),
                    where[1] if where else None, label, [], [],
                ))  # fmt: skip
                edited.periods.append(f"{close.period_start:%Y-%m}")
                edited.numbers.extend(labels[label])
    return list(found.values())


def _index(config: TenantConfig, pricebook_id: str, fallback: int) -> int:
    ids = [book.id for book in config.pricebooks]
    return ids.index(pricebook_id) if pricebook_id in ids else fallback


def edited_version_issues(
    session: Session, tenants: list[TenantConfig], tenants_dir: Path
) -> list[ConfigIssue]:
    """:func:`edited_versions` of each tenant as check-config issues, at the version's
    line in its tenant file in ``tenants_dir``."""
    issues = []
    paths = {}
    for path in sorted([*tenants_dir.glob("*.yaml"), *tenants_dir.glob("*.yml")]):
        doc, _ = read_yaml(path)
        if doc is not None and isinstance(doc.data, Mapping):
            paths[str(doc.data.get("tenant"))] = (path, doc)
    for config in tenants:
        edited = edited_versions(session, config)
        if not edited or config.tenant not in paths:
            continue
        path, doc = paths[config.tenant]
        for e in edited:
            loc: tuple[str | int, ...] = ("pricebooks", e.pricebook)
            if e.version is not None:
                loc += ("versions", e.version)
            message = (
                f"version {e.label} priced approved statements {', '.join(e.numbers)} "
                f"(closed {', '.join(sorted(set(e.periods)))}) with other rules than it has "
                "now; a closed period keeps the rules it closed with, so this edit changes "
                "nothing it billed: put the new rules in a new version with a later "
                "'effective' date instead of editing this one"
            )
            issues.append(doc.issue(loc, message))
    return issues
