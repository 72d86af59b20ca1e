"""Keys: tenants apart, customers apart, read keys read, bad keys 401, keys never logged."""

from __future__ import annotations

import csv
import io
import logging
import socket
import threading
import time

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from connector.access.api_keys import ApiKeyError, create_key, revoke_key
from connector.api import create_app
from connector.storage import models as m
from tests.api.conftest import auth, statement_ids

# Every operation with a path to fill: (method, path template, JSON body).
CHANGES = [
    ("POST", "/v1/statements/{id}/approve", None),
    ("POST", "/v1/statements/approve", {"ids": ["{id}"]}),
    ("POST", "/v1/statements/approve-all", None),
    ("DELETE", "/v1/statements/{id}", None),
    ("POST", "/v1/statements/{id}/status", {"status": "Closed"}),
    ("POST", "/v1/credits", {"customer": "1001", "amount": "5", "comment": "x"}),
    ("POST", "/v1/periods/close", {"provider": "aws", "period": "2026-10"}),
]
READS = [
    "/v1/statements",
    "/v1/statements/{id}",
    "/v1/statements/{id}/download/pdf",
    "/v1/credits",
    "/v1/reconciliation?provider=aws&period=2026-10",
    "/v1/plugins",
    "/v1/me",
]


def fill(value, ident: str):  # type: ignore[no-untyped-def]
    if isinstance(value, str):
        return value.replace("{id}", ident)
    if isinstance(value, list):
        return [fill(v, ident) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, ident) for k, v in value.items()}
    return value


def call(client, key: str | None, method: str, path: str, body=None, ident: str = ""):  # type: ignore[no-untyped-def]
    headers = auth(key) if key else {}
    return client.request(method, fill(path, ident), json=fill(body, ident), headers=headers)


def statuses(runtime, tenant: str) -> dict[str, str]:
    with runtime.db.transaction() as session:
        rows = session.execute(
            select(m.Statement.customer_id, m.Statement.status).where(
                m.Statement.tenant_id == tenant
            )
        )
        return dict(rows.all())


# ------------------------------------------------------------------------------ tenants


def test_a_key_of_one_tenant_gets_404_for_every_statement_of_another(client, keys, runtime) -> None:
    for customer, ident in statement_ids(runtime, "globex").items():
        for path in ("/v1/statements/{id}", "/v1/statements/{id}/download/html"):
            assert call(client, keys.operator, "GET", path, ident=ident).status_code == 404
        for method, path, body in CHANGES:
            if "{id}" not in str((path, body)):
                continue
            answer = call(client, keys.operator, method, path, body, ident)
            assert answer.status_code == 404, (customer, method, path, answer.text)
    assert set(statuses(runtime, "globex").values()) == {"Draft"}


def test_lists_and_bulk_changes_stay_inside_the_keys_tenant(client, keys, runtime) -> None:
    listed = client.get("/v1/statements", headers=auth(keys.operator)).json()
    assert {s["id"] for s in listed["statements"]} == set(statement_ids(runtime, "acme").values())
    client.post("/v1/statements/approve-all", headers=auth(keys.operator))
    assert set(statuses(runtime, "globex").values()) == {"Draft"}
    assert set(statuses(runtime, "acme").values()) == {"Open"}
    # the same customer id in both tenants: a grant lands in the key's tenant only
    client.post(
        "/v1/credits",
        json={"customer": "1001", "amount": "5", "comment": "x"},
        headers=auth(keys.operator),
    )
    assert client.get("/v1/credits", headers=auth(keys.globex_operator)).json() == []


def test_a_customer_only_another_tenant_has_is_not_found(client, keys, runtime) -> None:
    assert "2001" in statement_ids(runtime, "globex")
    grant = {"customer": "2001", "amount": "5", "comment": "x"}
    assert client.post("/v1/credits", json=grant, headers=auth(keys.operator)).status_code == 404
    assert client.get("/v1/credits?customer=2001", headers=auth(keys.read)).status_code == 404
    # The same answer for an unknown customer on every endpoint (issue 19).
    listed = client.get("/v1/statements?customer=2001", headers=auth(keys.read))
    assert listed.status_code == 404
    with pytest.raises(ApiKeyError, match="no customer '2001'"):
        create_key(runtime, "acme", "customer", "2001")


