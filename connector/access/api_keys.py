"""Billing API keys: made once, stored as a hash, checked in constant time, revoked.

A key reads ``bc_<prefix>_<secret>``: the prefix (12 hex digits) is the stored row's id
and may be shown in lists and the audit trail; the secret (32 random bytes, 64 hex
digits) is shown once, when the key is made, and only its SHA-256 is stored.

Why SHA-256 and not a slow hash such as scrypt: slow hashes protect secrets people
choose, which can be guessed; a 256-bit random secret cannot, so a fast hash loses
nothing and keeps every API request from paying tens of milliseconds of scrypt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import select

from connector.access.roles import role_problem
from connector.runtime.audit import record
from connector.runtime.runtime import Runtime
from connector.runtime.tenants import sync_tenant
from connector.storage import models as m
from connector.storage.models import utcnow

SCOPES = ("read", "operator", "customer")
KEY_PATTERN = re.compile(r"bc_(?P<prefix>[0-9a-f]{12})_(?P<secret>[0-9a-f]{64})")
HASH_SCHEME = "sha256"
# Writing last_used_at on every request would make each read a write; once a minute
# is enough to tell a key in use from a forgotten one.
LAST_USED_EVERY = dt.timedelta(minutes=1)
# Compared against when the prefix is unknown, so that case takes as long as a wrong secret.
_DUMMY_HASH = f"{HASH_SCHEME}:{hashlib.sha256(b'no such key').hexdigest()}"


class ApiKeyError(ValueError):
    """An API key cannot be made or revoked; the message says what would be valid."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a verified, unrevoked key (never the key's secret)."""

    key_id: str
    tenant: str
    scope: str
    customer_id: str | None

    @property
    def actor(self) -> str:
        """How the audit trail names this caller."""
        return f"api-key:{self.key_id}"


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: ``token`` is the whole key, shown once and never stored."""

    key_id: str
    tenant: str
    scope: str
    customer_id: str | None
    token: str


def hash_secret(secret: str) -> str:
    """The stored form of a key's secret part."""
    return f"{HASH_SCHEME}:{hashlib.sha256(secret.encode()).hexdigest()}"


def create_key(
    runtime: Runtime,
    tenant: str,
    scope: str,
    customer_id: str | None = None,
    label: str | None = None,
    actor: str = "cli",
) -> NewKey:
    """Make a key for ``tenant``; a ``customer`` key needs the customer it may see."""
    config = runtime.tenant(tenant)
    problem = role_problem("key", "scope", scope, SCOPES, customer_id, config)
    if problem:
        raise ApiKeyError(problem)
    prefix, secret = secrets.token_hex(6), secrets.token_hex(32)
    with runtime.db.transaction() as session:
        sync_tenant(session, config)  # the key row refers to the tenant row
        session.add(
            m.ApiKey(
                id=prefix,
                tenant_id=tenant,
                secret_hash=hash_secret(secret),
                scope=scope,
                customer_id=customer_id,
                label=label,
            )
        )
        record(
            session,
            tenant,
            actor,
            "api-key.create",
            f"api-key:{prefix}",
            {"scope": scope, "customer": customer_id, "label": label},
        )
    return NewKey(prefix, tenant, scope, customer_id, f"bc_{prefix}_{secret}")


def verify_key(runtime: Runtime, token: str) -> Principal | None:
    """The caller a presented key stands for, or None when it is malformed, unknown,
    wrong or revoked (the caller cannot tell which: each is simply not a key).
    """
    match = KEY_PATTERN.fullmatch(token.strip())
    if match is None:
        return None
    presented = hash_secret(match["secret"])
    with runtime.db.transaction() as session:
        key = session.get(m.ApiKey, match["prefix"])
        stored = key.secret_hash if key is not None else _DUMMY_HASH
        if not hmac.compare_digest(presented.encode(), stored.encode()) or key is None:
            return None
        if key.revoked_at is not None or key.tenant_id not in runtime.tenants:
            return None
        now = utcnow()
        last = key.last_used_at
        if last is not None and last.tzinfo is None:  # SQLite hands back naive UTC
            last = last.replace(tzinfo=dt.UTC)
        if last is None or now - last >= LAST_USED_EVERY:
            key.last_used_at = now
        return Principal(key.id, key.tenant_id, key.scope, key.customer_id)


def list_keys(runtime: Runtime, tenant: str) -> list[m.ApiKey]:
    """The tenant's keys, revoked ones included, oldest first (no secrets in them)."""
    runtime.tenant(tenant)
    with runtime.db.transaction() as session:
        return list(
            session.scalars(
                select(m.ApiKey)
                .where(m.ApiKey.tenant_id == tenant)
                .order_by(m.ApiKey.created_at, m.ApiKey.id)
            )
        )


def revoke_key(runtime: Runtime, tenant: str, key_id: str, actor: str = "cli") -> m.ApiKey:
    """Revoke a key of ``tenant`` by its id (the prefix); revoking twice changes nothing."""
    runtime.tenant(tenant)
    match = KEY_PATTERN.fullmatch(key_id.strip())
    key_id = match["prefix"] if match else key_id.strip()  # a whole key names its id too
    with runtime.db.transaction() as session:
        key = session.get(m.ApiKey, key_id)
        if key is None or key.tenant_id != tenant:
            raise ApiKeyError(
                f"tenant {tenant!r} has no API key {key_id!r}: see `connector api-keys list "
                f"--tenant {tenant}`"
            )
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            record(session, tenant, actor, "api-key.revoke", f"api-key:{key.id}", {})
        return key
