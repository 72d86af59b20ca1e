"""One access line per request, as fields a log search can filter on.

Uvicorn's own access log is switched off where the app is served (``connector serve``
and the daemon's API server): it writes one line of text with the query string, which
is where a careless client puts a key, and it knows nothing of the caller. This line
has the method, the path without its query, the status, the duration in
milliseconds, the id of the API key (the part of ``bc_<id>_<secret>`` that lists and
the audit trail show; never the key itself) and the client's address.

The key id comes from the request's state: :class:`~connector.api.guard.RequestGuard`
leaves the verified key there for ``/v1/``, and the review page leaves its session's
key there. A request refused before its key was verified (401, 414, 429) has no key
id.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("connector.api.access")


class AccessLog:
    """The outermost middleware: it sees every answer, the guard's early ones included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            status = status or 500  # what the server answers for it
            raise
        finally:
            _log(scope, status, (time.perf_counter() - started) * 1000)


def _log(scope: Scope, status: int | None, duration_ms: float) -> None:
    # The verified key the request was made with, if any (never its secret).
    principal: Any = (scope.get("state") or {}).get("principal")
    client = scope.get("client")
    fields = {
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": round(duration_ms, 1),
        "key_id": getattr(principal, "key_id", None),
        "client": client[0] if client else None,
    }
    log.info(
        '%s "%s %s" %s %.1f ms key %s',
        fields["client"] or "-",
        fields["method"],
        fields["path"],
        status if status is not None else "-",
        fields["duration_ms"],
        fields["key_id"] or "-",
        extra={"fields": fields, "tenant": getattr(principal, "tenant", None)},
    )
