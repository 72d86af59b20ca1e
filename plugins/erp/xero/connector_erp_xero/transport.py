"""The SDK's HTTP layer, replaced: requests, Xero's limits, and retries of what is transient.

xero-python sends through its own urllib3 pool with no retries and no notion of Xero's
limits. :class:`XeroTransport` takes its place as the ``ApiClient.rest_client`` (the
SDK's models, serializer and API methods are all still used) and sends through a
``requests`` session instead, which gives typed timeout and connection errors and lets
tests mock Xero with ``responses``. Each call to the API host:

* waits for the organisation's :class:`~connector_erp_xero.limits.RateLimiter`;
* on 429 waits ``Retry-After`` (and holds every other caller as long) and tries again;
* on 5xx, timeouts and dropped connections tries again with exponential backoff and
  jitter, through tenacity. Writes are safe to repeat because every one carries an
  ``Idempotency-Key``: Xero answers a repeat with the first response;
* never repeats anything else (400 validation errors, 401, 403, 404): the SDK turns
  those into its own exceptions as it would have.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)
from xero_python import rest
from xero_python.exceptions import HTTPStatusException

from connector.contracts import PluginError
from connector_erp_xero.limits import LimitExhausted, RateLimiter

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
#: What a 429 without Retry-After waits: Xero's minute window.
DEFAULT_RETRY_AFTER = 60.0
TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class XeroUnavailable(PluginError):
    """Xero kept timing out or failing with 5xx through every attempt; retry later."""


class SdkResponse:
    """A requests response shaped like the SDK's ``RESTResponse`` (what its code reads)."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.status = response.status_code
        self.reason = response.reason
        self.data = response.content

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    def getheaders(self) -> Mapping[str, str]:
        return self.response.headers

    def getheader(self, name: str, default: str | None = None) -> str | None:
        return self.response.headers.get(name, default)


class _Retryable(Exception):
    """A response worth sending the same request again for."""

    def __init__(self, response: requests.Response, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: Callable[[], float] = time.time) -> float:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date)."""
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    return max(when.timestamp() - now(), 0.0)


def _header_int(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(headers[name])
    except (KeyError, ValueError):
        return None


class XeroTransport(rest.RESTClientObject):
    """``rest_client`` for the SDK's ``ApiClient``; see the module docstring.

    :param limited_prefix: URLs starting with it count against ``limiter`` (the API
        host; identity calls for tokens do not).
    :param sleep: how to wait between attempts (injectable so tests need not wait).
    """

    def __init__(
        self,
        session: requests.Session,
        limiter: RateLimiter,
        limited_prefix: str,
        *,
        timeout: float = 60.0,
        max_attempts: int = 5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # The parent's __init__ only builds the urllib3 pool this class replaces.
        self.session = session
        self.limiter = limiter
        self.limited_prefix = limited_prefix
        self.timeout = (CONNECT_TIMEOUT, timeout)
        self.max_attempts = max_attempts
        self.sleep = sleep

    def request(
        self,
        method: str,
        url: str,
        query_params: Any = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        post_params: Any = None,
        _preload_content: bool = True,
        _request_timeout: Any = None,
    ) -> SdkResponse:
        """Send one SDK request, within limits and retried as the module docstring says."""
        headers = dict(headers or {})
        content_type = headers.setdefault("Content-Type", "application/json")
        if "json" in content_type.lower():
            data: Any = None if body is None else json.dumps(body)
        elif content_type == "application/x-www-form-urlencoded":
            data = list(post_params or [])
        else:
            data = body
        # Xero reads booleans lowercase; the SDK would send Python's "False".
        params = [
            (name, ("true" if value else "false") if isinstance(value, bool) else value)
            for name, value in (query_params or [])
        ]
        limited = url.startswith(self.limited_prefix)
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(self._should_retry),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            response = retrying(self._send, method.upper(), url, params, headers, data, limited)
        except _Retryable as exc:
            if exc.retry_after is not None and exc.retry_after > self.limiter.max_wait:
                raise LimitExhausted(
                    f"Xero asked to wait {exc.retry_after:.0f} s before calling again "
                    f"({exc.response.headers.get('X-Rate-Limit-Problem', 'rate')} limit); "
                    "the push will be retried later"
                ) from exc
            raise HTTPStatusException(http_resp=SdkResponse(exc.response)) from exc
        except TRANSIENT_ERRORS as exc:
            raise XeroUnavailable(
                f"Xero did not answer {method.upper()} {url.split('?')[0]} after "
                f"{self.max_attempts} attempts ({type(exc).__name__}: {exc}); "
                "the push will be retried later"
            ) from exc
        if not 200 <= response.status_code <= 299:
            raise HTTPStatusException(http_resp=SdkResponse(response))
        return SdkResponse(response)

    def _send(
        self,
        method: str,
        url: str,
        query_params: Any,
        headers: dict[str, str],
        data: Any,
        limited: bool,
    ) -> requests.Response:
        with self.limiter.slot() if limited else contextlib.nullcontext():
            response = self.session.request(
                method, url, params=query_params, headers=headers, data=data, timeout=self.timeout
            )
        if limited:
            self.limiter.observe(
                _header_int(response.headers, "X-MinLimit-Remaining"),
                _header_int(response.headers, "X-DayLimit-Remaining"),
            )
        if response.status_code == 429:
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if retry_after <= self.limiter.max_wait:
                self.limiter.hold(retry_after)
            log.warning("Xero said 429 on %s %s; waiting %.0f s", method, url, retry_after)
            raise _Retryable(response, retry_after)
        if response.status_code >= 500:
            log.warning("Xero said %s on %s %s", response.status_code, method, url)
            raise _Retryable(response)
        return response

    def _should_retry(self, exc: BaseException) -> bool:
        if isinstance(exc, _Retryable):
            return exc.retry_after is None or exc.retry_after <= self.limiter.max_wait
        return isinstance(exc, TRANSIENT_ERRORS)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return _BACKOFF(state)


# Full jitter, so that several daemons failing together do not retry together.
_BACKOFF = wait_random_exponential(multiplier=0.5, max=30)
