"""verify(): what a receiver accepts (genuine and fresh) and refuses, with why."""

from __future__ import annotations

import json

import pytest

from connector.webhooks import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookVerificationError,
    signature,
    signed_headers,
    verify,
)

SECRET = "whsec-0123"
NOW = 1_780_000_000
EVENT_ID = "0f8e2a8c-1c7b-4c5e-9a53-4a8f4d0f1b2e"
BODY = json.dumps({"id": EVENT_ID, "type": "statement.paid", "data": {}}).encode()


def headers(**changes: str) -> dict[str, str]:
    found = signed_headers(EVENT_ID, SECRET, BODY, NOW)
    found.update(changes)
    return found


def test_a_genuine_fresh_request_gives_its_event() -> None:
    assert verify(BODY, headers(), SECRET, now=NOW + 299)["type"] == "statement.paid"


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body_as_stripe_signs() -> None:
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, NOW, BODY) == expected
    assert headers()[SIGNATURE_HEADER] == f"t={NOW},v1={expected}"


def test_header_names_are_matched_in_any_case() -> None:
    lower = {name.lower(): value for name, value in headers().items()}
    assert verify(BODY, lower, SECRET, now=NOW)["id"] == EVENT_ID


@pytest.mark.parametrize(
    ("body", "given", "secret", "now", "why"),
    [
        (BODY.replace(b"paid", b"void"), headers(), SECRET, NOW, "signature does not match"),
        (BODY, headers(), "another-secret", NOW, "signature does not match"),
        (BODY, headers(), SECRET, NOW + 301, "signed 301 s ago, more than the tolerance of 300"),
        (BODY, headers(), SECRET, NOW - 301, "signed 301 s in the future"),
        (BODY, headers(**{SIGNATURE_HEADER: "v1=abc"}), SECRET, NOW, "must read t=<unix"),
        (BODY, {ID_HEADER: EVENT_ID}, SECRET, NOW, "no Connector-Webhook-Signature header"),
        (BODY, headers(**{TIMESTAMP_HEADER: str(NOW + 1)}), SECRET, NOW,
         "is not the signed timestamp"),
        (BODY, headers(**{ID_HEADER: "another-id"}), SECRET, NOW, "is not the signed event's id"),
    ],
    ids=["changed body", "wrong secret", "replayed later", "from the future",
         "no timestamp", "unsigned", "timestamp header swapped", "id header swapped"],
)  # fmt: skip
def test_a_forged_replayed_or_changed_request_is_refused(body, given, secret, now, why) -> None:
    with pytest.raises(WebhookVerificationError, match=why):
        verify(body, given, secret, now=now)


def test_a_resigned_old_body_cannot_pass_for_fresh_without_the_secret() -> None:
    """Moving the timestamp forward breaks the signature: replay needs the secret."""
    replayed = headers(**{SIGNATURE_HEADER: headers()[SIGNATURE_HEADER].replace(
        f"t={NOW}", f"t={NOW + 3600}"), TIMESTAMP_HEADER: str(NOW + 3600)})  # fmt: skip
    with pytest.raises(WebhookVerificationError, match="signature does not match"):
        verify(BODY, replayed, SECRET, now=NOW + 3600)


def test_either_of_two_secrets_verifies_while_one_replaces_the_other() -> None:
    assert verify(BODY, headers(), ["new-secret", SECRET], now=NOW)["id"] == EVENT_ID
