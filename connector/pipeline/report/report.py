"""Billing reports: live views of the stored charges, beside the statements' snapshots.

Read-only. For a tenant, provider and date range the report groups the stored current
charges to usage-type lines in the database, prices them (non-marketplace lines by the
customer's pricebook version in force for each period, marketplace at cost) and rolls
them up through customer → cloud account → service category → usage type in both of
the seeds' rounding views (see :mod:`connector.domain.report_rounding`). A period with
generated statements is also shown as billed: the statements' locked detail rows and
lines, priced by the version they record, and the difference from the data as it
stands now. Periods not yet closed are marked provisional.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from connector.config.tenant import TenantConfig
from connector.contracts import BillingPeriod
from connector.domain.money import round_money
from connector.domain.report_rounding import LEVELS, Figures, bill_units, roll_up, zero_like
from connector.pipeline.close.finality import finality
from connector.pipeline.report import sql
from connector.pipeline.report.lines import Pricer, billed_lines, current_lines
from connector.pipeline.report.range import DateRange
from connector.progress import NO_PROGRESS, Progress
from connector.runtime.runtime import Runtime
from connector.storage import models as m

# How a period's "now" values are priced: the version in force for the period (what a
# statement built today would use), or the newest version in force on the report date
# (the seeds' live report of a past month at today's prices).
PRICING = ("period", "latest")


class ReportError(LookupError):
    """The report cannot be made as asked; the message says what would be valid."""


@dataclass(frozen=True, slots=True)
class PeriodStatus:
    """One billing period the range touches."""

    key: str
    start: dt.date
    end: dt.date
    closed_by: str | None  # provider | manual | business-days; None while open
    whole: bool  # every day of it is in the range: its statements can be compared
    statements: int

    @property
    def provisional(self) -> bool:
        """Not closed yet: the provider may still change these charges."""
        return self.closed_by is None


@dataclass(frozen=True, slots=True)
class StatementRef:
    id: str
    number: str | None
    status: str
    pricebook_version: str | None


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One row at the report's level; ``statements`` are the customer's for the period
    (usage and purchase); ``billed`` is None unless they are compared (whole period)."""

    level: str
    period: str
    currency: str
    customer_id: str
    customer_name: str
    account_id: str | None
    is_marketplace: bool | None
    service_category: str | None
    service_name: str | None
    usage_type: str | None
    line_item_type: str | None
    provisional: bool
    pricebook_version: str | None
    now: Figures
    statements: tuple[StatementRef, ...] = ()
    billed: Figures | None = None

    @property
    def change(self) -> Figures | None:
        """Now minus as billed."""
        return None if self.billed is None else self.now - self.billed


@dataclass(frozen=True, slots=True)
class ReportTotal:
    """The rows of one currency added up; ``billed``/``now_billed`` cover only the
    customers whose statements are compared, so their difference is the change."""

    currency: str
    now: Figures
    billed: Figures | None
    now_billed: Figures | None

    @property
    def change(self) -> Figures | None:
        if self.billed is None or self.now_billed is None:
            return None
        return self.now_billed - self.billed


@dataclass(frozen=True, slots=True)
class Report:
    tenant: str
    provider: str
    range: DateRange
    by: str
    as_of: dt.date
    pricing: str
    periods: tuple[PeriodStatus, ...]
    rows: tuple[ReportRow, ...]
    totals: tuple[ReportTotal, ...]
    unassigned: dict[tuple[str, str, str], Decimal] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def provisional(self) -> bool:
        """Some period of the report is not closed yet."""
        return any(p.provisional for p in self.periods)


def _closed_by(
    runtime: Runtime,
    session: Session,
    tenant: str,
    provider: str,
    period: BillingPeriod,
    final: bool,
    as_of: dt.date,
) -> str | None:
    # The close rule evaluated without recording anything: a report only reads.
    return finality(session, runtime.tenant(tenant), provider, period, final, as_of).signal


