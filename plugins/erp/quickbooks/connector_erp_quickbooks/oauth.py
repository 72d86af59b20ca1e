"""OAuth2 with Intuit: connecting a company, and access tokens refreshed under a lock.

intuit-oauth's ``AuthClient`` fetches Intuit's discovery document over the network in
its constructor, and python-quickbooks never refreshes a token by itself. So
:class:`StaticAuthClient` is built from the published endpoints without that fetch, and
:class:`TokenManager` owns refreshing: load, refresh if expired, save, all under the
token store's per-company lock, because Intuit rotates refresh tokens and a refresh
token used twice gives ``invalid_grant``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError

from connector.contracts import PluginError, TokenStore
from connector_erp_quickbooks.limits import TransientError
from connector_erp_quickbooks.settings import QuickBooksSettings, load_settings

# Intuit's discovery documents (developer.intuit.com/.well-known/openid_configuration and
# openid_sandbox_configuration) as published; only the user-info endpoint differs.
DISCOVERY: dict[str, dict[str, str]] = {
    environment: {
        "issuer": "https://oauth.platform.intuit.com/op/v1",
        "authorization_endpoint": "https://appcenter.intuit.com/connect/oauth2",
        "token_endpoint": "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer",
        "revocation_endpoint": "https://developer.api.intuit.com/v2/oauth2/tokens/revoke",
        "jwks_uri": "https://oauth.platform.intuit.com/op/v1/jwks",
        "userinfo_endpoint": userinfo,
    }
    for environment, userinfo in (
        ("production", "https://accounts.platform.intuit.com/v1/openid_connect/userinfo"),
        ("sandbox", "https://sandbox-accounts.platform.intuit.com/v1/openid_connect/userinfo"),
    )
}
#: Refresh this long before the access token's stated expiry (clock skew, slow calls).
EXPIRY_MARGIN_SECONDS = 300.0


class StaticAuthClient(AuthClient):
    """intuit-oauth's AuthClient with its endpoints given, not fetched.

    Sets every attribute ``AuthClient.__init__`` sets (a test compares the two), but
    takes the discovery values from :data:`DISCOVERY` instead of the network.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        redirect_uri: str | None,
        environment: str,
        *,
        token_endpoint: str | None = None,
    ) -> None:
        requests.Session.__init__(self)
        discovery = DISCOVERY[environment]
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.environment = environment
        self.state_token = None
        self.auth_endpoint = discovery["authorization_endpoint"]
        self.token_endpoint = token_endpoint or discovery["token_endpoint"]
        self.revoke_endpoint = discovery["revocation_endpoint"]
        self.issuer_uri = discovery["issuer"]
        self.jwks_uri = discovery["jwks_uri"]
        self.user_info_url = discovery["userinfo_endpoint"]
        self.realm_id = None
        self.access_token = None
        self.expires_in = None
        self.refresh_token = None
        self.x_refresh_token_expires_in = None
        self.id_token = None


def auth_client(settings: QuickBooksSettings) -> StaticAuthClient:
    """An AuthClient for the tenant's app, resolving its secrets now."""
    return StaticAuthClient(
        settings.client_id,
        settings.secret(),
        settings.redirect_uri,
        settings.environment,
        token_endpoint=settings.token_url,
    )


def _token_dict(client: StaticAuthClient, realm_id: str, started: float) -> dict[str, Any]:
    # Expiry counted from before the request: the token may be a little older than we think.
    return {
        "access_token": client.access_token,
        "refresh_token": client.refresh_token,
        "expires_at": started + float(client.expires_in or 0),
        "refresh_token_expires_at": started + float(client.x_refresh_token_expires_in or 0),
        "realm_id": realm_id,
    }


def _auth_failure(exc: AuthClientError, action: str) -> PluginError:
    if exc.status_code >= 500:
        return TransientError(f"Intuit's token service failed while {action}: {exc}")
    body = exc.content.decode("utf-8", "replace") if isinstance(exc.content, bytes) else ""
    return PluginError(
        f"Intuit refused {action} (HTTP {exc.status_code}: {body.strip() or 'no detail'}); "
        "reconnect with `connector erp connect quickbooks --tenant <tenant>`"
    )


