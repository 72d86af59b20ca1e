"""The review page: the seeds' "Preview Generated Billing Statements", server-rendered.

Drafts with cost, price and margin beside their totals and the change against each
customer's previous statement, under a header with the batch's totals per currency and
the period's unassigned spend; select some or all, then Approve, Approve all, Delete,
View (the statement view: its figures, Approve and Delete, and the statement as the
customer will see it, the html renderer's output), Finish. Plain HTML forms; a small
script adds a "select all" box and asks for confirmation, naming how many statements
and what total, before anything is approved or deleted. Log in with an operator key
(see sessions.py).

Cost, price and margin are those of `connector reconcile` (one reconciliation per
provider and period shown), so the page and the reconciliation report never disagree.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path as FilePath
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from connector.access.api_keys import verify_key
from connector.api.auth import runtime_of
from connector.api.errors import NotFound
from connector.api.pages import page_renderer
from connector.api.queries import StatementFilter, find_visible, get_all_visible, previous_statement
from connector.api.rendering import render_statement
from connector.api.schemas import CURRENCY_PATTERN, IDENT, PERIOD_PATTERN
from connector.api.sessions import (
    COOKIE,
    LOGIN_COOKIE,
    OPERATOR,
    REVIEWER,
    ReviewSession,
    SessionStore,
    SignInRequired,
    require_role,
)
from connector.api.throttle import subjects
from connector.domain import status_rules as rules
from connector.domain.diff import LineChange, diff_lines
from connector.domain.money import minor_units
from connector.domain.periods import parse_period
from connector.pipeline.build.build import BuildError, delete_draft
from connector.pipeline.reconcile.reconcile import (
    CustomerReconciliation,
    ReconcileError,
    Reconciliation,
    UnassignedAccount,
    reconcile,
)
from connector.pipeline.review.approve import ApprovalError, approve
from connector.runtime.runtime import Runtime
from connector.storage import models as m

router = APIRouter(prefix="/review", include_in_schema=False)
templates = Jinja2Templates(directory=FilePath(__file__).with_name("templates"))
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The html renderer's output carries its own <style> and a data: logo, and nothing else;
# only the statement view (same origin) may frame it.
VIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
)
# Referrer-Policy and (over HTTPS) Strict-Transport-Security are added to every
# response, these pages' included, by connector.api.guard.
HUNDRED = Decimal(100)
TENTH = Decimal("0.1")


def _money(amount: Decimal, currency: str, sign: bool = False) -> str:
    """An amount to its currency's minor unit, with thousands separators."""
    return f"{amount:{'+' if sign else ''},.{minor_units(currency)}f}"


def _minor(amount: Decimal, currency: str) -> int:
    """An amount in its currency's minor units (cents): what the page's script adds up,
    as integers, to say the total of a selection (never a float)."""
    digits = minor_units(currency)
    return int(amount.quantize(Decimal(1).scaleb(-digits)).scaleb(digits))


templates.env.filters["money"] = _money
templates.env.filters["minor"] = _minor
templates.env.globals["minor_units"] = minor_units


class LoginRequired(Exception):
    """No live session: the reviewer is sent to the login form."""


def sessions_of(request: Request) -> SessionStore:
    return request.app.state.review_sessions


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/" if name == COOKIE else "/review",  # the session serves every page
    )


_page = page_renderer(templates, PAGE_POLICY)


def current(request: Request) -> ReviewSession:
    """The reviewer's live session: an operator or reviewer user, or an operator key
    (still unrevoked); another role gets 403 (connector.api.sessions.require_role)."""
    try:
        return require_role(request, OPERATOR, REVIEWER)
    except SignInRequired:
        raise LoginRequired from None