def _row(level: str, key: tuple, names: dict[str, str], **rest: Any) -> ReportRow:
    period, currency, customer = key[:3]
    account, marketplace, category, name, usage, item = list(key[3:]) + [None] * (9 - len(key))
    return ReportRow(level, period, currency, customer, names.get(customer, customer), account,
                     marketplace, category, name, usage, item, **rest)  # fmt: skip


def _periods(
    runtime: Runtime,
    session: Session,
    tenant: str,
    provider: str,
    days: DateRange,
    statements: Sequence[m.Statement],
    as_of: dt.date,
) -> list[PeriodStatus]:
    batches = sql.current_batches(session, tenant, provider, days.first, days.last)
    bounds = {start: end for start, end, _ in batches}
    bounds.update({s.period_start: s.period_end for s in statements})
    final = {start: is_final for start, _, is_final in batches}
    periods = []
    for start in sorted(bounds):
        period = BillingPeriod(start, bounds[start])
        closed = _closed_by(runtime, session, tenant, provider, period,
                            final.get(start, False), as_of)  # fmt: skip
        count = sum(1 for s in statements if s.period_start == start)
        periods.append(
            PeriodStatus(period.key, start, period.end, closed, days.covers(period), count)
        )
    return periods


def _validate(config: TenantConfig, provider: str, by: str, pricing: str,
              customers: Sequence[str] | None) -> None:  # fmt: skip
    if provider not in config.providers:
        raise ReportError(
            f"tenant {config.tenant!r} has no provider {provider!r} in its tenant file"
        )
    if by not in LEVELS:
        raise ReportError(f"--by {by!r} is not valid: use one of {', '.join(LEVELS)}")
    if pricing not in PRICING:
        raise ReportError(f"pricing {pricing!r} is not valid: use one of {', '.join(PRICING)}")
    known = {c.id for c in config.customers}
    if missing := sorted(set(customers or ()) - known):
        raise ReportError(f"tenant {config.tenant!r} has no customer {', '.join(missing)}")


def build_report(
    runtime: Runtime,
    tenant: str,
    provider: str,
    days: DateRange,
    by: str = "customer",
    customers: Sequence[str] | None = None,
    as_of: dt.date | None = None,
    pricing: str = "period",
    progress: Progress = NO_PROGRESS,
) -> Report:
    """The billing report of ``provider`` for ``days``, rows at level ``by``.

    ``customers`` limits it to those customer ids (unassigned accounts are then left
    out); ``as_of`` is the report date (today) that decides whether a period counts as
    closed and, with ``pricing="latest"``, which pricebook version prices it. Only
    statements of periods wholly inside ``days`` are compared with the data now.
    ``progress`` counts the usage-type groups and the statements read.
    """
    config = runtime.tenant(tenant)
    as_of = as_of or dt.date.today()
    customers = list(customers) if customers else None
    _validate(config, provider, by, pricing, customers)
    owners: dict[str, list[str]] = {}
    for customer in config.customers:
        for account in customer.accounts.get(provider, []):
            owners.setdefault(account, []).append(customer.id)
    pricer = Pricer(config, provider, pricing, as_of)

    with runtime.db.transaction() as session:
        statements = [
            s
            for s in sql.statements_in(session, tenant, provider, days.first, days.last)
            if not customers or s.customer_id in customers
        ]
        periods = _periods(runtime, session, tenant, provider, days, statements, as_of)
        keys = {p.start: p.key for p in periods}
        counts = _counts(progress)
        progress.stage(f"reading {provider} charges by usage type", unit="groups")
        now, unassigned = current_lines(session, tenant, provider, days, keys, owners,
                                        customers, pricer, counts)  # fmt: skip
        compared = [s for s in statements if days.covers(BillingPeriod(s.period_start,
                                                                       s.period_end))]  # fmt: skip
        progress.stage("reading statements as billed", total=len(compared), unit="statements")
        billed, billed_units = billed_lines(session, compared, keys, counts)

    mode = config.invoice_options.rounding
    now_units = bill_units(now.values(), config.invoice_options.group_by_cloud_account, mode)
    refs: dict[tuple[str, str], list[StatementRef]] = {}
    for s in statements:
        refs.setdefault((keys[s.period_start], s.customer_id), []).append(
            StatementRef(s.id, s.number, s.status, s.pricebook_version)
        )
    comparable = {(keys[s.period_start], s.customer_id) for s in compared}
    status = {p.key: p for p in periods}
    names = {c.id: c.name for c in config.customers}

    def rows_at(level: str) -> list[ReportRow]:
        current = roll_up(now.values(), level, now_units, mode)
        snapshot = roll_up(billed.values(), level, billed_units, mode)
        made = []
        for key in sorted(current.keys() | snapshot.keys(), key=_order):
            owner = (key[0], key[2])
            figures, was = current.get(key), snapshot.get(key)
            if figures is None:
                figures = zero_like(was)  # type: ignore[arg-type]
            if owner in comparable and was is None:
                was = zero_like(figures)
            made.append(
                _row(
                    level,
                    key,
                    names,
                    provisional=status[key[0]].provisional,
                    pricebook_version=pricer.used.get(owner),
                    now=figures,
                    statements=tuple(refs.get(owner, ())),
                    billed=was,
                )  # fmt: skip
            )
        return made

    rows = rows_at(by)
    # From customer rows: there the bill view is Σ whole statement lines.
    totals = totals_by_currency(rows if by == "customer" else rows_at("customer"))
    return Report(
        tenant=tenant,
        provider=provider,
        range=days,
        by=by,
        as_of=as_of,
        pricing=pricing,
        periods=tuple(periods),
        rows=tuple(rows),
        totals=totals,
        unassigned=unassigned,
        problems=_problems(tenant, provider, days, periods, pricer, unassigned, compared),
    )