def token_key(settings: Mapping[str, Any] | QuickBooksSettings) -> str:
    """The token store key the sink reads the company's token from: ``quickbooks:<realm>``."""
    return load_settings(settings, "connect").token_key


def authorization_url(settings: Mapping[str, Any] | QuickBooksSettings, state: str) -> str:
    """The URL the operator opens to let the app into the company (accounting scope).

    :param state: an unguessable value the redirect must bring back (CSRF protection).
    """
    model = load_settings(settings, "connect")
    if not model.redirect_uri:
        raise PluginError("set redirect_uri (as registered for the app at Intuit) to connect")
    return auth_client(model).get_authorization_url([Scopes.ACCOUNTING], state_token=state)


def exchange_code(
    settings: Mapping[str, Any] | QuickBooksSettings,
    redirect_url: str,
    *,
    expected_state: str | None = None,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Trade the code in the redirect URL Intuit sent the browser to for a token dict.

    The dict (``access_token``, ``refresh_token``, ``expires_at``,
    ``refresh_token_expires_at`` as Unix times, ``realm_id``) is what the core saves
    under ``settings.token_key``. Refuses a redirect for another company than
    ``realm_id`` or with another ``state`` than ``expected_state``.
    """
    model = load_settings(settings, "connect")
    if not model.redirect_uri:
        raise PluginError("set redirect_uri (as registered for the app at Intuit) to connect")
    query = {key: values[0] for key, values in parse_qs(urlsplit(redirect_url).query).items()}
    if "error" in query:
        raise PluginError(f"Intuit did not authorise the app: {query['error']}")
    code = query.get("code")
    if not code:
        raise PluginError("the redirect URL has no code= parameter; paste the whole URL")
    if expected_state is not None and query.get("state") != expected_state:
        raise PluginError("the redirect URL's state does not match: start the connection again")
    realm = query.get("realmId")
    if realm != model.realm_id:
        raise PluginError(
            f"the app was connected to company {realm}, but the tenant's realm_id is "
            f"{model.realm_id}: choose that company, or correct realm_id"
        )
    client = auth_client(model)
    started = now()
    try:
        client.get_bearer_token(code, realm_id=realm)
    except AuthClientError as exc:
        raise _auth_failure(exc, "the authorisation code") from exc
    return _token_dict(client, model.realm_id, started)


class TokenManager:
    """The company's current access token, refreshed when expired or rejected.

    :param store: the tenant's token store; ``store.lock(key)`` spans processes.
    :param now: the wall clock (Unix time), injectable for tests.
    """

    def __init__(
        self,
        settings: QuickBooksSettings,
        store: TokenStore | None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.now = now
        self.key = settings.token_key
        self._cached: dict[str, Any] | None = None

    def _fresh(self, token: Mapping[str, Any] | None, rejected: str | None) -> bool:
        return (
            token is not None
            and bool(token.get("access_token"))
            and token["access_token"] != rejected
            and float(token.get("expires_at", 0)) - EXPIRY_MARGIN_SECONDS > self.now()
        )

    def access_token(self, rejected: str | None = None) -> str:
        """A usable access token; ``rejected`` is one QuickBooks just answered 401 to."""
        if self._cached is not None and self._fresh(self._cached, rejected):
            return str(self._cached["access_token"])
        if self.store is None:
            raise PluginError("the quickbooks sink needs the core's token store")
        with self.store.lock(self.key):
            token = self.store.load(self.key)
            if token is None:
                raise PluginError(
                    f"QuickBooks company {self.settings.realm_id} is not connected: run "
                    "`connector erp connect quickbooks --tenant <tenant>`"
                )
            # Another worker may have refreshed while we waited for the lock.
            if not self._fresh(token, rejected):
                token = self._refresh(token)
                self.store.save(self.key, token)
            self._cached = dict(token)
        return str(token["access_token"])

    def _refresh(self, token: Mapping[str, Any]) -> dict[str, Any]:
        client = auth_client(self.settings)
        started = self.now()
        try:
            client.refresh(refresh_token=token["refresh_token"])
        except AuthClientError as exc:
            raise _auth_failure(exc, "the refresh token") from exc
        except requests.RequestException as exc:
            raise TransientError(f"Intuit's token service unreachable: {exc}") from exc
        return _token_dict(client, self.settings.realm_id, started)