def test_an_invoice_number_of_another_tenant_is_not_found(client, keys, runtime) -> None:
    client.post("/v1/statements/approve-all", headers=auth(keys.globex_operator))
    answer = client.get("/v1/statements/GLBX-01001", headers=auth(keys.operator))
    assert answer.status_code == 404


# ------------------------------------------------------------------------------ customers


def test_a_customer_key_never_sees_a_draft(client, keys, runtime) -> None:
    ids = statement_ids(runtime, "acme")
    listed = client.get("/v1/statements", headers=auth(keys.customer)).json()
    assert listed == {"statements": [], "total": 0}
    for path in ("/v1/statements/{id}", "/v1/statements/{id}/download/pdf"):
        assert call(client, keys.customer, "GET", path, ident=ids["1001"]).status_code == 404
    drafts = client.get("/v1/statements?status=Draft", headers=auth(keys.customer)).json()
    assert drafts["total"] == 0


def test_a_customer_key_sees_its_own_open_statement_and_no_other_customers(
    client, keys, runtime
) -> None:
    ids = statement_ids(runtime, "acme")
    client.post("/v1/statements/approve-all", headers=auth(keys.operator))
    listed = client.get("/v1/statements", headers=auth(keys.customer)).json()
    assert [s["customer"] for s in listed["statements"]] == ["1001"]
    asked_for_other = client.get("/v1/statements?customer=1002", headers=auth(keys.customer))
    assert asked_for_other.json()["total"] == 0
    assert (
        call(client, keys.customer, "GET", "/v1/statements/{id}", ident=ids["1001"]).status_code
        == 200
    )
    for other in ("1002", "1003"):
        for path in ("/v1/statements/{id}", "/v1/statements/{id}/download/pdf"):
            assert call(client, keys.customer, "GET", path, ident=ids[other]).status_code == 404
    number = client.get(f"/v1/statements/{ids['1002']}", headers=auth(keys.read)).json()["number"]
    assert client.get(f"/v1/statements/{number}", headers=auth(keys.customer)).status_code == 404
    # the other customer's key sees only its own
    mine = client.get("/v1/statements", headers=auth(keys.other_customer)).json()
    assert [s["customer"] for s in mine["statements"]] == ["1002"]


def test_a_customer_key_reads_nothing_but_its_statements(client, keys, runtime) -> None:
    client.post("/v1/statements/approve-all", headers=auth(keys.operator))
    ident = statement_ids(runtime, "acme")["1001"]
    for path in ("/v1/credits", "/v1/reconciliation?provider=aws&period=2026-10", "/v1/plugins"):
        assert call(client, keys.customer, "GET", path).status_code == 403, path
    # the detailed CSV would show provider cost, the reseller's margin: a customer gets
    # the prices with every cost blank, the operator the costs
    path = "/v1/statements/{id}/download/detailed-csv"
    for key, costs_shown in ((keys.customer, False), (keys.operator, True)):
        detailed = call(client, key, "GET", path, ident=ident)
        assert detailed.status_code == 200
        rows = list(csv.DictReader(io.StringIO(detailed.text)))
        assert rows and all(row["price"] for row in rows)
        assert all(bool(row["cost"]) is costs_shown for row in rows), rows[0]
    assert call(client, keys.customer, "GET", "/v1/statements/{id}/download/pdf",
                ident=ident).status_code == 200  # fmt: skip


# ------------------------------------------------------------------------------ scopes


@pytest.mark.parametrize("role", ["read", "customer"])
def test_read_and_customer_keys_cannot_change_anything(client, keys, runtime, role) -> None:
    key = getattr(keys, role)
    ident = statement_ids(runtime, "acme")["1001"]
    for method, path, body in CHANGES:
        answer = call(client, key, method, path, body, ident)
        assert answer.status_code == 403, (method, path, answer.text)
        assert "needs a key with scope operator" in answer.json()["detail"]
    assert set(statuses(runtime, "acme").values()) == {"Draft"}
    assert client.get("/v1/credits", headers=auth(keys.operator)).json() == []
    with runtime.db.transaction() as session:
        assert session.scalars(select(m.PeriodClose.reason)).all() == ["provider", "provider"]


# ------------------------------------------------------------------------------ bad keys


