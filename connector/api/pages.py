"""Server-rendered pages: what every page of the web console sends with its HTML."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

Page = Callable[..., HTMLResponse]


def page_renderer(templates: Jinja2Templates, policy: str) -> Page:
    """``page(request, template, status=200, **context)``: ``template`` rendered with
    ``context``, under the Content-Security-Policy ``policy``, never cached or sniffed."""

    def page(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
        response = templates.TemplateResponse(request, template, context, status_code=status)
        response.headers["Content-Security-Policy"] = policy
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return page
