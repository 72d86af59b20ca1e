"""Whether a period's data is final, and by which signal: said, never recorded.

A period closes on the first of three signals (:mod:`connector.pipeline.close.close`): the
provider marks its data final (its invoice is issued: AWS puts an invoice id on every
row, Azure and FOCUS exports carry the invoice, SoftLayer creates the recurring
invoice), an operator signals it (``connector close``), or the configured number of
business days after the period's end passes. ``ingest`` and ``report`` tell the
operator which holds without closing anything: the close is recorded by the daemon or
the first build, with the configuration that prices the period.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from connector.config.tenant import TenantConfig
from connector.contracts import BillingPeriod
from connector.domain.business_days import closes_on
from connector.pipeline.close.close import closed_reason

PROVIDER, MANUAL, BUSINESS_DAYS = "provider", "manual", "business-days"


@dataclass(frozen=True, slots=True)
class Finality:
    """Final or not, the signal (``provider``, ``manual``, ``business-days``; ``None``
    while open), whether that close is recorded yet, and the business-day rule's date."""

    final: bool
    signal: str | None
    recorded: bool
    closes_on: dt.date
    provider: str
    business_days: int

    @property
    def why(self) -> str:
        """The reason in the operator's words."""
        if self.signal == MANUAL:
            return "closed by an operator's signal (connector close)"
        if self.signal == PROVIDER:
            return f"{self.provider} marked the data final (its invoice is issued)"
        if self.signal == BUSINESS_DAYS:
            return (
                f"{self.business_days} business days after the period's end passed on "
                f"{self.closes_on}"
            )
        return (
            f"{self.provider} has not marked it final (no invoice yet); it closes on "
            f"{self.closes_on} ({self.business_days} business days after the period's "
            "end), or earlier on connector close"
        )


def finality(
    session: Session,
    config: TenantConfig,
    provider: str,
    period: BillingPeriod,
    provider_final: bool,
    today: dt.date,
) -> Finality:
    """``period``'s finality on ``today``: a recorded close first, then the provider's
    ``final`` flag on the current data, then the business-day rule."""
    rule = config.providers[provider].close
    closing = closes_on(period.end, rule.business_days, config.close_country(provider))
    recorded = closed_reason(session, config.tenant, provider, period)
    signal = recorded
    if signal is None and provider_final:
        signal = PROVIDER
    if signal is None and today >= closing:
        signal = BUSINESS_DAYS
    return Finality(
        final=signal is not None,
        signal=signal,
        recorded=recorded is not None,
        closes_on=closing,
        provider=provider,
        business_days=rule.business_days,
    )
