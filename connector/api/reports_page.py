"""The reports page: the seeds' Reports module in the browser, read-only.

Pick a provider's report, a date range (month to date, last month, a custom range) and
one or more customers; see the rows in the report view and the bill view with their
difference, drill down customer → cloud account → service category → usage type, and
download the CSV of what is shown. Two charts (spend and margin by month and by
service) are drawn on the server as SVG (:mod:`connector.api.report_charts`).

The numbers come from :func:`connector.pipeline.report.report.build_report` and the CSV
from :func:`connector.pipeline.report.output.to_csv`, the functions ``connector report``
uses, so the page, its CSV and the command agree to the cent. Every route is GET: the
page changes nothing, so it has no form to protect from cross-site posting.

Operators, reviewers and read-only users may see it (sessions.require_role); customer
users may not: the report shows the reseller's cost and margin.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path as FilePath
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from fastapi.templating import Jinja2Templates

from connector.api.auth import runtime_of
from connector.api.pages import page_renderer
from connector.api.report_charts import Group, Series, bar_chart
from connector.api.review import PAGE_POLICY
from connector.api.sessions import OPERATOR, READ_ONLY, REVIEWER, ReviewSession, role_dependency
from connector.domain.money import minor_units
from connector.domain.report_rounding import LEVELS, Figures
from connector.pipeline.report.output import to_csv
from connector.pipeline.report.range import DateRange, parse_range
from connector.pipeline.report.report import (
    Report,
    ReportError,
    ReportRow,
    build_report,
    totals_by_currency,
)
from connector.runtime.runtime import Runtime

PREFIX = "/reports"
router = APIRouter(prefix=PREFIX, include_in_schema=False)
templates = Jinja2Templates(directory=FilePath(__file__).with_name("templates"))
# Who may read reports: everyone of the reseller's staff; never a customer user (the
# report shows cost and margin).
READERS = (OPERATOR, REVIEWER, READ_ONLY)
Reader = Annotated[ReviewSession, Depends(role_dependency(*READERS))]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]

# The report date; tests replace it (as connector.cli.report.clock).
clock: Callable[[], dt.date] = dt.date.today

RANGES = {"month-to-date": "Month to date", "last-month": "Last month", "custom": "Custom range"}
NEXT_LEVEL = dict(zip(LEVELS, LEVELS[1:], strict=False))
LEVEL_NAMES = {
    "customer": "Customer",
    "account": "Cloud account",
    "service": "Service category",
    "usage-type": "Usage type",
}
SPEND = Series("Spend", "bar-spend")
MARGIN = Series("Margin", "bar-margin")
HUNDRED = Decimal(100)


def _money(amount: Decimal, currency: str, sign: bool = False) -> str:
    """An amount to its currency's minor unit, with thousands separators; a row whose
    difference rounds to nothing shows 0.00, not -0.00."""
    shown = amount.quantize(Decimal(1).scaleb(-minor_units(currency)))
    return f"{shown if shown else shown.copy_abs():{'+' if sign else ''},f}"


templates.env.filters["money"] = _money


_page = page_renderer(templates, PAGE_POLICY)


@dataclass(frozen=True, slots=True)
class Asked:
    """What the page was asked to show: the form's fields and the drill-down path."""

    provider: str
    range: str
    first: str
    last: str
    customers: tuple[str, ...]
    by: str
    account: str
    category: str
    marketplace: str  # "1", "0" or "" (any)

    def query(self, **changes: object) -> str:
        """The query string of this view with ``changes``: links keep every choice."""
        fields = {
            "provider": self.provider,
            "range": self.range,
            "from": self.first if self.range == "custom" else "",
            "to": self.last if self.range == "custom" else "",
            "customer": list(self.customers),
            "by": self.by,
            "account": self.account,
            "category": self.category,
            "marketplace": self.marketplace,
        }
        fields.update(changes)
        pairs = [
            (k, v)
            for k, value in fields.items()
            for v in (value if isinstance(value, list) else [value])
            if v not in ("", None)
        ]
        return urlencode(pairs)

    def spec(self) -> str:
        """The range as ``connector report --range`` takes it."""
        return f"{self.first}..{self.last}" if self.range == "custom" else self.range


