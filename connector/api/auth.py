"""API key authentication: who is calling, and whether their scope allows it.

The key comes in the ``Authorization: Bearer <key>`` header (or ``X-API-Key``), never
in the URL: URLs end up in access logs, proxies' logs and browser history. A missing,
malformed, unknown or revoked key all get the same 401, so a caller learns nothing
about which keys exist.

A key verified by this process is remembered for :data:`VERIFIED_KEY_SECONDS`
(:class:`VerifiedKeys`): checking it in the database is a transaction of its own, four
round trips on PostgreSQL and a hop to a worker thread, on every request, as much as a
page of statements costs. The price is that a key revoked by ``connector api-keys
revoke`` (another process, which cannot reach this one's memory) keeps working here for
at most that long; a revoked key never used in that time is refused at once.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from connector.access.api_keys import Principal, verify_key
from connector.api.errors import Forbidden
from connector.api.guard import UNAUTHORIZED
from connector.runtime.runtime import Runtime

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer bc_<id>_<secret>`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The same key.")

OPERATOR, READ, CUSTOMER = "operator", "read", "customer"
#: How long a verified key is taken on trust: the longest a revoked key still works.
VERIFIED_KEY_SECONDS = 5.0


class VerifiedKeys:
    """Keys this process verified in the last ``seconds``, by the SHA-256 of the key.

    Only keys that verified are kept (an unknown or wrong key is looked up every time,
    and the failure throttle counts it); each is given up after ``seconds`` and looked
    up again, so ``last_used_at`` is still written. A key whose tenant the runtime no
    longer serves is refused at once. Used from the event loop only, so it needs no lock.
    """

    def __init__(self, runtime: Runtime, seconds: float = VERIFIED_KEY_SECONDS) -> None:
        self._runtime, self._seconds = runtime, seconds
        self._keys: dict[bytes, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal | None:
        """The caller ``token`` stands for, or None (as :func:`verify_key`)."""
        digest = hashlib.sha256(token.encode()).digest()
        now = time.monotonic()
        known = self._keys.get(digest)
        if known is not None and known[1] > now:
            principal = known[0]
            return principal if principal.tenant in self._runtime.tenants else None
        found = await run_in_threadpool(verify_key, self._runtime, token)
        # Expired entries go when the next key is verified: at most one per key in use.
        self._keys = {k: v for k, v in self._keys.items() if v[1] > now}
        if found is not None:
            self._keys[digest] = (found, now + self._seconds)
        return found


async def runtime_of(request: Request) -> Runtime:
    # async: a plain function dependency would cost every request a worker thread hop.
    return request.app.state.runtime


async def principal(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
) -> Principal:
    """The verified key making the request, or 401.

    :class:`~connector.api.guard.RequestGuard` has checked it already, before the body
    was read, and left it in the request's state; verified again only without it.
    """
    checked = getattr(request.state, "principal", None)
    if checked is not None:
        return checked
    token = bearer.credentials if bearer is not None else header
    found = None
    if token:
        found = await request.app.state.verified_keys.verify(token)
    if found is None:
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    return found


def scoped(*scopes: str) -> Callable[..., Principal]:
    """A dependency that lets only keys of ``scopes`` through (403 for the others)."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.scope not in scopes:
            raise Forbidden(
                f"a {who.scope} key cannot do this: it needs a key with scope {' or '.join(scopes)}"
            )
        return who

    return check


any_key = scoped(READ, OPERATOR, CUSTOMER)
staff = scoped(READ, OPERATOR)  # everything that is not one customer's statements
operator = scoped(OPERATOR)  # anything that changes state
