"""Sign-in and logout for people: ``/login`` (name and password) and ``/logout``.

A signed-in session (connector.api.sessions) carries the user; every page checks the
role with :func:`~connector.api.sessions.require_role`. The sign-in form is protected
like the review page's: a token in a cookie and in the form (a sign-in posted from
another site cannot match them), failures throttled per address and per user name
(connector.api.throttle), and one answer for an unknown name, a wrong password and a
disabled user.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from connector.access.users import sign_in
from connector.api.pages import page_renderer
from connector.api.sessions import (
    COOKIE,
    CUSTOMER,
    LOGIN_COOKIE,
    RoleRefused,
    SessionUser,
    SignInRequired,
)
from connector.api.throttle import subjects

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=FilePath(__file__).with_name("templates"))
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Where each role lands after sign-in when no page asked for it.
HOME = {CUSTOMER: "/portal"}
DEFAULT_HOME = "/review"


#: A server-rendered page with the headers every page of the console carries.
page = page_renderer(templates, PAGE_POLICY)


def set_cookie(request: Request, response: Response, name: str, value: str, path: str) -> None:
    response.set_cookie(name, value, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path=path)  # fmt: skip


def _local(target: str) -> str:
    """``target`` when it is a path of this site, else "": never a redirect elsewhere."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return ""


def _form(request: Request, status: int, error: str | None, next_page: str) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", status, login_token=token, error=error,
                    users_form=True, next_page=next_page)  # fmt: skip
    set_cookie(request, response, LOGIN_COOKIE, token, "/login")
    return response


@router.get("/login")
def login_form(
    request: Request, next_page: Annotated[str, Query(alias="next", max_length=500)] = ""
) -> Response:
    return _form(request, 200, None, _local(next_page))


@router.post("/login")
async def login(
    request: Request,
    name: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=200)] = "",
    login_token: Annotated[str, Form(max_length=100)] = "",
    next_page: Annotated[str, Form(alias="next", max_length=500)] = "",
) -> Response:
    next_page = _local(next_page)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(login_token.encode(), expected.encode()):
        return _form(request, 403, "The form expired: sign in again.", next_page)
    throttle = request.app.state.auth_throttle
    found = subjects(request.client.host if request.client else None, None)
    found += (f"user {name.strip().lower()}",)
    wait = throttle.retry_after(found)
    if wait is not None:
        response = _form(request, 429, f"Too many failed sign-ins: try again in {wait} seconds.",
                         next_page)  # fmt: skip
        response.headers["Retry-After"] = str(wait)
        return response
    who = await run_in_threadpool(sign_in, request.app.state.runtime, name.strip(), password)
    if who is None:
        throttle.failed(found)
        return _form(request, 401, "That name and password do not match an active user.",
                     next_page)  # fmt: skip
    user = SessionUser(who.id, who.name, who.role, who.tenant, who.customer_id)
    session_id, _ = request.app.state.review_sessions.start(user)
    request.state.principal = user
    response = RedirectResponse(next_page or HOME.get(user.role, DEFAULT_HOME), status_code=303)
    set_cookie(request, response, COOKIE, session_id, "/")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    """End the session (its CSRF token must come with the form) and go to sign-in."""
    store = request.app.state.review_sessions
    session_id = request.cookies.get(COOKIE)
    session = store.get(session_id)
    if session is not None and not session.csrf_ok(csrf):
        return page(request, "login.html", 403, login_token="", users_form=True,
                    error="The form expired: reload the page and log out again.")  # fmt: skip
    store.end(session_id)
    response = page(request, "login.html", login_token="", users_form=True,
                    error=None, logged_out=True)  # fmt: skip
    response.delete_cookie(COOKIE, path="/")
    return response


def to_sign_in(request: Request, exc: Exception) -> Response:
    """SignInRequired: to the form, coming back to the page asked for afterwards."""
    path = exc.path if isinstance(exc, SignInRequired) else "/"
    return RedirectResponse(f"/login?next={path}", status_code=303)


def refused(request: Request, exc: Exception) -> Response:
    """RoleRefused: 404 in the portal (a customer learns nothing of what exists),
    403 elsewhere, with a page saying which roles may open it."""
    if request.url.path.startswith("/portal"):
        return HTMLResponse("<h1>Not found</h1>", status_code=404)
    message = str(exc) if isinstance(exc, RoleRefused) else "Forbidden"
    return page(request, "login.html", 403, login_token="", users_form=True, error=message)
