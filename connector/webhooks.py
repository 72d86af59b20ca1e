"""Signed webhook events: what the connector sends, and :func:`verify` for receivers.

Every request is a JSON event (``id``, ``type``, ``created_at``, ``tenant``, ``data``)
POSTed to an endpoint of the tenant file, with three headers:

- ``Connector-Webhook-Id``: the event's id, a UUID, the same on every retry of the event
  and for every endpoint it goes to: receivers de-duplicate on it (delivery is at least
  once);
- ``Connector-Webhook-Timestamp``: when this attempt was signed, in Unix seconds;
- ``Connector-Webhook-Signature``: ``t=<timestamp>,v1=<hex HMAC-SHA256>``, the HMAC of
  ``<timestamp>.<body>`` under the endpoint's secret, as Stripe signs its webhooks.

Signing the timestamp with the body is the replay protection: :func:`verify` refuses a
request whose timestamp is further than ``tolerance`` seconds from now, so a captured
request cannot be sent again later, and one inside the window repeats an event id the
receiver has already seen. docs/webhooks.md shows a receiver.

This module imports nothing of the connector: a receiver may use it on its own.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

#: What the connector announces, in the order a statement lives through them.
DRAFTED = "statement.drafted"
APPROVED = "statement.approved"
VOIDED = "statement.voided"
DELIVERED = "statement.delivered"
PAID = "statement.paid"
PAST_DUE = "statement.past_due"
DELIVERY_DEAD = "delivery.dead"
EVENT_TYPES = (DRAFTED, APPROVED, VOIDED, DELIVERED, PAID, PAST_DUE, DELIVERY_DEAD)
#: Sent by ``connector webhooks test`` to one endpoint, whatever events it chose.
TEST = "webhook.test"

ID_HEADER = "Connector-Webhook-Id"
TIMESTAMP_HEADER = "Connector-Webhook-Timestamp"
SIGNATURE_HEADER = "Connector-Webhook-Signature"
#: How far (seconds) a request's timestamp may be from the receiver's clock.
DEFAULT_TOLERANCE = 300
SCHEME = "v1"


class WebhookVerificationError(ValueError):
    """A request that is not a genuine, fresh event: the message says what failed."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(event_id: str, secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The three headers of one attempt to deliver ``body`` (the event ``event_id``)."""
    return {
        ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"t={timestamp},{SCHEME}={signature(secret, timestamp, body)}",
    }


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def _parse_signature(value: str) -> tuple[int, list[str]]:
    timestamp, signatures = None, []
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        if key == "t" and item.isdigit():
            timestamp = int(item)
        elif key == SCHEME:
            signatures.append(item)
    if timestamp is None or not signatures:
        raise WebhookVerificationError(
            f"{SIGNATURE_HEADER} must read t=<unix seconds>,{SCHEME}=<hex HMAC-SHA256>"
        )
    return timestamp, signatures


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str | Sequence[str],
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> dict[str, Any]:
    """The event in ``body`` if the request is genuine and fresh; raises otherwise.

    :param body: the request body exactly as received (bytes, before any JSON parsing).
    :param headers: the request headers (any mapping; names in any case).
    :param secret: the endpoint's secret, or several while one is being replaced.
    :param tolerance: seconds the signed timestamp may be from ``now`` (default 300).
    :raises WebhookVerificationError: a header is missing or malformed, the signature
        does not match, the timestamp is outside the tolerance (a replayed or delayed
        request), or the id header is not the signed event's id.
    """
    value = _header(headers, SIGNATURE_HEADER)
    if value is None:
        raise WebhookVerificationError(f"no {SIGNATURE_HEADER} header: not a connector event")
    timestamp, given = _parse_signature(value)
    stated = _header(headers, TIMESTAMP_HEADER)
    if stated is not None and stated.strip() != str(timestamp):
        raise WebhookVerificationError(
            f"{TIMESTAMP_HEADER} {stated!r} is not the signed timestamp {timestamp}"
        )
    secrets = [secret] if isinstance(secret, str) else list(secret)
    expected = [signature(s, timestamp, body) for s in secrets]
    if not any(hmac.compare_digest(e, g) for e in expected for g in given):
        raise WebhookVerificationError(
            "the signature does not match the body: a different secret, or a changed body "
            "(verify the raw bytes received, before parsing them)"
        )
    age = (time.time() if now is None else now) - timestamp
    if age > tolerance:
        raise WebhookVerificationError(
            f"the request was signed {age:.0f} s ago, more than the tolerance of "
            f"{tolerance:g} s: a replayed or delayed request"
        )
    if -age > tolerance:
        raise WebhookVerificationError(
            f"the request is signed {-age:.0f} s in the future, more than the tolerance of "
            f"{tolerance:g} s: the sender's clock or this one is wrong"
        )
    event = json.loads(body)
    event_id = _header(headers, ID_HEADER)
    if event_id is not None and event_id != event.get("id"):
        raise WebhookVerificationError(
            f"{ID_HEADER} {event_id!r} is not the signed event's id {event.get('id')!r}"
        )
    return event