def _counts(progress: Progress) -> sql.Progress:
    """The queries' callback (a stage's name and its count so far) as advances of
    ``progress``, whose stages :func:`build_report` starts."""
    reached: dict[str, int] = {}

    def update(stage: str, done: int) -> None:
        progress.advance(done - reached.get(stage, 0))
        reached[stage] = done

    return update


def totals_by_currency(rows: Sequence[ReportRow]) -> tuple[ReportTotal, ...]:
    """Per currency: the rows' sum now and, over the rows compared with a statement, the
    sums billed and now."""
    totals = []
    for currency in sorted({r.currency for r in rows}):
        mine = [r for r in rows if r.currency == currency]
        compared = [r for r in mine if r.billed is not None]
        totals.append(
            ReportTotal(
                currency,
                _sum(r.now for r in mine),
                _sum(r.billed for r in compared) if compared else None,  # type: ignore[misc]
                _sum(r.now for r in compared) if compared else None,
            )
        )
    return tuple(totals)


def _problems(
    tenant: str,
    provider: str,
    days: DateRange,
    periods: Sequence[PeriodStatus],
    pricer: Pricer,
    unassigned: dict[tuple[str, str, str], Decimal],
    compared: Sequence[m.Statement],
) -> tuple[str, ...]:
    problems = sorted(pricer.problems)
    if not periods:
        problems.append(
            f"no {provider} data is stored for {days.first}..{days.last}: run "
            f"`connector ingest --tenant {tenant} --provider {provider}` first"
        )
    for (period, currency, account), cost in sorted(unassigned.items()):
        problems.append(
            f"account {account} has {period} spend of {round_money(cost, currency)} {currency} "
            "but no customer: map "
            "it under customers[].accounts"
        )
    for s in compared:
        if not (s.options or {}).get("include_marketplace_fees", True):
            problems.append(
                f"statement {s.number or s.id} of customer {s.customer_id} was built without "
                "marketplace fees: its marketplace lines show as a change"
            )
    return tuple(problems)


def _order(key: tuple) -> tuple:
    # None sorts before text: a marketplace flag is bool, the rest strings.
    return tuple("" if part is None else str(part) for part in key)


def _sum(items: Iterable[Figures]) -> Figures:
    result = Figures()
    for item in items:
        result = result + item
    return result