Customers = Annotated[list[str], Query(alias="customer", max_length=100)]


def _asked(
    runtime: RuntimeDep,
    session: Reader,
    provider: Annotated[str, Query(max_length=64)] = "",
    range_: Annotated[str, Query(alias="range", max_length=20)] = "month-to-date",
    first: Annotated[str, Query(alias="from", max_length=10)] = "",
    last: Annotated[str, Query(alias="to", max_length=10)] = "",
    customers: Customers = [],  # noqa: B006 (FastAPI copies defaults)
    by: Annotated[str, Query(max_length=20)] = "customer",
    account: Annotated[str, Query(max_length=64)] = "",
    category: Annotated[str, Query(max_length=200)] = "",
    marketplace: Annotated[str, Query(max_length=1)] = "",
) -> Asked:
    """The view the query string asks for, every choice checked (a dependency of both
    the page and its CSV)."""
    config = runtime.tenant(session.principal.tenant)
    provider = provider.strip() or next(iter(config.providers), "")
    return Asked(
        provider,
        range_ if range_ in RANGES else "month-to-date",
        first.strip(),
        last.strip(),
        tuple(c.strip() for c in customers if c.strip()),
        by if by in LEVELS else "customer",
        account.strip(),
        category.strip(),
        marketplace if marketplace in ("0", "1") else "",
    )


def _shown(report: Report, asked: Asked) -> Report:
    """The report narrowed to the drill-down path (an account, a service category), its
    totals those of the rows left. Without a path it is the report as built."""
    if not (asked.account or asked.category):
        return report
    rows = tuple(
        r
        for r in report.rows
        if (not asked.account or r.account_id == asked.account)
        and (not asked.category or r.service_category == asked.category)
        and (not asked.marketplace or r.is_marketplace == (asked.marketplace == "1"))
    )
    return replace(report, rows=rows, totals=totals_by_currency(rows))


def _report(runtime: Runtime, tenant: str, asked: Asked, by: str) -> Report:
    days = parse_range(asked.spec(), clock())
    # A drill-down below the customer narrows to that customer in the query itself.
    return build_report(runtime, tenant, asked.provider, days, by, asked.customers or None,
                        clock())  # fmt: skip


def _charts(report: Report) -> list:
    """Spend and margin (report view) by month and by service category, per currency."""
    charts = []
    for currency in sorted({r.currency for r in report.rows}):
        by_month: dict[str, Figures] = defaultdict(Figures)
        by_service: dict[str, Figures] = defaultdict(Figures)
        for row in report.rows:
            if row.currency != currency:
                continue
            by_month[row.period] = by_month[row.period] + row.now
            category = row.service_category or "(none)"
            if row.is_marketplace:
                category = f"Marketplace: {category}"
            by_service[category] = by_service[category] + row.now
        months = [Group(k, (f.cost_report, f.margin_report)) for k, f in sorted(by_month.items())]
        services = sorted(by_service.items(), key=lambda item: -item[1].cost_report)
        charts.append(
            bar_chart(
                f"Spend and margin by month ({currency})",
                (SPEND, MARGIN),
                months,
                currency,
                f"chart-months-{currency}",
            )  # fmt: skip
        )
        charts.append(
            bar_chart(
                f"Spend and margin by service ({currency})",
                (SPEND, MARGIN),
                [Group(k, (f.cost_report, f.margin_report)) for k, f in services],
                currency,
                f"chart-services-{currency}",
            )
        )
    return charts


