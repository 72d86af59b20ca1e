"""Credits, period close, reconciliation, plugins, health and the calling key."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy import text

from connector.access.api_keys import Principal
from connector.api.auth import any_key, operator, runtime_of, staff
from connector.api.errors import BadReportRequest, NotFound, responses
from connector.api.queries import check_customer
from connector.api.schemas import (
    IDENT,
    PERIOD_PATTERN,
    RANGE_RULE,
    CloseRequest,
    CreditBalance,
    CreditGrant,
    CreditGrantRequest,
    Health,
    Me,
    PeriodClosed,
    PluginInfo,
    PluginList,
    money,
)
from connector.config.tenant import TenantConfig
from connector.pipeline import credits
from connector.pipeline.close.close import signal_close
from connector.pipeline.reconcile.reconcile import reconcile
from connector.pipeline.reconcile.report import to_dict
from connector.pipeline.report.output import to_dict as report_dict
from connector.pipeline.report.range import parse_range
from connector.pipeline.report.report import ReportError, build_report
from connector.runtime.audit import record
from connector.runtime.periods import resolve_period
from connector.runtime.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["billing"])
public = APIRouter(tags=["service"])

RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
Staff = Annotated[Principal, Depends(staff)]
Operator = Annotated[Principal, Depends(operator)]


def _provider(config: TenantConfig, provider: str) -> str:
    if provider not in config.providers:
        known = ", ".join(sorted(config.providers))
        raise NotFound(f"tenant {config.tenant!r} has no provider {provider!r} (it has {known})")
    return provider


@router.get(
    "/credits",
    response_model=list[CreditBalance],
    responses=responses(401, 403, 404, 422),
    summary="Credit balances per customer and currency",
)
def list_credits(
    runtime: RuntimeDep,
    who: Staff,
    customer: Annotated[str | None, Query(description="Only this customer id.", **IDENT)] = None,
) -> list[CreditBalance]:
    config = runtime.tenant(who.tenant)
    if customer is not None:
        check_customer(config, customer)
    with runtime.db.transaction() as session:
        rows = credits.balances(session, who.tenant)
    return [
        CreditBalance(
            customer=b.customer_id,
            currency=b.currency,
            granted=money(b.granted, b.currency),
            applied=money(b.applied, b.currency),
            balance=money(b.balance, b.currency),
        )
        for b in rows
        if customer in (None, b.customer_id)
    ]


@router.post(
    "/credits",
    status_code=201,
    response_model=CreditGrant,
    responses=responses(401, 403, 404, 409, 422),
    summary="Grant a customer credit",
)
def add_credit(
    runtime: RuntimeDep,
    who: Operator,
    body: CreditGrantRequest,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="Send the same key when retrying a grant: it is applied once, and "
            "the retry answers what the first request answered (with `Idempotent-Replayed: "
            "true`). The same key with a different body answers 409.",
            examples=["0b4f3a52-6a1e-4c2b-9d0f-2f1e5c7a9b31"],
        ),
    ] = None,
) -> CreditGrant:
    """The amount is text such as "150.00"; commas, signs, zero, more decimals than the
    currency has, and a currency other than the customer's invoice currency answer 422
    with the reason."""
    config = runtime.tenant(who.tenant)
    check_customer(config, body.customer)
    granted = credits.grant_credit(
        runtime,
        who.tenant,
        body.customer,
        body.amount,
        body.comment,
        who.actor,
        body.currency,
        idempotency_key,
    )
    if granted.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    entry = granted.entry
    return CreditGrant(
        entry=entry.id,
        customer=entry.customer_id,
        amount=money(entry.amount, entry.currency),
        currency=entry.currency,
        balance=money(granted.balance, entry.currency),
    )


@router.post(
    "/periods/close",
    response_model=PeriodClosed,
    responses=responses(401, 403, 404, 422),
    summary="Signal that a provider's period is final",
)
def close_period(runtime: RuntimeDep, who: Operator, body: CloseRequest) -> PeriodClosed:
    """The distributor's closure email, as an API call. Closing twice keeps the first reason."""
    config = runtime.tenant(who.tenant)
    _provider(config, body.provider)
    period = resolve_period(runtime, who.tenant, body.provider, body.period)
    reason = signal_close(runtime, who.tenant, body.provider, period)
    # signal_close keeps no audit entry of its own (the CLI's operator is the shell
    # user); through the API the key that closed the period is recorded here.
    with runtime.db.transaction() as session:
        record(
            session,
            who.tenant,
            who.actor,
            "period.close",
            f"{body.provider}:{period.key}",
            {"reason": reason},
        )
    return PeriodClosed(
        provider=body.provider,
        period=period.key,
        period_start=period.start,
        period_end=period.end,
        reason=reason,
    )


