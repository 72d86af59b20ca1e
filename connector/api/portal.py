"""The customer portal: one customer's statements, downloads, usage and credit.

The seeds' end-customer portal. A customer user (connector.access.users) sees its own
customer's statements that are Open, Past Due or Closed, never a Draft and never
another customer's: both answer 404 by id, as an unknown id does, so a customer learns
nothing of what exists. Statements are looked up through connector.api.queries (the
customer scoping the API's customer keys have) and rendered by connector.api.rendering
(the API's downloads, with its ``?currency=`` conversion at the tenant's rates).

The detailed CSV comes with the provider's cost left blank: beside the price it would
show the reseller's margin (rendering.without_costs). Month-to-date usage is the
report view of ``connector report`` (price only), marked provisional.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response

from connector.api.auth import runtime_of
from connector.api.errors import Conflict, NotFound
from connector.api.queries import StatementFilter, find_visible, get_visible
from connector.api.rendering import render_statement
from connector.api.schemas import CURRENCY_PATTERN, IDENT
from connector.api.sessions import CUSTOMER, ReviewSession, role_dependency
from connector.api.users import page
from connector.config.rates import tenant_rates
from connector.domain import status_rules as rules
from connector.domain.currency import MissingRate
from connector.domain.money import minor_units
from connector.pipeline import credits
from connector.pipeline.report.range import parse_range
from connector.pipeline.report.report import ReportError, build_report
from connector.runtime.runtime import Runtime

router = APIRouter(prefix="/portal", include_in_schema=False)
SHOWN = (rules.OPEN, rules.PAST_DUE, rules.CLOSED)
DOWNLOADS = {"pdf": "PDF", "csv": "CSV", "detailed-csv": "Detailed CSV", "ubl": "UBL (e-invoice)"}
VIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
Customer = Annotated[ReviewSession, Depends(role_dependency(CUSTOMER))]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Currency = Annotated[str | None, Query(pattern=CURRENCY_PATTERN)]


def today() -> dt.date:
    """The portal's today (month-to-date usage); tests replace it."""
    return dt.date.today()


def money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.{minor_units(currency)}f}"


@dataclass(frozen=True, slots=True)
class UsageLine:
    provider: str
    currency: str
    price: Decimal


def _not_found(ident: str) -> HTMLResponse:
    return HTMLResponse(f"<h1>No statement {ident[:64]!s}</h1>", status_code=404)


def _statement(runtime: Runtime, session: ReviewSession, ident: str):  # noqa: ANN202
    """The customer's statement ``ident`` when the portal shows it, else NotFound."""
    with runtime.db.transaction() as db:
        statement = get_visible(db, session.user, ident)
        if statement.status not in SHOWN:
            raise NotFound(f"no statement {ident!r}")
        db.expunge(statement)
        return statement


def _month_to_date(runtime: Runtime, who) -> list[UsageLine]:  # noqa: ANN001
    """The customer's usage this month, in the report view, per provider and currency."""
    config = runtime.tenant(who.tenant)
    customer = config.customer(who.customer_id)
    days = parse_range("month-to-date", today())
    found = []
    for provider in sorted(config.providers):
        if not customer.accounts.get(provider):
            continue
        try:
            report = build_report(runtime, who.tenant, provider, days, "customer",
                                  [who.customer_id], today())  # fmt: skip
        except ReportError:
            continue
        found += [UsageLine(provider, t.currency, t.now.price_report) for t in report.totals]
    return found


@router.get("")
def home(request: Request, runtime: RuntimeDep, session: Customer) -> Response:
    who = session.user
    config = runtime.tenant(who.tenant)
    with runtime.db.transaction() as db:
        statements = find_visible(db, who, StatementFilter())
        statements = [s for s in statements if s.status in SHOWN]
        for s in statements:
            db.expunge(s)
        balances = [b for b in credits.balances(db, who.tenant) if b.customer_id == who.customer_id]
    return page(
        request,
        "portal.html",
        tenant=who.tenant,
        customer=config.customer(who.customer_id).name,
        user=who,
        statements=statements,
        usage=_month_to_date(runtime, who),
        balances=balances,
        csrf=session.csrf,
        money=money,
        as_of=today(),
    )


def _currencies(runtime: Runtime, tenant: str, period: str, own: str) -> list[str]:
    """The currencies the statement can be shown in: its own and those the tenant's
    rates file converts it to for its period."""
    rates = tenant_rates(runtime.tenant(tenant)).rates
    return [own] + sorted({to for (p, src, to) in rates if p == period and src == own} - {own})


@router.get("/statements/{statement_id}")
def statement(
    request: Request,
    runtime: RuntimeDep,
    session: Customer,
    statement_id: Annotated[str, Path(**IDENT)],
    currency: Currency = None,
) -> Response:
    try:
        found = _statement(runtime, session, statement_id)
    except NotFound:
        return _not_found(statement_id)
    period = f"{found.period_start:%Y-%m}"
    choices = _currencies(runtime, session.user.tenant, period, found.currency)
    shown = currency if currency in choices else found.currency
    # The documents are converted by the renderer (its rounding); the page only says
    # at which rate, and links to them in the chosen currency.
    rate = tenant_rates(runtime.tenant(session.user.tenant)).rate(period, found.currency, shown)
    return page(
        request,
        "portal_statement.html",
        tenant=session.user.tenant,
        customer=runtime.tenant(session.user.tenant).customer(found.customer_id).name,
        last_day=found.period_end - dt.timedelta(days=1),  # period_end is exclusive
        user=session.user,
        statement=found,
        currency=shown,
        currencies=choices,
        rate=rate,
        downloads=DOWNLOADS,
        csrf=session.csrf,
        money=money,
    )


@router.get("/statements/{statement_id}/{fmt}")
def download(
    runtime: RuntimeDep,
    session: Customer,
    statement_id: Annotated[str, Path(**IDENT)],
    fmt: Annotated[str, Path(max_length=20)],
    currency: Currency = None,
) -> Response:
    """The statement as PDF, CSV, detailed CSV (no costs), UBL, or html (in the browser)."""
    if fmt not in {*DOWNLOADS, "html"}:
        return HTMLResponse(
            f"<h1>No format {fmt[:20]!s}: use pdf, csv, detailed-csv, ubl</h1>", 404
        )
    try:
        found = _statement(runtime, session, statement_id)
        rendered = render_statement(runtime, session.user, found.id, fmt, currency)
    except NotFound:
        return _not_found(statement_id)
    except (MissingRate, Conflict) as exc:
        return HTMLResponse(f"<h1>Cannot show this statement so</h1><p>{exc}</p>", 422)
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if fmt == "html":
        headers["Content-Security-Policy"] = VIEW_POLICY
    else:
        name = re.sub(r"[^A-Za-z0-9._-]", "_", rendered.filename)
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(rendered.content, media_type=rendered.media_type, headers=headers)
