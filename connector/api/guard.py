"""What every request passes before the app sees it: size limits, methods, the caller.

A pure ASGI middleware, because FastAPI reads and parses a request's whole body
before any dependency runs, the API key check included: a 500 MB body from anyone
was held in memory before its 401. Here, in this order and without reading the body:

1. a path and query longer than ``max_target`` bytes answer 414;
2. a method the path's route does not take answers 405 with the route's ``Allow``;
3. ``/v1/`` needs a valid API key (401), ``/review`` forms a live session (to the
   login page); a client or key id with too many failures answers 429;
4. a body over ``max_body`` answers 413, by its Content-Length or, streamed, by
   counting; one within the limit is read here and handed to the app.

Every answer says what the limit is and never repeats the request back. Each early
answer closes the connection, so an unread body is not waited for.

Every response also gets ``Referrer-Policy`` and, when the request came over HTTPS
(uvicorn trusts ``X-Forwarded-Proto`` from ``--forwarded-allow-ips``, by default
127.0.0.1), ``Strict-Transport-Security``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connector.api.sessions import COOKIE
from connector.api.throttle import FailureThrottle, subjects

log = logging.getLogger(__name__)

UNAUTHORIZED = "a valid API key is required: send `Authorization: Bearer <key>`"
HSTS = "max-age=31536000"
# How much of a request line and headers uvicorn (h11) reads before giving up with a
# 400 and closing, by default 16 KiB: a longer URL was cut off mid-send, which the
# client saw as a reset. Large enough for a megabyte URL to reach the guard's 414.
HEAD_BYTES = 2 * 1024 * 1024
# Review forms that act for a session; the login form is throttled instead.
SESSION_FORMS = frozenset({"/review/action", "/review/finish"})


@dataclass(frozen=True, slots=True)
class Limits:
    """What the server accepts; tests loosen ``failures`` so one test's 401s do not
    lock out the next."""

    max_body: int = 1024 * 1024  # bytes of request body
    max_target: int = 8 * 1024  # bytes of path and query string
    # Failed authentications per address and per key id: a burst of ``failures``, then
    # ``failures`` per ``window`` seconds (about one a second). A client that mistyped
    # its key a few times is not locked out; hundreds a second are.
    failures: int = 60
    window: float = 60.0


def _error(status: int, detail: str, **headers: str) -> Response:
    # Connection: close: the body the client may still be sending is not read.
    return JSONResponse(
        {"detail": detail, "errors": []}, status, headers={"Connection": "close", **headers}
    )


def allowed_methods(routes: Iterable[Any], path: str) -> set[str] | None:
    """The methods the route at ``path`` takes, or None for a path no route has.

    A literal route (``/v1/statements/approve``) hides a parameter route that would
    match the same path (``/v1/statements/{statement_id}``): Starlette would answer
    405 with the first partial match's methods, and GET would reach the parameter route.
    """
    literal: set[str] = set()
    templated: set[str] = set()
    for route in routes:
        if isinstance(route, Mount) and path.startswith(route.path + "/"):
            return None  # static files: their own rules
        if not isinstance(route, Route) or not route.methods:
            continue
        if route.path_regex.match(path):
            (templated if route.param_convertors else literal).update(route.methods)
    return literal or templated or None


class RequestGuard:
    """The middleware; ``create_app`` installs it around the whole app."""

    def __init__(
        self, app: ASGIApp, limits: Limits, throttle: FailureThrottle, routes: list[Any]
    ) -> None:
        self.app, self.limits, self.throttle, self.routes = app, limits, throttle, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = self._with_security_headers(scope, send)
        early = await self._check(scope)
        if early is not None:
            await early(scope, receive, send)
            return
        body = await self._read_body(scope, receive, send)
        if body is None:
            return
        await self.app(scope, _replay(body, receive), send)

    async def _check(self, scope: Scope) -> Response | None:
        path, method = scope["path"], scope["method"]
        target = len(scope.get("raw_path") or path.encode()) + len(scope.get("query_string", b""))
        if target > self.limits.max_target:
            return _error(414, f"the URL is too long: at most {self.limits.max_target} bytes "
                               "of path and query")  # fmt: skip
        allowed = allowed_methods(self.routes, path)
        if allowed is not None and method not in allowed:
            methods = ", ".join(sorted(allowed))
            return _error(405, f"{method} is not allowed here: use {methods}", Allow=methods)
        if path.startswith("/v1/"):
            return await self._authenticate(scope)
        if method == "POST" and path in SESSION_FORMS:
            sessions = scope["app"].state.review_sessions
            if sessions.get(HTTPConnection(scope).cookies.get(COOKIE)) is None:
                return RedirectResponse("/review/login", 303, headers={"Connection": "close"})
        if method == "POST" and path == "/review/login":
            wait = self.throttle.retry_after(subjects(_address(scope), None))
            if wait is not None:
                return PlainTextResponse(
                    f"Too many failed logins: try again in {wait} seconds.", 429,
                    headers={"Retry-After": str(wait), "Connection": "close"},
                )  # fmt: skip
        return None

    async def _authenticate(self, scope: Scope) -> Response | None:
        """401 or 429 without reading the body; the verified key goes to the routes."""
        conn = HTTPConnection(scope)
        token = _token(conn)
        found = subjects(_address(scope), token)
        wait = self.throttle.retry_after(found)
        if wait is not None:
            return _error(429, f"too many failed authentications: try again in {wait} seconds",
                          **{"Retry-After": str(wait)})  # fmt: skip
        principal = None
        if token:  # through the app's cache of verified keys (connector.api.auth)
            principal = await scope["app"].state.verified_keys.verify(token)
        if principal is None:
            self.throttle.failed(found)
            return _error(401, UNAUTHORIZED, **{"WWW-Authenticate": "Bearer"})
        scope.setdefault("state", {})["principal"] = principal
        return None

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None when it was too long (413 sent) or the client left."""
        limit = self.limits.max_body
        too_long = _error(413, f"the request body is too large: at most {limit} bytes")
        declared = HTTPConnection(scope).headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await too_long(scope, receive, send)
            return None
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await too_long(scope, receive, send)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    def _with_security_headers(self, scope: Scope, send: Send) -> Send:
        https = scope.get("scheme") == "https"

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"referrer-policy" not in names:
                    headers.append((b"referrer-policy", b"no-referrer"))
                if https and b"strict-transport-security" not in names:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                message = {**message, "headers": headers}
            await send(message)

        return sending


def _address(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def _token(conn: HTTPConnection) -> str | None:
    """The key as the ``auth`` dependencies read it: a Bearer token, else X-API-Key."""
    scheme, _, credentials = conn.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return conn.headers.get("x-api-key") or None


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app: the body read already, then the client's own messages."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
