"""``GET /v1/audit``: the key's tenant's audit trail, newest first, filtered and paged.

The same reading as ``connector audit`` (:func:`connector.runtime.audit.find_entries`).
Read and operator keys may read it; a customer key may not (it names other customers'
statements and the reseller's people and keys).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from connector.access.api_keys import Principal
from connector.api.auth import runtime_of, staff
from connector.api.errors import BadFilter, responses
from connector.api.schemas import IDENT, AuditEntry, AuditList
from connector.runtime.audit import AuditFilter, find_entries, parse_moment
from connector.runtime.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["audit"])

# A date, or an ISO 8601 timestamp (offset optional: without one it is UTC).
MOMENT_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
)
MOMENT = {"max_length": 40, "pattern": MOMENT_PATTERN}
SINCE = Query(
    description="From this date or timestamp on (UTC unless it has an offset).",
    examples=["2026-11-01"],
    **MOMENT,
)
UNTIL = Query(
    description="Before this timestamp, or up to the end of this date.",
    examples=["2026-11-30"],
    **MOMENT,
)
ACTION = Query(
    description="Action or its prefix: `statement.approve`, `statement`.",
    min_length=1,
    max_length=64,
)
ACTOR = Query(
    description="Actor or its prefix: `api-key:3f9a0c1d2e4b`, `cli`.", min_length=1, max_length=200
)


def _moment(name: str, text: str | None, end_of_day: bool = False) -> dt.datetime | None:
    if text is None:
        return None
    try:
        return parse_moment(text, end_of_day=end_of_day)
    except ValueError as exc:
        raise BadFilter(f"{name}: {exc}") from None


@router.get(
    "/audit",
    response_model=AuditList,
    responses=responses(401, 403, 422),
    summary="The audit trail: who changed what, when",
)
def audit(
    runtime: Annotated[Runtime, Depends(runtime_of)],
    who: Annotated[Principal, Depends(staff)],
    since: Annotated[str | None, SINCE] = None,
    until: Annotated[str | None, UNTIL] = None,
    action: Annotated[str | None, ACTION] = None,
    actor: Annotated[str | None, ACTOR] = None,
    statement: Annotated[
        str | None,
        Query(description="A statement's id, a prefix of it, or its invoice number.", **IDENT),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> AuditList:
    """Entries of the key's tenant only. A date as `until` includes that whole day."""
    wanted = AuditFilter(
        since=_moment("since", since),
        until=_moment("until", until, end_of_day=True),
        action=action,
        actor=actor,
        statement=statement,
    )
    with runtime.db.transaction() as session:
        found, total = find_entries(session, who.tenant, wanted, limit, offset)
        return AuditList(entries=[AuditEntry.of(e) for e in found], total=total)
