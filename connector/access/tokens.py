"""The tenant's ERP token store: encrypted at rest, refreshed under a lock per organisation.

OAuth2 refresh tokens rotate: the refresh that uses one returns the next, and using
one twice gives ``invalid_grant``. So a sink refreshes under ``lock(key)`` and the
rotated token is written in the same transaction that holds the lock: two daemons (or
two threads) never refresh with the same refresh token, and a crash never loses the
new one while keeping the spent one. The lock is PostgreSQL's transaction-scoped
advisory lock on the organisation; on SQLite the write transaction itself (BEGIN
IMMEDIATE) excludes every other writer. Tokens are encrypted with Fernet (AES-128-CBC
and HMAC-SHA256) under the daemon's ``token_key``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from connector.storage import models as m
from connector.storage.db import Database
from connector.storage.models import utcnow


class TokenKeyError(Exception):
    """No usable encryption key: the message says how to set one."""


def fernet(key: str | None) -> Fernet:
    """The cipher for ``key``; a clear error when it is missing or malformed."""
    if not key:
        raise TokenKeyError(
            "ERP tokens are stored encrypted and no key is set: run `connector erp new-key` "
            "and put the key in the CONNECTOR_TOKEN_KEY environment variable"
        )
    try:
        return Fernet(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError):
        raise TokenKeyError(
            "CONNECTOR_TOKEN_KEY is not a Fernet key (32 url-safe base64-encoded bytes); "
            "make one with `connector erp new-key`"
        ) from None


class DatabaseTokenStore:
    """:class:`connector.contracts.TokenStore` for one tenant, in the connector's database."""

    def __init__(self, db: Database, tenant: str, cipher: Fernet) -> None:
        self.db, self.tenant, self.cipher = db, tenant, cipher
        self._held = threading.local()  # key -> the session holding that key's lock

    def _session(self, key: str) -> Session | None:
        return getattr(self._held, "sessions", {}).get(key)

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold ``key``'s refresh lock; ``load``/``save`` inside use the lock's transaction."""
        if self._session(key) is not None:  # already held by this thread: re-entrant
            yield
            return
        with self.db.transaction() as session:
            if session.connection().dialect.name == "postgresql":
                digest = hashlib.blake2b(f"{self.tenant}\0{key}".encode(), digest_size=8)
                lock_id = int.from_bytes(digest.digest(), "big", signed=True)
                session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})
            sessions = self._held.__dict__.setdefault("sessions", {})
            sessions[key] = session
            try:
                yield
            finally:
                del sessions[key]

    def load(self, key: str) -> dict[str, Any] | None:
        held = self._session(key)
        if held is not None:
            return self._read(held, key)
        with self.db.transaction() as session:
            return self._read(session, key)

    def save(self, key: str, token: Mapping[str, Any]) -> None:
        held = self._session(key)
        if held is not None:
            self._write(held, key, token)
            return
        with self.db.transaction() as session:
            self._write(session, key, token)

    def _read(self, session: Session, key: str) -> dict[str, Any] | None:
        stored = session.scalar(
            select(m.ErpToken.ciphertext).where(
                m.ErpToken.tenant_id == self.tenant, m.ErpToken.key == key
            )
        )
        if stored is None:
            return None
        try:
            return json.loads(self.cipher.decrypt(stored.encode()))
        except InvalidToken:
            raise TokenKeyError(
                f"the stored token {key!r} of tenant {self.tenant!r} cannot be decrypted with "
                "CONNECTOR_TOKEN_KEY: it was saved under another key; restore that key or "
                "connect again with `connector erp connect`"
            ) from None

    def _write(self, session: Session, key: str, token: Mapping[str, Any]) -> None:
        ciphertext = self.cipher.encrypt(json.dumps(dict(token), sort_keys=True).encode())
        row = session.get(m.ErpToken, (self.tenant, key))
        if row is None:
            session.add(m.ErpToken(tenant_id=self.tenant, key=key, ciphertext=ciphertext.decode()))
        else:
            row.ciphertext, row.updated_at = ciphertext.decode(), utcnow()
        session.flush()
