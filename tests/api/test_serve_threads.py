"""``api.threads``: how many requests one server process works on at once; the rest
wait their turn in the order they came (issue 24: 40 at once answered the slowest
hundredth of 50 listing clients later than a few at once)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from connector.api import queries
from connector.runtime.runtime import Runtime
from tests.api.conftest import auth, statement_ids

REQUESTS = 6


def _most_at_once(runtime: Runtime, key: str, monkeypatch: pytest.MonkeyPatch) -> int:
    """The most requests for one statement inside its database read at once, of
    ``REQUESTS`` sent together (a route that reads in a worker thread: the list reads
    PostgreSQL on the event loop)."""
    from connector.api import create_app

    lock, inside, most = threading.Lock(), [0], [0]
    read = queries.get_visible

    def slow_read(*args, **kwargs):  # type: ignore[no-untyped-def]
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.3)
        with lock:
            inside[0] -= 1
        return read(*args, **kwargs)

    monkeypatch.setattr("connector.api.statements.get_visible", slow_read)
    ident = statement_ids(runtime, "acme")["1001"]
    with TestClient(create_app(runtime)) as client, ThreadPoolExecutor(REQUESTS) as pool:
        answers = list(
            pool.map(
                lambda _: client.get(f"/v1/statements/{ident}", headers=auth(key)), range(REQUESTS)
            )
        )
    assert [a.status_code for a in answers] == [200] * REQUESTS
    return most[0]


def test_a_server_works_on_at_most_its_threads_requests_at_once(
    runtime: Runtime, keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime.settings.api.threads = 2
    assert _most_at_once(runtime, keys.read, monkeypatch) == 2


def test_the_default_lets_every_one_of_a_few_requests_run_at_once(
    runtime: Runtime, keys, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runtime.settings.api.threads >= REQUESTS
    assert _most_at_once(runtime, keys.read, monkeypatch) == REQUESTS
