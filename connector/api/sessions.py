"""Browser sessions: an opaque random id in the cookie, everything else on the server.

A session carries a :class:`SessionUser`: a person signed in at ``/login`` with a name
and password (connector.api.users), or the review page's older sign-in with an operator
API key. Every page checks the role with :func:`require_role`. The cookie's path is
``/``: one sign-in serves the review page, the reports and the customer portal.

Why not the API key in a cookie: a cookie is sent on every request and kept by the
browser; if it leaked (a proxy log, a shared machine) the key would work against the
API until revoked. The session id only works for the review page, expires after
``IDLE`` without use (and ``LIFETIME`` in all), ends with Finish, and dies with the
key: each request checks that the key it was made with is still not revoked.

Why not a signed cookie: a 256-bit random id cannot be guessed, so a signature adds
nothing, and a server-side session can be ended (a signed cookie stays valid until it
expires). Sessions are held in memory: a restart logs reviewers out, and behind a load
balancer the review page needs sticky sessions (API keys need nothing of the kind).

Each session has its own CSRF token, put in every form and compared in constant time;
the cookie is HttpOnly and SameSite=Strict besides.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from connector.access.api_keys import Principal

COOKIE = "bc_review"
LOGIN_COOKIE = "bc_review_login"
IDLE = dt.timedelta(minutes=30)
LIFETIME = dt.timedelta(hours=8)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# A user's role decides what it may do; the scope is what the statement queries
# (connector.api.queries) understand, the same as an API key of that scope.
OPERATOR, REVIEWER, READ_ONLY, CUSTOMER = "operator", "reviewer", "read-only", "customer"
ROLES = (OPERATOR, REVIEWER, READ_ONLY, CUSTOMER)
SCOPE_OF_ROLE = {
    OPERATOR: "operator",
    REVIEWER: "operator",
    READ_ONLY: "read",
    CUSTOMER: "customer",
}
# An operator API key signed in to the review page acts as this role.
ROLE_OF_SCOPE = {"operator": OPERATOR, "read": READ_ONLY, "customer": CUSTOMER}


@dataclass(frozen=True, slots=True)
class SessionUser:
    """Who a browser session belongs to: a user account (``id`` set) or, for the
    review page's older sign-in, an operator API key (``key_id`` set, ``id`` None).

    Quacks like :class:`~connector.access.api_keys.Principal` (``tenant``, ``scope``,
    ``customer_id``, ``actor``) so the statement queries take either.
    """

    id: int | None
    name: str
    role: str
    tenant: str
    customer_id: str | None
    key_id: str | None = None

    @property
    def scope(self) -> str:
        return SCOPE_OF_ROLE[self.role]

    @property
    def actor(self) -> str:
        """How the audit trail names this person (or key)."""
        return f"api-key:{self.key_id}" if self.key_id else f"user:{self.name}"

    @classmethod
    def of_key(cls, principal: Principal) -> SessionUser:
        return cls(None, f"api-key {principal.key_id}", ROLE_OF_SCOPE[principal.scope],
                   principal.tenant, principal.customer_id, principal.key_id)  # fmt: skip


@dataclass(slots=True)
class ReviewSession:
    """One signed-in person: the user (or the key it was made with: its id, never its
    secret). ``principal`` is the same object as ``user``, kept for older callers."""

    user: SessionUser
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    started: dt.datetime = field(default_factory=_now)
    seen: dt.datetime = field(default_factory=_now)
    # What this session did, newest last: (action, statement id) for the Finish summary.
    done: list[tuple[str, str]] = field(default_factory=list)
    # The outcome of the last action, shown once on the next page.
    flash: str | None = None

    @property
    def principal(self) -> SessionUser:
        return self.user

    def csrf_ok(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(presented.encode(), self.csrf.encode())


class SessionStore:
    """Sessions by id, thread-safe (FastAPI runs sync routes in a thread pool)."""

    def __init__(self) -> None:
        self._sessions: dict[str, ReviewSession] = {}
        self._lock = threading.Lock()

    def start(self, who: SessionUser | Principal) -> tuple[str, ReviewSession]:
        session_id = secrets.token_urlsafe(32)
        user = who if isinstance(who, SessionUser) else SessionUser.of_key(who)
        session = ReviewSession(user)
        with self._lock:
            self._expire()
            self._sessions[session_id] = session
        return session_id, session

    def get(self, session_id: str | None) -> ReviewSession | None:
        """The live session with that id (its idle clock restarted), or None."""
        if not session_id:
            return None
        with self._lock:
            self._expire()
            session = self._sessions.get(session_id)
            if session is not None:
                session.seen = _now()
            return session

    def end(self, session_id: str | None) -> ReviewSession | None:
        with self._lock:
            return self._sessions.pop(session_id or "", None)

    def _expire(self) -> None:
        now = _now()
        stale = [
            sid
            for sid, s in self._sessions.items()
            if now - s.seen > IDLE or now - s.started > LIFETIME
        ]
        for sid in stale:
            del self._sessions[sid]


class SignInRequired(Exception):
    """No live session: a page answers with the sign-in form (app.py's handler)."""

    def __init__(self, path: str = "/") -> None:
        super().__init__(path)
        self.path = path


class RoleRefused(Exception):
    """A signed-in user whose role may not see the page: answered 403 (or 404 in the
    portal, where a customer must not learn what exists)."""

    def __init__(self, role: str, roles: tuple[str, ...]) -> None:
        super().__init__(f"a {role} user cannot open this page: it needs {' or '.join(roles)}")
        self.role, self.roles = role, roles


def require_role(request: Request, *roles: str) -> ReviewSession:
    """The signed-in session of ``request`` when its user has one of ``roles``.

    The one check every browser page makes (review, reports, portal), so a role can
    never see a page by a forgotten check. Raises :class:`SignInRequired` without a
    live session (or when the user was disabled, or the key revoked, since sign-in),
    :class:`RoleRefused` when the role is not among ``roles``; the app turns them into
    a redirect to ``/login`` and a 403 page. Sets ``request.state.principal`` for the
    access log. Use it as a FastAPI dependency with :func:`role_dependency`.

    :param roles: any of ``operator``, ``reviewer``, ``read-only``, ``customer``
        (the constants :data:`OPERATOR`, :data:`REVIEWER`, :data:`READ_ONLY`,
        :data:`CUSTOMER`).
    """
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}: valid are {', '.join(ROLES)}")
    store: SessionStore = request.app.state.review_sessions
    session_id = request.cookies.get(COOKIE)
    session = store.get(session_id)
    if session is None or not _still_allowed(request, session.user):
        store.end(session_id)
        raise SignInRequired(request.url.path)
    request.state.principal = session.user
    if session.user.role not in roles:
        raise RoleRefused(session.user.role, roles)
    return session


def role_dependency(*roles: str) -> Callable[[Request], ReviewSession]:
    """``Annotated[ReviewSession, Depends(role_dependency("operator", "reviewer"))]``."""

    def check(request: Request) -> ReviewSession:
        return require_role(request, *roles)

    return check


def _still_allowed(request: Request, user: SessionUser) -> bool:
    """A session dies with its key's revocation or its user's disabling."""
    from connector.access.standing import key_is_active, user_is_active

    runtime = request.app.state.runtime
    if user.key_id:
        return key_is_active(runtime, user.key_id)
    return user.id is not None and user_is_active(runtime, user.id)