Reviewer = Annotated[ReviewSession, Depends(current)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


def to_login(_: Request, __: Exception) -> Response:
    return RedirectResponse("/review/login", status_code=303)


# ----------------------------------------------------------------------------- login


@router.get("/login")
def login_form(request: Request) -> Response:
    # A token in a cookie and the form both: a login posted from another site (to log
    # the reviewer in with someone else's key) has no way to match them.
    token = secrets.token_urlsafe(32)
    response = _page(request, "login.html", login_token=token, error=None)
    _set_cookie(request, response, LOGIN_COOKIE, token)
    return response


@router.post("/login")
def login(
    request: Request,
    runtime: RuntimeDep,
    key: Annotated[str, Form(max_length=200)] = "",
    login_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(login_token.encode(), expected.encode()):
        return _page(
            request, "login.html", 403, login_token="", error="The form expired: reload the page."
        )
    # The guard has refused an address locked out already; here the key id's bucket.
    throttle = request.app.state.auth_throttle
    found = subjects(request.client.host if request.client else None, key)
    wait = throttle.retry_after(found)
    if wait is not None:
        response = _page(request, "login.html", 429, login_token="",
                         error=f"Too many failed logins: try again in {wait} seconds.")  # fmt: skip
        response.headers["Retry-After"] = str(wait)
        return response
    principal = verify_key(runtime, key) if key else None
    if principal is None or principal.scope != "operator":
        throttle.failed(found)
        token = secrets.token_urlsafe(32)
        response = _page(
            request,
            "login.html",
            401,
            login_token=token,
            error="That is not a valid operator API key.",
        )
        _set_cookie(request, response, LOGIN_COOKIE, token)
        return response
    session_id, _ = sessions_of(request).start(principal)
    request.state.principal = principal
    response = RedirectResponse("/review", status_code=303)
    _set_cookie(request, response, COOKIE, session_id)
    response.delete_cookie(LOGIN_COOKIE, path="/review")
    return response


# ----------------------------------------------------------------------------- drafts


@dataclass(frozen=True, slots=True)
class Margin:
    """Cost, price and margin of one statement, as ``connector reconcile`` has them.

    ``price`` is the statement's price lines (before tax, support and discounts) and
    ``margin`` what the reseller keeps of it, both in the statement's currency. ``cost``
    is ``price - margin``: what the provider bills for the customer, converted at the
    statement's recorded rate, provider credits passed on netted. Without a recorded
    rate nothing relates the two currencies: ``cost`` is None and the provider's
    ``billed_cost`` stands apart in ``cost_currency``.
    """

    price: Decimal
    cost: Decimal | None
    margin: Decimal | None
    percent: Decimal | None
    billed_cost: Decimal
    cost_currency: str


def margin_of(customer: CustomerReconciliation) -> Margin | None:
    """The figures of the customer's reconciled statement (None when none was built)."""
    if customer.price is None:
        return None
    margin, price = customer.margin, customer.price
    percent = None
    if margin is not None and price:
        percent = (margin * HUNDRED / price).quantize(TENTH)
    return Margin(
        price=price,
        cost=None if margin is None else price - margin,
        margin=margin,
        percent=percent,
        billed_cost=customer.billable_cost,
        cost_currency=customer.cost_currency,
    )


@dataclass(frozen=True, slots=True)
class DraftRow:
    """One Draft as the page shows it, with what changed since the previous statement."""

    statement: m.Statement
    customer_name: str
    previous: m.Statement | None
    change: Decimal | None
    change_percent: Decimal | None
    line_changes: list[LineChange]
    provider_name: str = ""
    #: None for an upfront-purchase statement (its cost is in its usage statement's
    #: figures) and when the period cannot be reconciled.
    figures: Margin | None = None


@dataclass(frozen=True, slots=True)
class Unassigned:
    """Accounts with spend but no customer in one provider's period: not on any statement
    until the tenant file maps them (``customers[].accounts.<provider>``)."""

    provider: str
    provider_name: str
    period: str
    currency: str
    accounts: tuple[UnassignedAccount, ...]

    @property
    def billable_cost(self) -> Decimal:
        return sum((a.billable_cost for a in self.accounts), Decimal(0))


@dataclass(frozen=True, slots=True)
class ReviewHeader:
    """The batch's totals per currency (count and Σ total) and the unassigned spend."""

    totals: dict[str, tuple[int, Decimal]] = field(default_factory=dict)
    unassigned: list[Unassigned] = field(default_factory=list)
    #: Provider periods that could not be reconciled, with why.
    unreconciled: list[str] = field(default_factory=list)


def currency_totals(statements: Iterable[m.Statement]) -> dict[str, tuple[int, Decimal]]:
    """How many statements and what they total, per currency (sorted by code): amounts
    in different currencies are never added together."""
    found: dict[str, tuple[int, Decimal]] = {}
    for s in statements:
        count, amount = found.get(s.currency, (0, Decimal(0)))
        found[s.currency] = (count + 1, amount + s.total)
    return dict(sorted(found.items()))


def confirmation(verb: str, statements: Sequence[m.Statement]) -> str:
    """What the reviewer confirms before ``verb`` ("Approve", "Delete") acts: how many
    statements and their total per currency. review.js builds the same sentence for a
    selection; the browser test holds the two to each other."""
    totals = currency_totals(statements)
    count = sum(n for n, _ in totals.values())
    amounts = " + ".join(f"{_money(amount, c)} {c}" for c, (_, amount) in totals.items())
    noun = "statement" if count == 1 else "statements"
    return f"{verb} {count} {noun} totalling {amounts}?"


def _reconciled(
    runtime: Runtime, tenant: str, keys: set[tuple[str, str]]
) -> tuple[dict[tuple[str, str], Reconciliation], list[str]]:
    """One reconciliation per (provider, period) shown; why any could not be made."""
    found, problems = {}, []
    for provider, period in sorted(keys):
        try:
            found[provider, period] = reconcile(runtime, tenant, provider, parse_period(period))
        except ReconcileError as exc:
            problems.append(f"{provider} {period}: {exc}")
    return found, problems


def draft_rows(runtime: Runtime, session: ReviewSession, wanted: StatementFilter) -> list[DraftRow]:
    """The tenant's Drafts (filtered), each compared with the customer's previous statement."""
    return review_data(runtime, session, wanted)[0]


def review_data(
    runtime: Runtime, session: ReviewSession, wanted: StatementFilter
) -> tuple[list[DraftRow], ReviewHeader]:
    """The Drafts as the page lists them, and the header above them."""
    tenant = session.principal.tenant
    config = runtime.tenant(tenant)
    names = {c.id: c.name for c in config.customers}
    rows = []
    with runtime.db.transaction() as db:
        drafts = find_visible(db, session.principal, wanted)
        for draft in drafts:
            before = previous_statement(db, draft)
            change = percent = None
            changes: list[LineChange] = []
            if before is not None and before.currency == draft.currency:
                change = draft.total - before.total
                if before.total:
                    percent = (change * HUNDRED / before.total).quantize(TENTH)
                changes = diff_lines(
                    [(line.description, line.amount) for line in before.lines],
                    [(line.description, line.amount) for line in draft.lines],
                )
            rows.append(
                DraftRow(draft, names.get(draft.customer_id, ""), before, change, percent, changes)
            )
    keys = {(r.statement.provider, r.statement.period_start.strftime("%Y-%m")) for r in rows}
    reconciled, problems = _reconciled(runtime, tenant, keys)
    figures: dict[str, Margin | None] = {}
    for rec in reconciled.values():
        for customer in rec.customers:
            if customer.statement is not None:
                figures[customer.statement.id] = margin_of(customer)
    shown = []
    for row in rows:
        s = row.statement
        shown.append(
            DraftRow(
                s, row.customer_name, row.previous, row.change, row.change_percent,
                row.line_changes, provider_label(runtime, tenant, s.provider), figures.get(s.id),
            )
        )  # fmt: skip
    unassigned = [
        Unassigned(
            rec.provider,
            provider_label(runtime, tenant, rec.provider),
            rec.period,
            rec.currency,
            rec.unassigned,
        )
        for rec in reconciled.values()
        if rec.unassigned
    ]
    header = ReviewHeader(currency_totals(r.statement for r in shown), unassigned, problems)
    return shown, header


def provider_label(runtime: Runtime, tenant: str, key: str) -> str:
    """The tenant's provider ``key`` as people name it: its plugin's display name."""
    settings = runtime.tenant(tenant).providers.get(key)
    plugin = (settings.plugin if settings is not None else None) or key
    return runtime.plugins.providers.display_name(plugin)


def _done_statements(runtime: Runtime, session: ReviewSession) -> list[m.Statement]:
    """Statements this session approved, as they are now (numbered, Open or later)."""
    approved = [ident for action, ident in session.done if action == "approve"]
    if not approved:
        return []
    with runtime.db.transaction() as db:
        found = []
        for ident in approved:
            try:
                found += get_all_visible(db, session.principal, [ident])
            except NotFound:  # changed hands since; nothing to show
                continue
        return sorted(found, key=lambda s: s.number or "")


@router.get("")
def review(
    request: Request,
    runtime: RuntimeDep,
    session: Reviewer,
    provider: Annotated[str, Query(max_length=64)] = "",
    period: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    # The filter form sends empty fields as "": no filter, rather than invalid input.
    provider, period = provider.strip(), period.strip()
    message = session.flash
    session.flash = None
    if period and not re.fullmatch(PERIOD_PATTERN, period):
        message, period = f"Period {period!r} is not YYYY-MM (e.g. 2026-10).", ""
    wanted = StatementFilter(provider=provider or None, period=period or None, status="Draft")
    rows, header = review_data(runtime, session, wanted)
    approved = _done_statements(runtime, session)
    tenant = session.principal.tenant
    return _page(
        request,
        "review.html",
        tenant=tenant,
        rows=rows,
        header=header,
        approve_all=confirmation("Approve", [r.statement for r in rows]) if rows else "",
        approved=approved,
        provider_names={s.provider: provider_label(runtime, tenant, s.provider) for s in approved},
        deleted=sum(1 for action, _ in session.done if action == "delete"),
        csrf=session.csrf,
        provider=provider,
        period=period,
        message=message,
    )


def _back(session: ReviewSession, message: str, provider: str, period: str) -> RedirectResponse:
    """Back to the list (its filters kept), the outcome shown once from the session:
    a message in the URL could be written by anyone who sends the reviewer a link."""
    session.flash = message
    query = urlencode({k: v for k, v in (("provider", provider), ("period", period)) if v})
    return RedirectResponse(f"/review?{query}" if query else "/review", status_code=303)


def _not_approvable(statements: list[m.Statement], tenant: str) -> list[str]:
    """Why each statement that approval may not make Open cannot be (the lifecycle rule
    the CLI, the API and the daemon use): the page lists Drafts, but a form can name
    any statement, a credit note or one approved in another tab meanwhile."""
    return [
        problem
        for s in statements
        if (
            problem := rules.refusal(
                s.kind, s.status, rules.OPEN, name=s.number or s.id, ident=s.id,
                tenant=tenant, by=rules.APPROVAL,
            )
        )
    ]  # fmt: skip


@router.post("/action")
def action(
    request: Request,
    runtime: RuntimeDep,
    session: Reviewer,
    action: Annotated[str, Form(max_length=20)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    ids: Annotated[list[str], Form(max_length=500)] = (),  # type: ignore[assignment]
    listed: Annotated[list[str], Form(max_length=5000)] = (),  # type: ignore[assignment]
    provider: Annotated[str, Form(max_length=64)] = "",
    period: Annotated[str, Form(max_length=7)] = "",
) -> Response:
    """Approve the selected Drafts, approve every Draft the page listed, or delete the
    selected ones. "Approve all" means what the reviewer saw: a Draft generated after the
    page was loaded is left for the next look."""
    if not session.csrf_ok(csrf):
        return _page(request, "login.html", 403, login_token="", error="The form expired.")
    who = session.principal
    chosen = list(listed) if action == "approve-all" else list(ids)
    if action not in {"approve", "approve-all", "delete"}:
        return _back(session, f"unknown action {action!r}", provider, period)
    if not chosen:
        return _back(session, "Select one or more statements first.", provider, period)
    try:
        with runtime.db.transaction() as db:
            statements = get_all_visible(db, who, chosen)
            refused = [] if action == "delete" else _not_approvable(statements, who.tenant)
            if refused:
                message = f"Nothing was changed: {'; '.join(refused)}"
                return _back(session, message, provider, period)
            if action == "delete":
                for statement in statements:
                    delete_draft(db, who.tenant, statement, who.actor)
        if action == "delete":
            session.done += [("delete", s.id) for s in statements]
            return _back(session, f"Deleted {len(statements)} draft(s).", provider, period)
        approved = approve(runtime, who.tenant, [s.id for s in statements], who.actor)
    except (NotFound, ApprovalError, BuildError) as exc:
        return _back(session, f"Nothing was changed: {exc}", provider, period)
    session.done += [("approve", s.id) for s in approved]
    numbers = ", ".join(s.number or s.id for s in approved)
    return _back(session, f"Approved {len(approved)} statement(s): {numbers}.", provider, period)


@router.get("/statements/{statement_id}")
def view(
    request: Request,
    runtime: RuntimeDep,
    session: Reviewer,
    statement_id: Annotated[str, Path(**IDENT)],
    currency: Annotated[str | None, Query(pattern=CURRENCY_PATTERN)] = None,
) -> Response:
    """The statement view: its figures, Approve and Delete while it is a Draft, and the
    statement as the customer will see it (framed from the ``document`` route)."""
    who = session.principal
    with runtime.db.transaction() as db:
        try:
            (statement,) = get_all_visible(db, who, [statement_id])
        except NotFound:
            return HTMLResponse("<h1>No such statement</h1>", status_code=404)
        before = previous_statement(db, statement)
    period = statement.period_start.strftime("%Y-%m")
    reconciled, problems = _reconciled(runtime, who.tenant, {(statement.provider, period)})
    figures = next(
        (
            margin_of(c)
            for rec in reconciled.values()
            for c in rec.customers
            if c.statement is not None and c.statement.id == statement.id
        ),
        None,
    )
    change = None
    if before is not None and before.currency == statement.currency:
        change = statement.total - before.total
    names = {c.id: c.name for c in runtime.tenant(who.tenant).customers}
    query = f"?{urlencode({'currency': currency})}" if currency else ""
    return _page(
        request,
        "statement.html",
        tenant=who.tenant,
        s=statement,
        customer_name=names.get(statement.customer_id, ""),
        provider_name=provider_label(runtime, who.tenant, statement.provider),
        figures=figures,
        previous=before,
        change=change,
        problems=problems,
        csrf=session.csrf,
        document=f"/review/statements/{statement.id}/document{query}",
        confirm_approve=confirmation("Approve", [statement]),
        confirm_delete=confirmation("Delete", [statement]),
    )


@router.get("/statements/{statement_id}/document")
def document(
    runtime: RuntimeDep,
    session: Reviewer,
    statement_id: Annotated[str, Path(**IDENT)],
    currency: Annotated[str | None, Query(pattern=CURRENCY_PATTERN)] = None,
) -> Response:
    """The statement as the customer will see it (a Draft carries the renderer's mark)."""
    try:
        rendered = render_statement(runtime, session.principal, statement_id, "html", currency)
    except NotFound:
        return HTMLResponse("<h1>No such statement</h1>", status_code=404)
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Security-Policy": VIEW_POLICY, "Cache-Control": "no-store"},
    )


@router.post("/finish")
def finish(
    request: Request,
    session: Reviewer,
    runtime: RuntimeDep,
    csrf: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """End the review: a summary of what this session did, and the session is gone."""
    if not session.csrf_ok(csrf):
        return _page(request, "login.html", 403, login_token="", error="The form expired.")
    approved = _done_statements(runtime, session)
    deleted = sum(1 for action, _ in session.done if action == "delete")
    sessions_of(request).end(request.cookies.get(COOKIE))
    response = _page(
        request, "finished.html", tenant=session.principal.tenant, approved=approved,
        deleted=deleted,
    )  # fmt: skip
    response.delete_cookie(COOKIE, path="/")
    return response
