"""python-quickbooks' client, with every request paced, authorised and retried here.

The SDK builds URLs (``minorversion``, ``requestid``), the multipart upload of
attachments, and turns QuickBooks' ``Fault`` bodies into exceptions. Its
``process_request`` is the one place a request goes out, so this subclass overrides
it: take a slot from the company's rate limiter, put the current access token on,
send with a timeout, refresh once on 401, and retry 429 (after its Retry-After), 5xx,
timeouts and broken connections with backoff and jitter. A retried create carries the
same ``requestid``, so QuickBooks answers it from the first attempt instead of creating
again. What reaches the SDK's parser is a final answer: a 400 validation fault is
never retried.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import requests
from quickbooks.client import QuickBooks
from quickbooks.exceptions import QuickbooksException
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from connector_erp_quickbooks.limits import (
    RateLimiter,
    Throttled,
    TransientError,
    WaitRetryAfter,
    parse_retry_after,
)
from connector_erp_quickbooks.oauth import TokenManager
from connector_erp_quickbooks.settings import QuickBooksSettings

API_URLS = {
    "production": "https://quickbooks.api.intuit.com/v3",
    "sandbox": "https://sandbox-quickbooks.api.intuit.com/v3",
}
#: Attempts per request, the first included, before the failure goes back to the outbox.
MAX_ATTEMPTS = 6


class QuickBooksClient(QuickBooks):
    """One company's API client; build it with :func:`make_client`."""

    tokens: TokenManager
    limiter: RateLimiter
    sleep: Callable[[float], None]
    timeout: float
    http: requests.Session

    def process_request(
        self,
        request_type: str,
        url: str,
        headers: Any = "",
        params: Any = "",
        data: Any = "",
    ) -> requests.Response:
        """Send one API request, retried as the module says; returns the final response."""
        retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            stop=stop_after_attempt(MAX_ATTEMPTS),
            wait=WaitRetryAfter(),
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(self._send, request_type, url, dict(headers or {}), params, data)

    def _send(
        self, method: str, url: str, headers: dict[str, str], params: Any, data: Any
    ) -> requests.Response:
        token = self.tokens.access_token()
        response = self._attempt(method, url, headers, params, data, token)
        if response.status_code == 401:
            # Revoked or expired early: refresh once (under the lock) and try again.
            token = self.tokens.access_token(rejected=token)
            response = self._attempt(method, url, headers, params, data, token)
        if response.status_code == 429:
            raise Throttled(
                f"QuickBooks throttled the request (429) to {_path(url)}",
                parse_retry_after(response.headers.get("Retry-After")),
            )
        if response.status_code >= 500:
            raise TransientError(
                f"QuickBooks failed with HTTP {response.status_code} on {_path(url)}: "
                f"{response.text[:300]}"
            )
        return response

    def _attempt(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        params: Any,
        data: Any,
        token: str,
    ) -> requests.Response:
        self.limiter.acquire()
        try:
            return self.http.request(
                method,
                url,
                headers={**headers, "Authorization": f"Bearer {token}"},
                params=params,
                data=data.encode("utf-8") if isinstance(data, str) else data,
                timeout=self.timeout,
            )
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientError(f"QuickBooks did not answer on {_path(url)}: {exc}") from exc


def _path(url: str) -> str:
    return url.split("/company/", 1)[-1].split("?", 1)[0]


def make_client(
    settings: QuickBooksSettings,
    tokens: TokenManager,
    limiter: RateLimiter,
    sleep: Callable[[float], None] = time.sleep,
    http: requests.Session | None = None,
) -> QuickBooksClient:
    """A client for the tenant's company: no network until the first request.

    The SDK's constructor is given no ``auth_client``, so it starts no OAuth session
    (which would refresh a token outside our lock); amounts in answers parse as Decimal.
    """
    with warnings.catch_warnings():
        # The SDK warns about minor versions even when one is given explicitly.
        warnings.simplefilter("ignore", DeprecationWarning)
        client = QuickBooksClient(
            company_id=settings.realm_id, minorversion=settings.minor_version, use_decimal=True
        )
    base = (settings.base_url or API_URLS[settings.environment]).rstrip("/")
    client.api_url_v3 = client.sandbox_api_url_v3 = base
    client.sandbox = settings.environment == "sandbox"
    client.tokens = tokens
    client.limiter = limiter
    client.sleep = sleep
    client.timeout = settings.timeout_seconds
    client.http = http or requests.Session()
    # The SDK refuses to send without a session; ours is the plain one above.
    client.session = client.http
    return client


def fault_message(exc: QuickbooksException) -> str:
    """QuickBooks' own words for a fault the SDK raised: message, detail and code."""
    parts = [str(exc.message).strip()]
    detail = str(exc.detail or "").strip()
    if detail and detail not in parts[0]:
        parts.append(detail)
    code = f" (code {exc.error_code})" if exc.error_code else ""
    return "QuickBooks: " + ": ".join(parts) + code
