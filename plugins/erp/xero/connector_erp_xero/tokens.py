"""The organisation's OAuth2 token: refreshed under the store's lock, never by the SDK.

Xero's refresh tokens rotate: each refresh returns a new one and retires the old, so
two processes refreshing with the same token leave one of them with ``invalid_grant``
and, worse, may leave the store holding a retired token. The SDK refreshes on its own,
without a lock, whenever a token it is handed looks expired. So it is only ever handed
the current access token with no expiry (which it takes as always valid), and
:class:`TokenKeeper` does the refreshing: under ``tokens.lock(key)`` it loads the stored
token, refreshes only if that one is still due (another worker may just have done it),
and saves the new one before letting go of the lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from xero_python.api_client import ApiClient
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException, OAuth2TokenSaverError

from connector.contracts import PluginError, TokenStore
from connector_erp_xero.settings import XeroSinkSettings

#: Refresh this long before the access token expires, so no call carries a dying one.
EXPIRY_MARGIN = 120.0
TOKEN_FIELDS = ("access_token", "scope", "expires_in", "token_type", "refresh_token", "id_token")


def normalise_token(token: Mapping[str, Any], received_at: float) -> dict[str, Any]:
    """``token`` as stored: scope a list, and ``expires_at`` absolute (seconds since epoch)."""
    stored = dict(token)
    scope = stored.get("scope")
    if isinstance(scope, str):
        stored["scope"] = scope.split()
    expires_in = stored.get("expires_in")
    if stored.get("expires_at") is None and expires_in:
        stored["expires_at"] = received_at + float(expires_in)
    return stored


class _IdentityTokenApi(TokenApi):
    """The SDK's token endpoint client, pointed at ``settings.identity_url``."""

    def __init__(self, api_client: ApiClient, settings: XeroSinkSettings) -> None:
        super().__init__(api_client, settings.client_id, settings.secret())
        self.refresh_token_url = f"{settings.identity_url}/connect/token"


class TokenKeeper:
    """The valid access token of one organisation, refreshed only under the store's lock.

    :param clock: seconds since the epoch (``expires_at`` is absolute); injectable.
    """

    def __init__(
        self,
        settings: XeroSinkSettings,
        store: TokenStore | None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self.key = settings.token_key
        self._token: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self.api_client: ApiClient | None = None  # set by the client that owns the transport

    def access_token(self) -> str:
        """A current access token, refreshing it first if it is about to expire."""
        with self._lock:
            if self._token is None or self._due(self._token):
                self._token = self._load_or_refresh(stale=None)
            return str(self._token["access_token"])

    def refresh_after_rejection(self, rejected: str) -> None:
        """Xero said 401 to ``rejected``: take a newer stored token, or refresh it."""
        with self._lock:
            self._token = self._load_or_refresh(stale=rejected)

    def sdk_token(self) -> dict[str, Any]:
        """What the SDK's token getter returns: no expiry, so it never refreshes itself."""
        return {
            "access_token": self.access_token(),
            "scope": list(self.settings.scopes),
            "expires_in": None,
            "expires_at": None,
            "token_type": "Bearer",
        }

    @staticmethod
    def sdk_saver(token: Mapping[str, Any]) -> None:
        """The SDK's token saver: refreshing is not the SDK's business here."""
        raise OAuth2TokenSaverError("xero-python tried to refresh the token outside the lock")

    def _due(self, token: Mapping[str, Any]) -> bool:
        expires_at = token.get("expires_at")
        return expires_at is not None and float(expires_at) <= self.clock() + EXPIRY_MARGIN

    def _load_or_refresh(self, stale: str | None) -> dict[str, Any]:
        if self.store is None:
            raise PluginError("the xero sink needs the core's token store, and got none")
        with self.store.lock(self.key):
            token = self.store.load(self.key)
            if not token or not token.get("refresh_token"):
                raise PluginError(
                    f"Xero organisation {self.settings.tenant_id} is not connected: run "
                    "`connector erp connect xero --tenant <tenant>` to authorise it"
                )
            if not self._due(token) and token.get("access_token") != stale:
                return dict(token)
            fresh = self._refresh(token)
            self.store.save(self.key, fresh)
            return fresh

    def _refresh(self, token: Mapping[str, Any]) -> dict[str, Any]:
        if self.api_client is None:
            raise PluginError("the Xero token keeper has no API client to refresh through")
        oauth = OAuth2Token(self.settings.client_id, self.settings.secret())
        stored = normalise_token(token, self.clock())
        # The SDK joins the scope into the refresh request; a missing one would fail there.
        stored["scope"] = stored.get("scope") or list(self.settings.scopes)
        oauth.update_token(**{name: stored.get(name) for name in TOKEN_FIELDS})
        try:
            fresh = oauth.fetch_access_token(
                _IdentityTokenApi(self.api_client, self.settings), token_valid_from=self.clock()
            )
        except ApiException as exc:
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else ""
            raise PluginError(
                f"Xero refused to refresh the token of organisation {self.settings.tenant_id} "
                f"(HTTP {exc.status}: {body.strip() or exc.reason}); if it says invalid_grant, "
                "run `connector erp connect xero --tenant <tenant>` again"
            ) from exc
        return normalise_token(fresh, self.clock())
