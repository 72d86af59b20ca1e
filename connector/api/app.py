"""The billing API and review page as one ASGI app: ``create_app(runtime)``."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from connector.api import billing, review, statements
from connector.api.errors import install_handlers
from connector.api.sessions import SessionStore
from connector.pipeline.runtime import Runtime

DESCRIPTION = """
Billing statements, credits, period close and reconciliation of one reseller tenant.

**Keys.** Every call except `/health` needs an API key, made with
`connector api-keys create --tenant T --scope read|operator|customer [--customer C]`
and sent as `Authorization: Bearer bc_<id>_<secret>`. The key decides the tenant:
nothing of another tenant can be seen or changed. `read` keys read; `operator` keys
also change things (approve, delete, set status, grant credits, close periods), each
change recorded in the audit trail as `api-key:<id>`; `customer` keys see one
customer's statements that are no longer Drafts, and nothing else.

**Money** is a decimal string (`"1234.50"`), never a JSON number.

**Errors** are `{"detail": "...", "errors": [...]}`: 401 no valid key, 403 scope too
narrow, 404 unknown (or not this key's), 409 not allowed in the current status,
422 invalid input with the reason.

The review page for people is at `/review`.
"""


def create_app(runtime: Runtime) -> FastAPI:
    """The app for ``runtime``: REST API under ``/v1``, ``/health``, and ``/review``."""
    # No /docs or /redoc: FastAPI serves them with scripts from a public CDN, which
    # would run on this origin, next to the review page's session. The document is at
    # /openapi.json for any OpenAPI viewer.
    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        title="Billing Connector API",
        version="1",
        description=DESCRIPTION,
        openapi_tags=[
            {"name": "statements", "description": "Billing statements and their lifecycle."},
            {"name": "billing", "description": "Credits, period close, reconciliation."},
            {"name": "service", "description": "Health, no key needed."},
        ],
    )
    app.state.runtime = runtime
    app.state.review_sessions = SessionStore()
    install_handlers(app)
    app.add_exception_handler(review.LoginRequired, review.to_login)
    app.include_router(statements.router)
    app.include_router(billing.router)
    app.include_router(billing.public)
    app.include_router(review.router)
    app.mount(
        "/review/static",
        StaticFiles(directory=Path(__file__).with_name("static")),
        name="review-static",
    )
    return app
