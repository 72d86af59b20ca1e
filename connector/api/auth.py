"""API key authentication: who is calling, and whether their scope allows it.

The key comes in the ``Authorization: Bearer <key>`` header (or ``X-API-Key``), never
in the URL: URLs end up in access logs, proxies' logs and browser history. A missing,
malformed, unknown or revoked key all get the same 401, so a caller learns nothing
about which keys exist.
"""

from __future__ import annotations

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


def runtime_of(request: Request) -> Runtime:
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
        found = await run_in_threadpool(verify_key, runtime_of(request), token)
    if found is None:
        raise HTTPException(401, UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
    return found


def scoped(*scopes: str) -> Callable[..., Principal]:
    """A dependency that lets only keys of ``scopes`` through (403 for the others)."""

    def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if who.scope not in scopes:
            raise Forbidden(
                f"a {who.scope} key cannot do this: it needs a key with scope {' or '.join(scopes)}"
            )
        return who

    return check


any_key = scoped(READ, OPERATOR, CUSTOMER)
staff = scoped(READ, OPERATOR)  # everything that is not one customer's statements
operator = scoped(OPERATOR)  # anything that changes state