@router.get(
    "/reconciliation",
    response_model=dict[str, Any],
    responses={
        200: {
            "description": "The reconciliation, money as decimal strings.",
            "content": {
                "application/json": {
                    "example": {
                        "tenant": "acme",
                        "provider": "aws",
                        "period": "2026-10",
                        "currency": "USD",
                        "tie_out": {"difference": "0.000000000000", "ties_out": True},
                    }
                }
            },
        },
        **responses(401, 403, 404, 422),
    },
    summary="What the provider billed against what the statements charge",
)
def reconciliation(
    runtime: RuntimeDep,
    who: Staff,
    provider: Annotated[str, Query(**IDENT)],
    period: Annotated[str, Query(pattern=PERIOD_PATTERN, description="YYYY-MM")],
) -> dict[str, Any]:
    config = runtime.tenant(who.tenant)
    _provider(config, provider)
    billing_period = resolve_period(runtime, who.tenant, provider, period)
    return to_dict(reconcile(runtime, who.tenant, provider, billing_period))


@router.get(
    "/reports",
    response_model=dict[str, Any],
    responses={
        200: {"description": "The report (as `connector report --format json`), money as "
                             "decimal strings."},
        **responses(401, 403, 404, 422),
    },
    summary="Live billing report from the stored charges, report and bill views",
)  # fmt: skip
def report(
    runtime: RuntimeDep,
    who: Staff,
    provider: Annotated[str, Query(**IDENT)],
    range_: Annotated[
        str,
        Query(
            alias="range",
            description="month-to-date, last-month, YYYY-MM or YYYY-MM-DD..YYYY-MM-DD",
            max_length=64,
            json_schema_extra=RANGE_RULE,
        ),
    ] = "month-to-date",
    by: Annotated[Literal["customer", "account", "service", "usage-type"], Query()] = "customer",
    customer: Annotated[
        list[str] | None,
        Query(description="Only these customer ids (each must be the tenant's, else 404)."),
    ] = None,
    pricing: Annotated[Literal["period", "latest"], Query()] = "period",
) -> dict[str, Any]:
    """The same report as ``connector report``: provisional for open periods."""
    config = runtime.tenant(who.tenant)
    _provider(config, provider)
    for customer_id in customer or ():
        check_customer(config, customer_id)
    today = dt.date.today()
    try:
        days = parse_range(range_, today)
        built = build_report(runtime, who.tenant, provider, days, by, customer, today, pricing)
    except (ValueError, ReportError) as exc:
        raise BadReportRequest(str(exc)) from None
    return report_dict(built)


@router.get(
    "/plugins",
    response_model=PluginList,
    responses=responses(401, 403),
    summary="Installed plugins and what they provide",
)
def plugins(runtime: RuntimeDep, who: Staff) -> PluginList:
    host = runtime.plugins
    return PluginList(
        plugins=[
            PluginInfo(
                name=r.name,
                distribution=r.distribution,
                version=r.version,
                status=r.status,
                hooks=list(r.hooks),
                error=r.error,
            )
            for r in host.pm.records
        ],
        providers=host.providers.names(),
        sinks=host.sinks.names(),
        renderer_formats=host.renderers.names(),
    )


@router.get("/me", response_model=Me, responses=responses(401), summary="The calling key")
def me(who: Annotated[Principal, Depends(any_key)]) -> Me:
    return Me(key_id=who.key_id, tenant=who.tenant, scope=who.scope, customer=who.customer_id)


@public.get(
    "/health",
    response_model=Health,
    responses={503: {"model": Health, "description": "The database cannot be reached."}},
    summary="Liveness and database reachability",
)
def health(runtime: RuntimeDep, response: Response) -> Health:
    """No key needed; says nothing about tenants."""
    try:
        with runtime.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # any failure means the same thing to a load balancer
        response.status_code = 503
        return Health(status="degraded", database="unreachable")
    return Health(status="ok", database="ok")