def test_missing_malformed_unknown_wrong_and_revoked_keys_get_401(client, keys, runtime) -> None:
    prefix = keys.read.split("_")[1]
    revoked = create_key(runtime, "acme", "operator")
    revoke_key(runtime, "acme", revoked.key_id)
    bad = {
        "missing": None,
        "malformed": "not-a-key",
        "truncated": keys.read[:-1],
        "unknown id": "bc_000000000000_" + "0" * 64,
        "wrong secret": f"bc_{prefix}_" + "f" * 64,
        "revoked": revoked.token,
    }
    for why, key in bad.items():
        for path in READS:
            answer = call(client, key, "GET", path, ident="x")
            assert answer.status_code == 401, (why, path)
            assert answer.headers["www-authenticate"] == "Bearer"
        answer = call(client, key, "POST", "/v1/statements/approve-all")
        assert answer.status_code == 401, why
    # the same key in the other header works, so 401 above was about the keys
    ok = client.get("/v1/me", headers={"X-API-Key": keys.read})
    assert ok.status_code == 200
    assert client.get("/v1/me", headers={"Authorization": f"Basic {keys.read}"}).status_code == 401


def test_a_key_in_the_url_is_ignored(client, keys) -> None:
    # Query strings end up in access logs: a key there must not work.
    for name in ("api_key", "key", "token"):
        assert client.get(f"/v1/me?{name}={keys.read}").status_code == 401


def test_only_a_hash_of_the_secret_is_stored_and_use_is_recorded(client, keys, runtime) -> None:
    _, prefix, secret = keys.read.split("_")
    client.get("/v1/me", headers=auth(keys.read))
    with runtime.db.transaction() as session:
        row = session.get(m.ApiKey, prefix)
        assert secret not in row.secret_hash and row.secret_hash.startswith("sha256:")
        assert len(row.secret_hash) == len("sha256:") + 64
        assert row.last_used_at is not None
        audited = session.scalars(select(m.AuditEntry.detail)).all()
    assert all(secret not in str(detail) for detail in audited)


# ------------------------------------------------------------------------------ logs


def test_keys_never_appear_in_the_logs(client, keys, runtime, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    revoked = create_key(runtime, "acme", "operator")
    revoke_key(runtime, "acme", revoked.key_id)
    ident = statement_ids(runtime, "acme")["1001"]
    for key in (keys.operator, keys.read, keys.customer, revoked.token, keys.read + "x"):
        for path in READS:
            call(client, key, "GET", path, ident=ident)
        call(client, key, "POST", "/v1/statements/{id}/approve", ident=ident)
    client.post("/review/login", data={"key": keys.operator, "login_token": "x"})
    secrets_used = [k.split("_")[2] for k in (keys.operator, keys.read, keys.customer)]
    assert caplog.records  # the app and libraries did log at DEBUG
    for secret in [*secrets_used, revoked.token.split("_")[2]]:
        assert secret not in caplog.text


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_keys_never_appear_in_uvicorns_access_log(runtime, keys, caplog, monkeypatch) -> None:
    caplog.set_level(logging.DEBUG)
    # A server started earlier in this process with uvicorn's own logging config left
    # its access logger not propagating (the browser tests' servers do): caplog, on the
    # root logger, would then see no access line at all.
    access_logger = logging.getLogger("uvicorn.access")
    monkeypatch.setattr(access_logger, "propagate", True)
    monkeypatch.setattr(access_logger, "disabled", False)
    port = _free_port()
    # log_config=None: uvicorn's loggers propagate to the root, where caplog listens.
    config = uvicorn.Config(create_app(runtime), port=port, log_config=None, access_log=True)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base) as http:
            assert http.get("/v1/me", headers=auth(keys.read)).status_code == 200
            assert http.get("/v1/me", headers={"X-API-Key": keys.operator}).status_code == 200
            assert http.get("/v1/me", headers=auth(keys.read + "0")).status_code == 401
            login = http.post("/review/login", data={"key": keys.operator, "login_token": "x"})
            assert login.status_code == 403
    finally:
        server.should_exit = True
        thread.join(10)
    access = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert any("/v1/me" in line and "200" in line for line in access), access
    for key in (keys.read, keys.operator):
        assert key.split("_")[2] not in caplog.text
