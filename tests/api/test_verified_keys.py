"""A verified API key is taken on trust for a few seconds (connector.api.auth.VerifiedKeys):
no database transaction per request, a revoked key refused once that time is up."""

from __future__ import annotations

import asyncio

import pytest

import connector.api.auth as auth_module
from connector.access.api_keys import revoke_key
from connector.api.auth import VerifiedKeys
from tests.api.conftest import auth


def _key_lookups(sql: list[str]) -> list[str]:
    return [statement for statement in sql if "FROM api_keys" in statement]


@pytest.fixture
def clock(monkeypatch):
    """The cache's monotonic clock, moved by hand."""
    now = [1000.0]
    monkeypatch.setattr(auth_module.time, "monotonic", lambda: now[0])
    return now


def test_a_key_is_looked_up_once_while_it_is_trusted(client, keys, sql_sent) -> None:
    for _ in range(5):
        assert client.get("/v1/statements", headers=auth(keys.read)).status_code == 200
    assert len(_key_lookups(sql_sent)) == 1


def test_a_revoked_key_is_refused_once_its_trust_runs_out(client, keys, runtime, clock) -> None:
    assert client.get("/v1/me", headers=auth(keys.operator)).status_code == 200
    revoke_key(runtime, "acme", keys.operator.split("_")[1])
    clock[0] += auth_module.VERIFIED_KEY_SECONDS - 0.5
    assert client.get("/v1/me", headers=auth(keys.operator)).status_code == 200  # the bound
    clock[0] += 1.0
    assert client.get("/v1/me", headers=auth(keys.operator)).status_code == 401


def test_a_revoked_key_never_used_is_refused_at_once(client, keys, runtime) -> None:
    revoke_key(runtime, "acme", keys.read.split("_")[1])
    assert client.get("/v1/me", headers=auth(keys.read)).status_code == 401


def test_a_wrong_key_is_looked_up_every_time(client, keys, sql_sent) -> None:
    wrong = keys.read[:-1] + ("0" if keys.read[-1] != "0" else "1")
    for _ in range(3):
        assert client.get("/v1/me", headers=auth(wrong)).status_code == 401
    assert len(_key_lookups(sql_sent)) == 3


def test_a_key_of_a_tenant_no_longer_served_is_refused_at_once(client, keys, runtime) -> None:
    assert client.get("/v1/me", headers=auth(keys.globex_operator)).status_code == 200
    del runtime.tenants["globex"]
    assert client.get("/v1/me", headers=auth(keys.globex_operator)).status_code == 401


def test_the_cache_keeps_no_key_whose_trust_ran_out(runtime, keys, clock) -> None:
    cache = VerifiedKeys(runtime, seconds=5)
    assert asyncio.run(cache.verify(keys.read)).scope == "read"
    clock[0] += 6
    assert asyncio.run(cache.verify(keys.operator)).scope == "operator"
    assert len(cache._keys) == 1
