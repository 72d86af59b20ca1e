"""Connecting a QuickBooks company and refreshing its tokens, with no discovery fetch."""

from __future__ import annotations

import base64
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from connector_erp_quickbooks.limits import TransientError
from connector_erp_quickbooks.oauth import (
    DISCOVERY,
    StaticAuthClient,
    TokenManager,
    authorization_url,
    exchange_code,
)
from connector_erp_quickbooks.plugin import QuickBooksSink
from connector_erp_quickbooks.settings import QuickBooksSettings
from intuitlib.client import AuthClient
from intuitlib.config import DISCOVERY_URL

from connector.contracts import PluginError, SinkContext
from tests.erp.quickbooks_fixtures import KEY
from tests.erp.quickbooks_fixtures import SETTINGS as SINK_SETTINGS
from tests.erp.quickbooks_sim import NOW, REALM, FakeQuickBooks, Fault, token
from tests.erp.token_store import MemoryTokenStore

REDIRECT = "https://connector.example/quickbooks/callback"
SETTINGS = {**SINK_SETTINGS, "redirect_uri": REDIRECT}


def test_building_the_sink_and_the_authorisation_url_calls_no_url():
    # Strict mock with nothing registered: any request at all raises ConnectionError.
    with responses.RequestsMock() as rsps:
        context = SinkContext("northwind", Path("/nonexistent"), "run-1", tokens=MemoryTokenStore())
        QuickBooksSink({k: v for k, v in SETTINGS.items() if k != "redirect_uri"}, context)
        authorization_url(SETTINGS, "state-123")
        assert len(rsps.calls) == 0


def test_the_sdk_auth_client_alone_would_fetch_the_discovery_document():
    """Why StaticAuthClient exists: under the same strict mock the SDK's constructor fails."""
    with responses.RequestsMock(), pytest.raises(requests.ConnectionError):
        AuthClient("id", "secret", REDIRECT, "sandbox")


@pytest.mark.parametrize("environment", ["sandbox", "production"])
def test_the_static_client_sets_what_the_sdk_constructor_sets(environment):
    with responses.RequestsMock() as rsps:
        rsps.get(DISCOVERY_URL[environment], json=DISCOVERY[environment])
        sdk = AuthClient("id", "secret", REDIRECT, environment)
    ours = StaticAuthClient("id", "secret", REDIRECT, environment)
    assert set(vars(ours)) == set(vars(sdk))
    for name in ("auth_endpoint", "token_endpoint", "revoke_endpoint", "issuer_uri", "jwks_uri"):
        assert getattr(ours, name) == getattr(sdk, name)
    assert ours.user_info_url == sdk.user_info_url


def test_the_authorisation_url_asks_for_the_accounting_scope_with_our_state():
    url = authorization_url(SETTINGS, "state-123")
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert (
        f"{parts.scheme}://{parts.netloc}{parts.path}"
        == "https://appcenter.intuit.com/connect/oauth2"
    )
    assert query == {
        "client_id": "app-client-id",
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting",
        "redirect_uri": REDIRECT,
        "state": "state-123",
    }


def test_connecting_needs_the_redirect_uri():
    settings = {k: v for k, v in SETTINGS.items() if k != "redirect_uri"}
    with pytest.raises(PluginError, match="redirect_uri"):
        authorization_url(settings, "s")


def redirect(**params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{REDIRECT}?{query}"


def test_exchange_code_trades_the_code_for_a_token_dict():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sim = FakeQuickBooks(rsps)
        tokens = exchange_code(
            SETTINGS,
            redirect(code="good-code", state="s1", realmId=REALM),
            expected_state="s1",
            now=lambda: NOW,
        )
        [call] = [c for c in rsps.calls if "tokens/bearer" in c.request.url]
    form = {k: v[0] for k, v in parse_qs(call.request.body).items()}
    assert form == {
        "grant_type": "authorization_code",
        "code": "good-code",
        "redirect_uri": REDIRECT,
    }
    basic = base64.b64encode(b"app-client-id:app-client-secret").decode()
    assert call.request.headers["Authorization"] == f"Basic {basic}"
    assert tokens == {
        "access_token": "access-1",
        "refresh_token": "refresh-1",
        "expires_at": NOW + 3600,
        "refresh_token_expires_at": NOW + 8726400,
        "realm_id": REALM,
    }
    assert sim.refreshes == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (redirect(code="good-code", state="s1", realmId="999"), "company 999"),
        (redirect(code="good-code", state="other", realmId=REALM), "state"),
        (redirect(error="access_denied", state="s1"), "access_denied"),
        (redirect(state="s1", realmId=REALM), "no code="),
    ],
)
def test_exchange_code_refuses_a_redirect_it_should_not_trust(url, message):
    with responses.RequestsMock() as rsps:
        with pytest.raises(PluginError, match=message):
            exchange_code(SETTINGS, url, expected_state="s1")
        assert len(rsps.calls) == 0


def test_a_refused_code_says_so():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeQuickBooks(rsps)
        with pytest.raises(PluginError, match="HTTP 400.*invalid_grant"):
            exchange_code(SETTINGS, redirect(code="bad", realmId=REALM))


def test_two_workers_refreshing_at_once_refresh_once_and_keep_the_newest_token():
    settings = QuickBooksSettings.model_validate(SETTINGS)
    store = MemoryTokenStore({KEY: token(expires_at=NOW - 1)})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        sim = FakeQuickBooks(rsps)
        sim.token_delay = 0.05  # a slow token endpoint: the second worker arrives meanwhile
        workers = [TokenManager(settings, store, now=lambda: NOW) for _ in range(2)]
        start = threading.Barrier(2)
        got: list[str] = []

        def work(manager: TokenManager) -> None:
            start.wait()
            got.append(manager.access_token())

        threads = [threading.Thread(target=work, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sim.refreshes == 1
    assert got == ["access-1", "access-1"]
    assert store.tokens[KEY]["refresh_token"] == sim.refresh_token == "refresh-1"
    assert len(store.saves) == 1


def test_a_fresh_token_is_used_without_the_lock_or_the_network():
    settings = QuickBooksSettings.model_validate(SETTINGS)
    store = MemoryTokenStore({KEY: token()})
    manager = TokenManager(settings, store, now=lambda: NOW)
    with responses.RequestsMock():
        assert manager.access_token() == "access-0"
        assert manager.access_token() == "access-0"
    assert store.saves == []


def test_a_token_close_to_expiry_is_refreshed_ahead_of_time():
    settings = QuickBooksSettings.model_validate(SETTINGS)
    store = MemoryTokenStore({KEY: token(expires_at=NOW + 60)})  # inside the 5-minute margin
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeQuickBooks(rsps)
        assert TokenManager(settings, store, now=lambda: NOW).access_token() == "access-1"


def test_a_5xx_from_the_token_service_is_transient():
    settings = QuickBooksSettings.model_validate(SETTINGS)
    store = MemoryTokenStore({KEY: token(expires_at=NOW - 1)})
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        FakeQuickBooks(rsps).inject("token", Fault(status=503))
        with pytest.raises(TransientError, match="token service failed"):
            TokenManager(settings, store, now=lambda: NOW).access_token()
    assert store.tokens[KEY]["refresh_token"] == "refresh-0"
