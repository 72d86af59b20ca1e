"""``/v1/statements``: list, show, download, approve, approve all, delete, set status.

The same operations as ``connector statements``, through the same pipeline functions;
the key's id is the actor in the audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import Response as RawResponse
from pydantic_core import to_json
from sqlalchemy import Row
from starlette.concurrency import run_in_threadpool

from connector.access.api_keys import Principal
from connector.api.auth import any_key, operator, runtime_of
from connector.api.errors import responses
from connector.api.queries import (
    StatementFilter,
    check_customer,
    get_visible,
    reading,
    summary_page,
    summary_page_async,
    visible_ids,
)
from connector.api.rendering import MEDIA_TYPES, render_statement
from connector.api.schemas import (
    CURRENCY_PATTERN,
    IDENT,
    PERIOD_PATTERN,
    ApproveAllRequest,
    ApproveRequest,
    Format,
    StatementList,
    StatementSummary,
    StatementWithLines,
    Status,
    StatusRequest,
    summary_fields,
)
from connector.pipeline.build.build import delete_draft
from connector.pipeline.review.approve import Approved, approve
from connector.pipeline.review.lifecycle import set_status
from connector.runtime.runtime import Runtime

router = APIRouter(prefix="/v1/statements", tags=["statements"])

StatementId = Annotated[str, Path(description="The statement's id or its invoice number.", **IDENT)]
Reader = Annotated[Principal, Depends(any_key)]
Operator = Annotated[Principal, Depends(operator)]
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
_JSON = "application/json"


@router.get(
    "",
    response_model=StatementList,
    responses=responses(401, 403, 404, 422),
    summary="List statements",
)
async def list_statements(
    runtime: RuntimeDep,
    who: Reader,
    provider: Annotated[str | None, Query(description="Provider key, e.g. aws.", **IDENT)] = None,
    period: Annotated[str | None, Query(pattern=PERIOD_PATTERN, description="YYYY-MM")] = None,
    status: Annotated[Status | None, Query()] = None,
    customer: Annotated[str | None, Query(description="Customer id.", **IDENT)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """The key's tenant's statements, newest period first. A customer key sees only its
    customer's statements that are no longer Drafts, whatever the filters say. An
    unknown customer answers 404, as on every other operation; to a customer key any
    customer but its own is simply an empty list (a 404 would tell it which exist)."""
    if customer is not None and who.scope != "customer":
        check_customer(runtime.tenant(who.tenant), customer)
    wanted = StatementFilter(provider, period, status, customer)
    reads = runtime.db.async_reads
    if reads is not None:  # PostgreSQL: read on this event loop, no worker thread
        page, count = await summary_page_async(reads, who, wanted, limit, offset)
    else:
        page, count = await run_in_threadpool(_page, runtime, who, wanted, limit, offset)
    # Written out here, the same JSON FastAPI would write for StatementList (which
    # response_model documents): building and validating 50 models, then dumping them,
    # was a third of a list's time; the rows come from our own database.
    listed = {"statements": [summary_fields(*row) for row in page], "total": count}
    return Response(to_json(listed), media_type=_JSON)


def _page(
    runtime: Runtime, who: Principal, wanted: StatementFilter, limit: int, offset: int
) -> tuple[Sequence[Row], int]:
    with reading(runtime.db) as conn:
        return summary_page(conn, who, wanted, limit, offset)


@router.get(
    "/{statement_id}",
    response_model=StatementWithLines,
    responses=responses(401, 403, 404, 422),
    summary="Show one statement with its lines",
)
def get_statement(
    runtime: RuntimeDep, who: Reader, statement_id: StatementId
) -> StatementWithLines:
    with runtime.db.transaction() as session:
        return StatementWithLines.of(get_visible(session, who, statement_id))


@router.get(
    "/{statement_id}/download/{fmt}",
    response_class=RawResponse,
    responses={
        200: {
            "description": "The rendered statement. With `currency`, the `X-Exchange-Rate` "
            "header gives the rate used (1 unit of the statement's currency).",
            "content": {media: {} for media in sorted(set(MEDIA_TYPES.values()))},
        },
        **responses(401, 403, 404, 409, 422),
    },
    summary="Download a statement as PDF, CSV, detailed CSV, HTML or UBL",
)
def download(
    runtime: RuntimeDep,
    who: Reader,
    statement_id: StatementId,
    fmt: Annotated[Format, Path(description="pdf, csv, detailed-csv, html or ubl.")],
    currency: Annotated[
        str | None,
        Query(
            pattern=CURRENCY_PATTERN,
            description="Show the amounts in this currency at the period's rate from the "
            "tenant's exchange-rates file (the statement itself is unchanged). A currency "
            "other than the statement's needs a rate for the period there, else 422.",
            examples=["EUR"],
        ),
    ] = None,
) -> Response:
    rendered = render_statement(runtime, who, statement_id, fmt, currency)
    headers = {
        "Content-Disposition": f'attachment; filename="{rendered.filename}"',
        "X-Content-Type-Options": "nosniff",
    }
    if rendered.exchange_rate is not None:
        headers["X-Exchange-Rate"] = format(rendered.exchange_rate.normalize(), "f")
    return Response(rendered.content, media_type=rendered.media_type, headers=headers)


@router.post(
    "/approve",
    response_model=list[StatementSummary],
    responses=responses(401, 403, 404, 409, 422),
    summary="Approve Drafts (all named or none)",
)
def approve_some(runtime: RuntimeDep, who: Operator, body: ApproveRequest) -> Response:
    """Each becomes Open with the next invoice number and is queued for the ERP.

    Numbers follow period start, then customer id, provider, kind and part, whatever
    the order of ``ids``; the answer lists the statements in that order.
    """
    with reading(runtime.db) as conn:
        ids = visible_ids(conn, who, body.ids)
    return _summaries(approve(runtime, who.tenant, ids, who.actor))


@router.post(
    "/approve-all",
    response_model=list[StatementSummary],
    responses=responses(401, 403, 409, 422),
    summary="Approve every Draft of the tenant (or of one provider)",
)
def approve_all(
    runtime: RuntimeDep, who: Operator, body: ApproveAllRequest | None = None
) -> Response:
    """Numbered by period start, then customer id, provider, kind and part."""
    provider = body.provider if body is not None else None
    return _summaries(approve(runtime, who.tenant, None, who.actor, provider))


@router.post(
    "/{statement_id}/approve",
    response_model=StatementSummary,
    responses=responses(401, 403, 404, 409, 422),
    summary="Approve one Draft",
)
def approve_one(runtime: RuntimeDep, who: Operator, statement_id: StatementId) -> Response:
    with reading(runtime.db) as conn:
        ids = visible_ids(conn, who, [statement_id])
    (approved,) = approve(runtime, who.tenant, ids, who.actor)
    return Response(to_json(StatementSummary.fields_of(approved)), media_type=_JSON)


def _summaries(approved: Sequence[Approved]) -> Response:
    """The statements just approved as the answer shows them, in approval order, from
    what approval returns (it reads every column a summary shows); written out as the
    list is, response_model documenting it."""
    return Response(to_json([StatementSummary.fields_of(s) for s in approved]), media_type=_JSON)


@router.delete(
    "/{statement_id}",
    status_code=204,
    response_class=RawResponse,
    responses=responses(401, 403, 404, 409, 422),
    summary="Delete a Draft (its credits are given back)",
)
def delete_statement(runtime: RuntimeDep, who: Operator, statement_id: StatementId) -> Response:
    with runtime.db.transaction() as session:
        delete_draft(session, who.tenant, get_visible(session, who, statement_id), who.actor)
    return Response(status_code=204)


@router.post(
    "/{statement_id}/status",
    response_model=StatementSummary,
    responses=responses(401, 403, 404, 409, 422),
    summary="Mark an Open statement Closed (paid) or Past Due",
)
def change_status(
    runtime: RuntimeDep, who: Operator, statement_id: StatementId, body: StatusRequest
) -> StatementSummary:
    """An invoice goes Open -> Closed or Past Due, Past Due -> Closed; a credit note only
    Open -> Closed (nothing is due on it). Anything else (a Draft to Closed, anything
    out of Closed, a credit note to Past Due) answers 409 naming the statement, its
    type and status, and its legal next statuses."""
    with runtime.db.transaction() as session:
        found = get_visible(session, who, statement_id)
    (changed,) = set_status(runtime, who.tenant, [found.id], body.status, who.actor)
    return StatementSummary.of(changed)
