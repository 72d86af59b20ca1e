"""The review page: the seeds' "Preview Generated Billing Statements", server-rendered.

Drafts with their totals and the change against each customer's previous statement;
select some or all, then Approve, Approve all, Delete, View (the statement as the
customer will see it: the html renderer's output), Finish. Plain HTML forms; a small
script only adds a "select all" box. Log in with an operator key (see sessions.py).
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path as FilePath
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from connector.access.api_keys import key_is_active, verify_key
from connector.api.auth import runtime_of
from connector.api.errors import NotFound
from connector.api.queries import StatementFilter, find_visible, get_all_visible, previous_statement
from connector.api.rendering import render_statement
from connector.api.schemas import CURRENCY_PATTERN, IDENT, PERIOD_PATTERN
from connector.api.sessions import COOKIE, LOGIN_COOKIE, ReviewSession, SessionStore
from connector.api.throttle import subjects
from connector.domain import status_rules as rules
from connector.domain.diff import LineChange, diff_lines
from connector.domain.money import minor_units
from connector.pipeline.build.build import BuildError, delete_draft
from connector.pipeline.review.approve import ApprovalError, approve
from connector.runtime.runtime import Runtime
from connector.storage import models as m

router = APIRouter(prefix="/review", include_in_schema=False)
templates = Jinja2Templates(directory=FilePath(__file__).with_name("templates"))
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# The html renderer's output carries its own <style> and a data: logo, and nothing else.
VIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
# Referrer-Policy and (over HTTPS) Strict-Transport-Security are added to every
# response, these pages' included, by connector.api.guard.
HUNDRED = Decimal(100)


def _money(amount: Decimal, currency: str, sign: bool = False) -> str:
    """An amount to its currency's minor unit, with thousands separators."""
    return f"{amount:{'+' if sign else ''},.{minor_units(currency)}f}"


templates.env.filters["money"] = _money


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
        path="/review",
    )


def _page(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers["Content-Security-Policy"] = PAGE_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def current(request: Request) -> ReviewSession:
    """The reviewer's live session; its key must still be unrevoked."""
    session = sessions_of(request).get(request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired
    if not key_is_active(runtime_of(request), session.principal.key_id):
        sessions_of(request).end(request.cookies.get(COOKIE))
        raise LoginRequired
    request.state.principal = session.principal  # for the access line: its key id
    return session


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
class DraftRow:
    """One Draft as the page shows it, with what changed since the previous statement."""

    statement: m.Statement
    customer_name: str
    previous: m.Statement | None
    change: Decimal | None
    change_percent: Decimal | None
    line_changes: list[LineChange]


def draft_rows(runtime: Runtime, session: ReviewSession, wanted: StatementFilter) -> list[DraftRow]:
    """The tenant's Drafts (filtered), each compared with the customer's previous statement."""
    config = runtime.tenant(session.principal.tenant)
    names = {c.id: c.name for c in config.customers}
    rows = []
    with runtime.db.transaction() as db:
        drafts, _ = find_visible(db, session.principal, wanted)
        for draft in drafts:
            before = previous_statement(db, draft)
            change = percent = None
            changes: list[LineChange] = []
            if before is not None and before.currency == draft.currency:
                change = draft.total - before.total
                if before.total:
                    percent = (change * HUNDRED / before.total).quantize(Decimal("0.1"))
                changes = diff_lines(
                    [(line.description, line.amount) for line in before.lines],
                    [(line.description, line.amount) for line in draft.lines],
                )
            rows.append(
                DraftRow(draft, names.get(draft.customer_id, ""), before, change, percent, changes)
            )
    return rows


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
    return _page(
        request,
        "review.html",
        tenant=session.principal.tenant,
        rows=draft_rows(runtime, session, wanted),
        approved=_done_statements(runtime, session),
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
    response.delete_cookie(COOKIE, path="/review")
    return response
