"""Issue 19, defect 5: failed authentication is throttled per address and per key id."""

from __future__ import annotations

import logging
import re

from connector.api import create_app
from connector.api.guard import Limits
from connector.api.throttle import FailureThrottle, subjects
from tests.api.conftest import TestClient, auth

WRONG = "bc_0123456789ab_" + "0" * 64


def _client(runtime, failures: int = 3, address: str = "203.0.113.7") -> TestClient:  # type: ignore[no-untyped-def]
    app = create_app(runtime, Limits(failures=failures, window=60.0))
    return TestClient(app, client=(address, 40000))


def test_wrong_keys_from_one_address_are_answered_429_with_retry_after(
    runtime, keys, caplog
) -> None:
    client = _client(runtime)
    wrong = [f"bc_{n:012x}_{'1' * 64}" for n in range(5)]
    assert [client.get("/v1/me", headers=auth(k)).status_code for k in wrong[:3]] == [401] * 3
    with caplog.at_level(logging.WARNING, logger="connector.api.throttle"):
        locked = client.get("/v1/me", headers=auth(wrong[3]))
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["retry-after"]) <= 60
    assert "too many failed authentications" in locked.json()["detail"]
    assert "address 203.0.113.7" in caplog.text and wrong[3][16:] not in caplog.text
    # The lockout covers the address, whatever it sends, and reads no body.
    approve = client.post("/v1/statements/approve", content=b"x" * 5000, headers=auth(WRONG))
    assert approve.status_code == 429


def test_one_key_id_tried_from_many_addresses_is_throttled(runtime, keys) -> None:
    app = create_app(runtime, Limits(failures=3, window=60.0))
    answers = []
    for n in range(4):
        with TestClient(app, client=(f"198.51.100.{n}", 40000)) as client:
            answers.append(client.get("/v1/me", headers=auth(WRONG)).status_code)
    assert answers == [401, 401, 401, 429]
    # Another address with another key is not locked out by that key id.
    with TestClient(app, client=("198.51.100.99", 40000)) as other:
        assert other.get("/v1/me", headers=auth(keys.read)).status_code == 200


def test_successful_requests_are_not_counted_or_slowed(runtime, keys) -> None:
    client = _client(runtime, failures=2)
    assert client.get("/v1/me", headers=auth(WRONG)).status_code == 401
    for _ in range(50):
        assert client.get("/v1/me", headers=auth(keys.read)).status_code == 200


def test_failed_review_logins_are_throttled(runtime, keys) -> None:
    client = _client(runtime)

    def log_in(key: str) -> int:
        form = client.get("/review/login").text
        token = re.search(r'name="login_token" value="([^"]+)"', form)[1]  # type: ignore[index]
        return client.post(
            "/review/login", data={"key": key, "login_token": token}, follow_redirects=False
        ).status_code

    assert [log_in(WRONG) for _ in range(3)] == [401, 401, 401]
    assert log_in(keys.operator) == 429
    answer = client.post("/review/login", data={"key": WRONG, "login_token": "x"})
    assert answer.status_code == 429 and answer.headers["retry-after"]


def test_the_bucket_refills_and_memory_stays_bounded() -> None:
    now = [0.0]
    throttle = FailureThrottle(failures=2, window=10.0, max_entries=100, clock=lambda: now[0])
    who = subjects("192.0.2.1", WRONG)
    assert who == ("address 192.0.2.1", "key 0123456789ab")
    throttle.failed(who)
    assert throttle.retry_after(who) is None
    throttle.failed(who)
    assert throttle.retry_after(who) == 5  # one failure back every 5 s
    now[0] = 5.0
    assert throttle.retry_after(who) is None
    for n in range(1000):
        throttle.failed(subjects(f"10.0.{n // 256}.{n % 256}", None))
    assert len(throttle._buckets) == 100
