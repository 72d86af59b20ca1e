"""The billing API and review page as one ASGI app: ``create_app(runtime)``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.routing import Mount, Route

from connector.api import (
    audit_trail,
    billing,
    docs_page,
    portal,
    reports_page,
    review,
    statements,
    users,
)
from connector.api.access_log import AccessLog
from connector.api.auth import VerifiedKeys
from connector.api.errors import install_handlers
from connector.api.guard import Limits, RequestGuard
from connector.api.sessions import RoleRefused, SessionStore, SignInRequired
from connector.api.throttle import FailureThrottle
from connector.runtime.runtime import Runtime

DESCRIPTION = """
Billing statements, credits, period close and reconciliation of one reseller tenant.

**Keys.** Every call except `/health` needs an API key, made with
`connector api-keys create --tenant T --scope read|operator|customer [--customer C]`
and sent as `Authorization: Bearer bc_<id>_<secret>`. The key decides the tenant:
nothing of another tenant can be seen or changed. `read` keys read; `operator` keys
also change things (approve, delete, set status, grant credits, close periods), each
change recorded in the audit trail as `api-key:<id>` (read it at `/v1/audit`);
`customer` keys see one customer's statements that are no longer Drafts, and nothing
else.

**Logs.** Each request is logged once with its method, path (never the query string),
status, duration, client address and key id: never the key.

**Money** is a decimal string (`"1234.50"`), never a JSON number.

**Errors** are `{"detail": "...", "errors": [...]}`: 401 no valid key, 403 scope too
narrow, 404 unknown (or not this key's: an unknown statement, customer or provider
answers 404 on every operation), 405 a method the path does not take (`Allow` lists
those it does), 409 not allowed in the current status, 413 a body over 1 MiB, 414 a
path and query over 8 KiB, 422 invalid input with the reason, 429 too many failed
authentications from the client's address or for the key id (`Retry-After` says
when to try again).

**Limits.** The key is checked before the body is read: without a valid key nothing
of the body is read. Ids, numbers and names are 1 to 64 characters; every other
limit is stated on its field.

The review page for people is at `/review`; this document, to read and try, at `/docs`.
"""


def create_app(runtime: Runtime, limits: Limits | None = None) -> FastAPI:
    """The app for ``runtime``: REST API under ``/v1``, ``/health``, and ``/review``.

    :param limits: body and URL sizes and the failed-authentication throttle
        (:class:`~connector.api.guard.Limits` by default).
    """
    limits = limits or Limits()
    # Swagger UI at /docs from the files fastapi-offline ships, served from here: FastAPI's
    # own /docs loads its scripts from a public CDN, which would run on this origin next
    # to the review page's session. Public, as /openapi.json it shows always was: the
    # document holds no tenant's data, and every call made from it needs a key. The
    # page itself is docs_page's, which sends it with a Content-Security-Policy.
    app = FastAPIOffline(
        lifespan=_lifespan,
        docs_url=None,
        redoc_url=None,
        static_url=docs_page.DOCS_ASSETS,
        title="Billing Connector API",
        version="1",
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "statements", "description": "Billing statements and their lifecycle."},
            {"name": "billing", "description": "Credits, period close, reconciliation."},
            {"name": "audit", "description": "The audit trail: who changed what, when."},
            {"name": "service", "description": "Health, no key needed."},
        ],
    )
    app.state.runtime = runtime
    app.state.verified_keys = VerifiedKeys(runtime)
    app.state.review_sessions = SessionStore()
    app.state.auth_throttle = FailureThrottle(limits.failures, limits.window)
    install_handlers(app)
    app.add_exception_handler(review.LoginRequired, review.to_login)
    app.add_exception_handler(SignInRequired, users.to_sign_in)
    app.add_exception_handler(RoleRefused, users.refused)
    routers = (
        statements.router,
        billing.router,
        audit_trail.router,
        billing.public,
        review.router,
        reports_page.router,
        users.router,
        portal.router,
        docs_page.router,
    )
    for router in routers:
        app.include_router(router)
    app.mount(
        "/review/static",
        StaticFiles(directory=Path(__file__).with_name("static")),
        name="review-static",
    )
    # Every route with its full path (FastAPI keeps included routers' routes apart),
    # for the guard to answer a wrong method with the route's own methods.
    routes = [route for router in routers for route in router.routes]
    routes += [route for route in app.routes if isinstance(route, Route | Mount)]
    app.add_middleware(RequestGuard, limits=limits, throttle=app.state.auth_throttle, routes=routes)
    app.add_middleware(AccessLog)  # added last: outermost, so it sees the guard's answers
    _document_guard(app, limits)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Lets ``api.threads`` requests run at once in the server's thread pool (anyio's
    default is 40), the others queued in arrival order; at the end, closes the
    connections of the reads made on the event loop."""
    runtime = app.state.runtime
    anyio.to_thread.current_default_thread_limiter().total_tokens = runtime.settings.api.threads
    try:
        yield
    finally:
        if runtime.db.async_reads is not None:
            await runtime.db.async_reads.close()


def _document_guard(app: FastAPI, limits: Limits) -> None:
    """Add the guard's answers (413, 414, 429) to every operation of the document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = build()
        error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        retry = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}}
        added = {
            "413": f"The body is over {limits.max_body} bytes (the key is checked first).",
            "414": f"The path and query are over {limits.max_target} bytes.",
            "429": f"Over {limits.failures} failed authentications in {limits.window:g} s "
            "from this address or for this key id.",
        }
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                answers = operation.setdefault("responses", {})
                for code, description in added.items():
                    if code == "413" and "requestBody" not in operation:
                        continue
                    if code == "429" and not path.startswith("/v1/"):
                        continue
                    answers[code] = {"description": description, "content": error}
                    if code == "429":
                        answers[code]["headers"] = retry
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
