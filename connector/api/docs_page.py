"""``/docs``: Swagger UI, from this server's files, under a Content-Security-Policy.

The page is the one fastapi-offline would serve (FastAPI's ``get_swagger_ui_html``
pointed at the files it ships, mounted at ``/docs/static``), served here to send it
with a policy like the other pages of this origin have: the review page's session
cookie is sent here too, so a script injected into the page (through a description of
the OpenAPI document, say) must not run. Swagger UI starts from one inline script; the
policy allows it by its SHA-256, taken from the page as rendered from the app's own
settings (no header, path or query of the request goes into it), and no other inline
script. The page calls this server only (``connect-src 'self'``: the document and "Try
it out"); its style sheet's icons are ``data:`` images.
"""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse

#: Where /docs loads Swagger UI's script, style sheet and icon from (this server).
DOCS_ASSETS = "/docs/static"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

router = APIRouter(include_in_schema=False)


def policy(html: str, *, connect: bool = True) -> str:
    """The policy of a page of Swagger UI: this server's files, and the page's own inline
    scripts by their hashes."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(html)
    )
    calls = "'self'" if connect else "'none'"
    return (
        f"default-src 'none'; script-src 'self'{hashes}; style-src 'self'; "
        f"img-src 'self' data:; connect-src {calls}; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def _protected(page: HTMLResponse, connect: bool = True) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = policy(bytes(page.body).decode(), connect=connect)
    page.headers["X-Content-Type-Options"] = "nosniff"
    return page


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``."""
    app, root = request.app, request.scope.get("root_path", "")
    page = get_swagger_ui_html(
        openapi_url=f"{root}{app.openapi_url}",
        title=f"{app.title} - Swagger UI",
        oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
        swagger_js_url=f"{root}{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{root}{DOCS_ASSETS}/favicon.png",
        swagger_ui_parameters=app.swagger_ui_parameters,
    )
    return _protected(page)


@router.get("/docs/oauth2-redirect")
def swagger_ui_redirect() -> HTMLResponse:
    """Where an OAuth2 sign-in returns to Swagger UI (kept as FastAPI has it; the API's
    keys are bearer tokens and need none)."""
    return _protected(get_swagger_ui_oauth2_redirect_html(), connect=False)
