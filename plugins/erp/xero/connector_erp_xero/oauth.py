"""Connecting an organisation: the OAuth2 authorisation-code flow the core's CLI walks.

``connector erp connect xero --tenant T`` prints :func:`authorization_url`, the reseller
signs in to Xero and pastes back the URL Xero redirected to, and
:func:`exchange_code` turns it into the first token, which the core saves in the
tenant's token store under :func:`token_key`. xero-python only refreshes tokens; the
code exchange is one form POST, made here with requests.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from connector.contracts import PluginError
from connector_erp_xero.settings import XeroSinkSettings, load_settings
from connector_erp_xero.tokens import normalise_token

TIMEOUT = (10.0, 60.0)


def _settings(settings: XeroSinkSettings | Mapping[str, Any]) -> XeroSinkSettings:
    if isinstance(settings, XeroSinkSettings):
        return settings
    return load_settings(settings)


def token_key(settings: XeroSinkSettings | Mapping[str, Any]) -> str:
    """The token store key the sink reads the organisation's token from."""
    return _settings(settings).token_key


def authorization_url(settings: XeroSinkSettings | Mapping[str, Any], state: str) -> str:
    """Xero's sign-in URL asking for the sink's scopes, to come back to ``redirect_uri``.

    :param state: an unguessable value the caller checks in the redirect URL.
    """
    config = _settings(settings)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": config.redirect_uri,
            "scope": " ".join(config.scopes),
            "state": state,
        }
    )
    return f"{config.login_url}/identity/connect/authorize?{query}"


def exchange_code(
    settings: XeroSinkSettings | Mapping[str, Any],
    redirect_url: str,
    *,
    expected_state: str | None = None,
    session: requests.Session | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """The token for the code in ``redirect_url`` (the URL Xero redirected the browser to).

    Returns Xero's token with ``scope`` as a list and an absolute ``expires_at``, ready
    for ``TokenStore.save``. Raises PluginError when Xero reported an error, the URL has
    no code, ``state`` differs from ``expected_state``, or Xero refuses the code.
    """
    config = _settings(settings)
    query = parse_qs(urlsplit(redirect_url.strip()).query)
    if "error" in query:
        raise PluginError(
            f"Xero did not authorise the connection: {query['error'][0]} "
            f"{query.get('error_description', [''])[0]}".strip()
        )
    codes = query.get("code")
    if not codes:
        raise PluginError(
            "the URL pasted has no `code` parameter; paste the whole address the browser "
            f"was sent to after signing in (it starts with {config.redirect_uri})"
        )
    if expected_state is not None and query.get("state", [None])[0] != expected_state:
        raise PluginError(
            "the URL's `state` does not match the one this connection started with; "
            "start `connector erp connect xero` again"
        )
    http = session or requests.Session()
    received_at = clock()
    try:
        response = http.post(
            f"{config.identity_url}/connect/token",
            data={
                "grant_type": "authorization_code",
                "code": codes[0],
                "redirect_uri": config.redirect_uri,
            },
            auth=(config.client_id, config.secret()),
            headers={"Accept": "application/json"},
            timeout=TIMEOUT,
        )
    except requests.RequestException as exc:
        raise PluginError(f"could not reach Xero's identity service: {exc}") from exc
    if response.status_code != 200:
        raise PluginError(
            f"Xero refused the authorisation code (HTTP {response.status_code}: "
            f"{response.text.strip()[:300]}); start `connector erp connect xero` again"
        )
    try:
        token = response.json()
    except ValueError as exc:
        raise PluginError("Xero's identity service answered with something not JSON") from exc
    if not isinstance(token, dict) or not token.get("refresh_token"):
        raise PluginError(
            "Xero's token has no refresh token; the `offline_access` scope must be requested"
        )
    return normalise_token(token, received_at)
