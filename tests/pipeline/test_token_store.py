"""ERP tokens: encrypted at rest, and refreshed by one process at a time."""

from __future__ import annotations

import threading
import time

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from connector.access.tokens import DatabaseTokenStore, TokenKeyError, fernet
from connector.runtime.tenants import sync_tenant
from connector.storage import models as m

KEY = "xero:3f1c"


@pytest.fixture
def store(runtime):
    with runtime.db.transaction() as session:
        sync_tenant(session, runtime.tenant("acme"))
    return DatabaseTokenStore(runtime.db, "acme", fernet(Fernet.generate_key().decode()))


def test_a_saved_token_reads_back_and_is_not_stored_in_clear(runtime, store) -> None:
    token = {"access_token": "at-secret-1", "refresh_token": "rt-secret-1", "expires_at": 17}
    assert store.load(KEY) is None
    store.save(KEY, token)
    assert store.load(KEY) == token
    with runtime.db.transaction() as session:
        (stored,) = session.scalars(select(m.ErpToken.ciphertext)).all()
    assert "rt-secret-1" not in stored and "at-secret" not in stored
    other = DatabaseTokenStore(runtime.db, "acme", fernet(Fernet.generate_key().decode()))
    with pytest.raises(TokenKeyError, match="cannot be decrypted with CONNECTOR_TOKEN_KEY"):
        other.load(KEY)


def test_a_missing_or_malformed_key_says_how_to_make_one() -> None:
    with pytest.raises(TokenKeyError, match="connector erp new-key"):
        fernet(None)
    with pytest.raises(TokenKeyError, match="not a Fernet key"):
        fernet("too-short")


def test_refreshes_under_the_lock_never_use_one_refresh_token_twice(runtime, store) -> None:
    """Four threads each refresh: inside the lock each reads the token the one before
    saved, so the refresh tokens used are 0, 1, 2, 3, each once (a refresh token used
    twice is Xero's and Intuit's invalid_grant)."""
    store.save(KEY, {"refresh_token": "rt-0", "n": 0})
    used: list[str] = []

    def refresh() -> None:
        with store.lock(KEY):
            token = store.load(KEY)
            used.append(token["refresh_token"])
            time.sleep(0.05)  # the token endpoint's round trip
            store.save(KEY, {"refresh_token": f"rt-{token['n'] + 1}", "n": token["n"] + 1})

    threads = [threading.Thread(target=refresh) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(used) == ["rt-0", "rt-1", "rt-2", "rt-3"]
    assert store.load(KEY)["refresh_token"] == "rt-4"
