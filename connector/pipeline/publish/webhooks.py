"""Webhook deliveries: recorded events POSTed, signed, to the tenant's endpoints.

Steps record events in their own transactions (``connector.runtime.webhook_events``);
:func:`deliver` sends the due ones, at least once. The ERP outbox is one row per
statement, so webhooks have a parallel one (``webhook_deliveries``, a row per event and
endpoint), claimed the same way (in flight under a lease, each row by one sender) and
retried with the same backoff (:func:`~connector.pipeline.publish.publish.retry_delay`:
about 1, 2, 4 ... minutes, at most an hour, with jitter), up to :data:`MAX_ATTEMPTS`;
then the delivery is dead and waits for ``connector webhooks retry``.

Each attempt sends the stored body under the event's id with a fresh timestamp and
signature (``connector.webhooks``); waits at most the endpoint's ``timeout_seconds``
for each step of the call; follows no redirect (a 3xx fails, naming where it points);
counts only a 2xx as delivered; and keeps the answer's status and its first
:data:`RESPONSE_KEPT` characters, never more. An endpoint that fails is not tried
again in the same pass: its other due events wait, without an attempt counted, so a
receiver that is down costs one timeout per pass, not one per event.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, aliased

from connector.config.references import resolve_reference
from connector.config.tenant import WebhookEndpoint
from connector.masking import mask_secrets
from connector.pipeline.publish.publish import in_flight_lease, retry_delay
from connector.runtime.audit import record
from connector.runtime.runtime import Runtime
from connector.runtime.tenants import sync_tenant_once
from connector.runtime.webhook_events import add_event
from connector.storage import models as m
from connector.storage.models import utcnow
from connector.webhooks import TEST, signed_headers

log = logging.getLogger(__name__)

STATES = ("pending", "in_flight", "delivered", "failed", "dead")
MAX_ATTEMPTS = 10  # about four hours of retries with retry_delay's waits
RESPONSE_KEPT = 200  # characters of an answer's body kept (the column's length)
BATCH = 20  # claimed at a time: 20 attempts of 10 s fit in the default 300 s lease
USER_AGENT = "billing-connector-webhooks"
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")

W = m.WebhookDelivery


class WebhookError(LookupError):
    """A request that names an endpoint or event that is not there."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event for one endpoint, as ``connector webhooks list`` shows it."""

    event_id: str
    event_type: str
    endpoint: str
    subject: str | None
    state: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    last_response: str | None
    created_at: dt.datetime
    delivered_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Sent:
    """What one delivery came to in a pass: delivered, failed, dead, or waiting (not
    tried: its endpoint failed earlier in the pass)."""

    event_id: str
    event_type: str
    endpoint: str
    state: str
    message: str


@dataclass(frozen=True, slots=True)
class _Claim:
    id: int
    event_id: str
    event_type: str
    endpoint: str
    body: str
    attempts: int  # the count once claimed: the claim's token


@dataclass(frozen=True, slots=True)
class _Answer:
    ok: bool
    message: str
    status: int | None = None
    response: str | None = None


def _due(at: dt.datetime, lease: dt.timedelta, row=W):  # type: ignore[no-untyped-def]
    return or_(
        row.state == "pending",
        (row.state == "failed") & (row.next_attempt_at <= at),
        (row.state == "in_flight") & (row.updated_at <= at - lease),
    )