def _crumbs(asked: Asked, shown: Report) -> list[tuple[str, str]]:
    """The drill-down path back up: (label, query) from all customers to the current level."""
    crumbs = [("All customers", asked.query(by="customer", customer=[], account="",
                                            category="", marketplace=""))]  # fmt: skip
    if asked.by == "customer":
        return crumbs
    customer = ", ".join(asked.customers) or "every customer"
    crumbs.append((f"Customer {customer}", asked.query(by="account", account="", category="",
                                                        marketplace="")))  # fmt: skip
    if asked.account:
        crumbs.append((f"Account {asked.account}", asked.query(by="service", category="",
                                                                marketplace="")))  # fmt: skip
    if asked.category:
        crumbs.append((f"Service {asked.category}", asked.query()))
    return crumbs


def _drill(asked: Asked, row: ReportRow) -> str | None:
    """The query one level down from ``row``, or None at the usage type."""
    level = NEXT_LEVEL.get(row.level)
    if level is None:
        return None
    changes: dict[str, object] = {"by": level, "customer": [row.customer_id]}
    if row.account_id:
        changes["account"] = row.account_id
    if row.level == "service":
        changes["category"] = row.service_category or ""
        changes["marketplace"] = "1" if row.is_marketplace else "0"
    return asked.query(**changes)


def _label(row: ReportRow) -> str:
    if row.level == "customer":
        return f"{row.customer_id} {row.customer_name}"
    if row.level == "account":
        return row.account_id or ""
    category = row.service_category or ""
    if row.is_marketplace:
        category = f"Marketplace: {category}"
    if row.level == "service":
        return category
    return f"{row.usage_type} ({row.line_item_type})"


def _margin_percent(figures: Figures) -> Decimal | None:
    if not figures.price_report:
        return None
    return (figures.margin_report * HUNDRED / figures.price_report).quantize(Decimal("0.1"))


AskedDep = Annotated[Asked, Depends(_asked)]


@router.get("")
def reports(
    request: Request,
    runtime: RuntimeDep,
    session: Reader,
    asked: AskedDep,
) -> Response:
    """The report page: the form, the rows at one level, totals in both views, charts."""
    tenant = session.principal.tenant
    config = runtime.tenant(tenant)
    context: dict[str, object] = {
        "tenant": tenant,
        "asked": asked,
        "ranges": RANGES,
        "providers": list(config.providers),
        "all_customers": [(c.id, c.name) for c in config.customers],
        "level_name": LEVEL_NAMES[asked.by],
        "prefix": PREFIX,
        "report": None,
        "error": None,
    }
    try:
        report = _shown(_report(runtime, tenant, asked, asked.by), asked)
        chart_source = report if asked.by == "service" and not asked.account else None
        if chart_source is None:
            chart_source = _shown(_report(runtime, tenant, asked, "service"), asked)
    except (ValueError, ReportError) as exc:
        context["error"] = str(exc)
        return _page(request, "reports.html", 422, **context)
    context.update(
        report=report,
        rows=[(r, _label(r), _drill(asked, r), _margin_percent(r.now)) for r in report.rows],
        totals=[(t, _margin_percent(t.now)) for t in report.totals],
        compare=any(r.billed is not None for r in report.rows),
        crumbs=_crumbs(asked, report),
        charts=_charts(chart_source),
        csv_link=f"{PREFIX}/report.csv?{asked.query()}",
    )
    return _page(request, "reports.html", **context)


@router.get("/report.csv")
def reports_csv(
    runtime: RuntimeDep,
    session: Reader,
    asked: AskedDep,
) -> Response:
    """The CSV of what the page shows: ``connector report --format csv``'s columns."""
    tenant = session.principal.tenant
    try:
        report = _shown(_report(runtime, tenant, asked, asked.by), asked)
    except (ValueError, ReportError) as exc:
        return Response(f"{exc}\n", status_code=422, media_type="text/plain; charset=utf-8")
    days: DateRange = report.range
    name = f"report-{tenant}-{asked.provider}-{days.first}-{days.last}-{asked.by}.csv"
    return Response(
        to_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
