"""Review-page sessions: an opaque random id in the cookie, everything else on the server.

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
from dataclasses import dataclass, field

from connector.access.api_keys import Principal

COOKIE = "bc_review"
LOGIN_COOKIE = "bc_review_login"
IDLE = dt.timedelta(minutes=30)
LIFETIME = dt.timedelta(hours=8)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class ReviewSession:
    """One reviewer's login: the key it was made with (its id, never its secret)."""

    principal: Principal
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    started: dt.datetime = field(default_factory=_now)
    seen: dt.datetime = field(default_factory=_now)
    # What this session did, newest last: (action, statement id) for the Finish summary.
    done: list[tuple[str, str]] = field(default_factory=list)
    # The outcome of the last action, shown once on the next page.
    flash: str | None = None

    def csrf_ok(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(presented.encode(), self.csrf.encode())


class SessionStore:
    """Sessions by id, thread-safe (FastAPI runs sync routes in a thread pool)."""

    def __init__(self) -> None:
        self._sessions: dict[str, ReviewSession] = {}
        self._lock = threading.Lock()

    def start(self, principal: Principal) -> tuple[str, ReviewSession]:
        session_id = secrets.token_urlsafe(32)
        session = ReviewSession(principal)
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