def _claim(
    session: Session, tenant: str, at: dt.datetime, lease: dt.timedelta, event_id: str | None
) -> list[_Claim]:
    """Up to :data:`BATCH` due deliveries, oldest first, marked in flight for this sender
    alone (PostgreSQL skips rows another sender is claiming; SQLite serialises)."""
    other = aliased(W)
    candidates = (
        select(other.id)
        .where(other.tenant_id == tenant, _due(at, lease, other))
        .order_by(other.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    if event_id is not None:
        candidates = candidates.where(other.event_id == event_id)
    claimed = session.execute(
        update(W)
        .where(W.id.in_(candidates.scalar_subquery()), _due(at, lease))
        .values(state="in_flight", attempts=W.attempts + 1, updated_at=at)
        .returning(W.id, W.event_id, W.event_type, W.endpoint, W.body, W.attempts)
        .execution_options(synchronize_session=False)
    )
    return sorted((_Claim(*row) for row in claimed), key=lambda c: c.id)


def _kept(response: httpx.Response) -> str:
    """The start of the answer's body, printable, at most :data:`RESPONSE_KEPT` long."""
    read = b""
    for chunk in response.iter_bytes():
        read += chunk
        if len(read) >= RESPONSE_KEPT * 4:  # enough for RESPONSE_KEPT characters
            break
    text = _UNPRINTABLE.sub(" ", read.decode("utf-8", "replace")).strip()
    return mask_secrets(text)[:RESPONSE_KEPT]


def _post(client: httpx.Client, endpoint: WebhookEndpoint, claim: _Claim, secret: str) -> _Answer:
    body = claim.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed_headers(claim.event_id, secret, body, int(time.time())),
    }
    wait = endpoint.timeout_seconds
    try:
        with client.stream(
            "POST", endpoint.url, content=body, headers=headers, timeout=wait
        ) as response:
            kept = _kept(response)
    except httpx.TimeoutException:
        return _Answer(False, f"no answer within {wait:g} s (webhooks[].timeout_seconds)")
    except httpx.HTTPError as exc:
        return _Answer(False, f"{type(exc).__name__}: {exc}")
    status = response.status_code
    if response.is_success:
        return _Answer(True, f"HTTP {status}", status, kept)
    message = f"HTTP {status} {response.reason_phrase}".rstrip()
    if response.is_redirect:
        message += (
            f" to {response.headers.get('location', '?')}: redirects are not followed; "
            "set webhooks[].url to the address events should go to"
        )
    return _Answer(False, message, status, kept)


def _settle(runtime: Runtime, claim: _Claim, state: str, answer: _Answer, at: dt.datetime) -> Sent:
    values = {"state": state, "last_status": answer.status, "last_response": answer.response}
    if state == "delivered":
        # A fact even if the lease ran out and another sender holds the row now.
        held = (W.id == claim.id) & (W.state != "delivered")
        values.update(last_error=None, next_attempt_at=None, delivered_at=utcnow())
    else:
        held = (W.id == claim.id) & (W.state == "in_flight") & (W.attempts == claim.attempts)
        later = None if state == "dead" else at + retry_delay(claim.attempts)
        values.update(last_error=answer.message, next_attempt_at=later)
    with runtime.db.transaction() as session:
        session.execute(update(W).where(held).values(**values))
    (log.error if state == "dead" else log.info)(
        "webhook %s %s to %s: %s (%s)", claim.event_type, claim.event_id, claim.endpoint,
        state, answer.message,
    )  # fmt: skip
    return Sent(claim.event_id, claim.event_type, claim.endpoint, state, answer.message)


def _wait(runtime: Runtime, claim: _Claim, why: str, until: dt.datetime) -> Sent:
    """Hand a claimed delivery back untried, its attempt not counted."""
    message = f"not tried: {why}"
    with runtime.db.transaction() as session:
        session.execute(
            update(W)
            .where(W.id == claim.id, W.state == "in_flight", W.attempts == claim.attempts)
            .values(
                state="failed", attempts=W.attempts - 1, next_attempt_at=until, last_error=message
            )
        )
    return Sent(claim.event_id, claim.event_type, claim.endpoint, "waiting", message)


def deliver(
    runtime: Runtime, tenant: str, *, now: dt.datetime | None = None, event_id: str | None = None
) -> list[Sent]:
    """Send the tenant's due webhook deliveries (only ``event_id``'s when given).

    ``now`` is when retries are scheduled from (default: the clock); a signature's
    timestamp is always the clock's.
    """
    config = runtime.tenant(tenant)
    at = now or utcnow()
    endpoints = {e.name: e for e in config.webhooks}
    failed: dict[str, tuple[str, dt.datetime]] = {}  # endpoint -> why, when it is due
    sent: list[Sent] = []
    with httpx.Client(follow_redirects=False) as client:
        while True:
            with runtime.db.transaction() as session:
                claims = _claim(session, tenant, at, in_flight_lease(runtime), event_id)
            if not claims:
                return sent
            for claim in claims:
                endpoint = endpoints.get(claim.endpoint)
                if endpoint is None:
                    why = (f"endpoint {claim.endpoint!r} is no longer in the tenant file; "
                           "add it back to webhooks and `connector webhooks retry`")  # fmt: skip
                    sent.append(_settle(runtime, claim, "dead", _Answer(False, why), at))
                    continue
                if claim.endpoint in failed:
                    why, until = failed[claim.endpoint]
                    sent.append(_wait(runtime, claim, why, until))
                    continue
                try:
                    secret = resolve_reference(endpoint.secret, config.base_dir)
                    answer = _post(client, endpoint, claim, secret)
                except LookupError as exc:  # the secret is not where the file says
                    answer = _Answer(False, f"webhooks[].secret: {exc}")
                if answer.ok:
                    sent.append(_settle(runtime, claim, "delivered", answer, at))
                    continue
                state = "dead" if claim.attempts >= MAX_ATTEMPTS else "failed"
                sent.append(_settle(runtime, claim, state, answer, at))
                why = f"endpoint {claim.endpoint!r} failed earlier in this pass: {answer.message}"
                failed[claim.endpoint] = (why, at + retry_delay(claim.attempts))


def deliveries(
    runtime: Runtime, tenant: str, states: Sequence[str] = (), endpoint: str | None = None
) -> list[Delivery]:
    """The tenant's webhook deliveries, oldest first; only ``states`` or ``endpoint``
    when given."""
    query = select(W).where(W.tenant_id == tenant).order_by(W.id)
    if states:
        query = query.where(W.state.in_(states))
    if endpoint is not None:
        query = query.where(W.endpoint == endpoint)
    with runtime.db.transaction() as session:
        return [
            Delivery(d.event_id, d.event_type, d.endpoint, d.subject, d.state, d.attempts,
                     d.next_attempt_at, d.last_status, d.last_error, d.last_response,
                     d.created_at, d.delivered_at)
            for d in session.scalars(query)
        ]  # fmt: skip


def retry(
    runtime: Runtime, tenant: str, refs: Sequence[str], actor: str, endpoint: str | None = None
) -> list[str]:
    """Make deliveries pending again, now; returns their event ids.

    ``refs`` are event ids or unique starts of them; empty means every dead delivery.
    A delivered event named is sent again (receivers de-duplicate on its id).
    """
    with runtime.db.transaction() as session:
        query = select(W).where(W.tenant_id == tenant)
        if endpoint is not None:
            query = query.where(W.endpoint == endpoint)
        found = list(session.scalars(query))
        chosen = [d for d in found if d.state == "dead"] if not refs else []
        for ref in refs:
            fits = [d for d in found if d.event_id.startswith(ref.lower())]
            events = sorted({d.event_id for d in fits})
            if not events:
                where = f" for endpoint {endpoint!r}" if endpoint else ""
                raise WebhookError(f"tenant {tenant!r} has no webhook event {ref!r}{where}")
            if len(events) > 1:
                raise WebhookError(
                    f"{ref!r} starts the ids of several events ({', '.join(events)}): give more"
                )
            chosen += [d for d in fits if d not in chosen]
        for delivery in chosen:
            delivery.state, delivery.attempts, delivery.next_attempt_at = "pending", 0, None
            record(session, tenant, actor, "webhook.retry", delivery.event_id,
                   {"endpoint": delivery.endpoint, "last_error": delivery.last_error})  # fmt: skip
        return list(dict.fromkeys(d.event_id for d in chosen))


def send_test(runtime: Runtime, tenant: str, endpoint: str, actor: str) -> Sent:
    """Record a ``webhook.test`` event for ``endpoint`` alone and send it now."""
    config = runtime.tenant(tenant)
    chosen = [e for e in config.webhooks if e.name == endpoint]
    if not chosen:
        known = ", ".join(e.name for e in config.webhooks) or "none in the tenant file"
        raise WebhookError(f"tenant {tenant!r} has no webhook endpoint {endpoint!r} ({known})")
    sync_tenant_once(runtime.db, config)  # its row holds the deliveries (a new database)
    with runtime.db.transaction() as session:
        event_id = add_event(session, tenant, chosen, TEST, {"endpoint": endpoint, "by": actor})
    sent = deliver(runtime, tenant, event_id=event_id)
    # Empty only if a running daemon claimed the event first: it sends it.
    return sent[0] if sent else Sent(event_id, TEST, endpoint, "in_flight", "sent by the daemon")
