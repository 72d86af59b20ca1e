"""Masking secrets in text before it is logged, stored or printed.

One function, :func:`mask_secrets`, serves the daemon's log, the outbox's ``last_error``
and the CLI: an ERP that answers an error with the request it was sent (refresh token,
client id and secret) must not have those kept or shown anywhere. It masks every known
secret value (the tenant's resolved secret references, stored ERP tokens) and anything
that looks like one: ``key=value``, ``key: value`` and ``"key": "value"`` pairs whose key
names a token, secret, password or key (JSON, form and header forms), ``Bearer`` and
``Basic`` credentials, and the password of a ``scheme://user:password@`` URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from connector.config.references import is_reference, resolve_reference
from connector.config.tenant import TenantConfig

MASK = "***"
#: Shorter values would mask ordinary words; 4+ characters is still a secret.
MIN_SECRET_LENGTH = 4

_SECRET_KEY = (
    r"[\w.-]*(?:token|secret|password|passwd|api[_-]?key|authorization|credential|"
    r"assertion|client[_-]?id)s?"
)
# The key may be quoted, and the quotes escaped when the JSON sits inside a string.
_QUOTE = r"""(?:\\?["'])?"""
_KEY_VALUE = re.compile(
    rf"""(?ix)
    (?P<key>{_QUOTE}\b{_SECRET_KEY}{_QUOTE}\s*[:=]\s*)
    (?P<quote>{_QUOTE})
    (?P<scheme>(?:bearer|basic|token)\s+)?
    (?P<value>[^\s"'\\,;&}}\]]+)
    """
)
# A credential standing alone, e.g. in a header list ("Authorization", "Bearer ...").
_CREDENTIAL = re.compile(r"(?i)\b(?P<scheme>bearer|basic)\s+(?P<value>[\w~+/.=-]{8,})")
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][\w+.-]*://[^:/@\s]+:)(?P<value>[^@\s]+)(?=@)", re.I)
# Keys of a stored ERP token whose values are secrets (the rest: expiry, type, scopes).
_TOKEN_KEY = re.compile(rf"(?i)^{_SECRET_KEY}$")


def mask_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every value in ``secrets`` and every secret-looking value masked."""
    for secret in sorted(usable_secrets(secrets), key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(lambda m: m["head"] + MASK, text)
    text = _KEY_VALUE.sub(lambda m: m["key"] + m["quote"] + (m["scheme"] or "") + MASK, text)
    return _CREDENTIAL.sub(lambda m: f"{m['scheme']} {MASK}", text)


def usable_secrets(secrets: Iterable[str]) -> set[str]:
    """The values of ``secrets`` long enough to be masked without masking ordinary words."""
    return {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_LENGTH}


def token_secrets(token: Mapping[str, Any]) -> Iterator[str]:
    """The secret values of a stored ERP token (access, refresh and id tokens, ...)."""
    for key, value in token.items():
        if isinstance(value, str) and _TOKEN_KEY.match(str(key)):
            yield value
        elif isinstance(value, Mapping):
            yield from token_secrets(value)


def tenant_secrets(tenant: TenantConfig) -> list[str]:
    """The values behind the tenant's secret references (its providers', its ERP's and
    its webhook endpoints')."""
    found: list[str] = []
    for provider in tenant.providers.values():
        found.extend(_reference_values(provider.settings, tenant.base_dir))
    found.extend(_reference_values(tenant.erp.settings, tenant.base_dir))
    for endpoint in tenant.webhooks:
        found.extend(_reference_values(endpoint.secret, tenant.base_dir))
    return [s for s in found if s]


def _reference_values(value: Any, base_dir: Path) -> Iterator[str]:
    if is_reference(value):
        try:
            yield resolve_reference(value, base_dir)
        except LookupError:
            return
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _reference_values(item, base_dir)
    elif isinstance(value, list):
        for item in value:
            yield from _reference_values(item, base_dir)
