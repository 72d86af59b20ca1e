"""Xero tokens: refreshed once under the organisation's lock, saved; the OAuth connect flow."""

from __future__ import annotations

import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from connector_erp_xero.oauth import authorization_url, exchange_code, token_key
from connector_erp_xero.settings import load_settings

from connector.contracts import PluginError
from tests.erp.token_store import MemoryTokenStore
from tests.erp.xero_fixtures import statements
from tests.erp.xero_helpers import NOW, SETTINGS, TOKEN_KEY, valid_token
from tests.erp.xero_simulator import CLIENT_ID, FakeXero


def expired_store() -> MemoryTokenStore:
    return MemoryTokenStore({TOKEN_KEY: valid_token(expires_at=NOW - 10)})


def test_an_expired_token_is_refreshed_once_under_the_lock_and_the_new_one_saved(harness):
    store = expired_store()
    results = harness.sink(store).push(statements(2))

    assert all(r.ok for r in results), [r.message for r in results]
    assert harness.xero.refreshes == 1
    [saved] = store.saves  # MemoryTokenStore.save asserts the lock is held
    assert saved["refresh_token"] == harness.xero.refresh_token != "refresh-0"
    assert saved["expires_at"] == NOW + 1800
    assert saved["scope"] == ["offline_access", "accounting.transactions", "accounting.contacts"]
    used = {call.headers["Authorization"] for call in harness.xero.calls}
    assert used == {f"Bearer {saved['access_token']}"}


def test_a_token_still_valid_is_used_without_refreshing(harness):
    assert harness.sink().push(statements(1))[0].ok
    assert harness.xero.refreshes == 0
    assert harness.store.saves == []


def test_two_workers_pushing_at_once_refresh_only_once_and_keep_the_newest_token(harness):
    store = expired_store()
    # Customers 1-3 and 4-6: two workers creating one contact at once is another race.
    batches = [statements(3, start=1), statements(3, start=4)]
    sinks = [harness.sink(store), harness.sink(store)]
    start = threading.Barrier(2)
    outcomes: list = [None, None]

    def work(index: int) -> None:
        start.wait()
        outcomes[index] = sinks[index].push(batches[index])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert all(r.ok for results in outcomes for r in results)
    assert harness.xero.refreshes == 1
    assert len(store.saves) == 1
    assert store.load(TOKEN_KEY)["refresh_token"] == harness.xero.refresh_token


def test_a_401_refreshes_the_token_once_and_repeats_the_call(harness):
    harness.xero.access_tokens.clear()  # Xero revoked the access token early
    [result] = harness.sink().push(statements(1))

    assert result.ok, result.message
    assert harness.xero.refreshes == 1
    assert len(harness.store.saves) == 1


def test_a_refused_refresh_token_fails_the_push_asking_to_reconnect(harness):
    store = MemoryTokenStore(
        {TOKEN_KEY: {**valid_token(expires_at=NOW - 10), "refresh_token": "retired"}}
    )
    [result] = harness.sink(store).push(statements(1))

    assert not result.ok
    assert "invalid_grant" in result.message and "connector erp connect xero" in result.message
    assert store.saves == [] and harness.xero.invoices == {}


def test_an_organisation_never_connected_fails_the_push_asking_to_connect(harness):
    [result] = harness.sink(MemoryTokenStore()).push(statements(1))

    assert not result.ok and "is not connected" in result.message
    assert harness.xero.calls == []


def test_the_authorization_url_asks_for_the_sinks_scopes_and_carries_the_state():
    url = authorization_url(SETTINGS, "state-123")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://login.xero.com/identity/connect/authorize"
    )
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["state"] == "state-123"
    assert query["redirect_uri"] == "http://localhost:8765/xero/callback"
    assert "offline_access" in query["scope"].split()


def test_exchange_code_returns_the_token_to_store_with_an_absolute_expiry():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        xero = FakeXero(mock)
        token = exchange_code(
            SETTINGS,
            "http://localhost:8765/xero/callback?code=good-code&state=s1",
            expected_state="s1",
            clock=lambda: NOW,
        )
    assert token["refresh_token"] == xero.refresh_token
    assert token["expires_at"] == NOW + 1800
    assert isinstance(token["scope"], list)
    assert token_key(SETTINGS) == TOKEN_KEY


@pytest.mark.parametrize(
    ("redirect", "state", "expected"),
    [
        ("http://localhost:8765/xero/callback?error=access_denied", None, "access_denied"),
        ("http://localhost:8765/xero/callback?state=s1", None, "no `code`"),
        ("http://localhost:8765/xero/callback?code=good-code&state=evil", "s1", "`state`"),
        ("http://localhost:8765/xero/callback?code=stolen", None, "refused the authorisation"),
    ],
)
def test_exchange_code_refuses_a_redirect_that_does_not_authorise(redirect, state, expected):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        FakeXero(mock)
        with pytest.raises(PluginError, match=expected):
            exchange_code(SETTINGS, redirect, expected_state=state)


def test_invalid_settings_name_every_bad_key_and_never_echo_the_secret():
    raw = {**SETTINGS, "client_secret": "hunter2-secret", "status": "PAID", "colour": "red"}
    with pytest.raises(PluginError) as caught:
        load_settings(raw, "northwind")
    message = str(caught.value)
    assert "tenant northwind" in message and "status" in message and "colour" in message
    assert "hunter2-secret" not in message
