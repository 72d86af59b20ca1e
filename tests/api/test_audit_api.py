"""``GET /v1/audit``: the key's tenant's trail, newest first, each filter narrowing it."""

from __future__ import annotations

import datetime as dt

import pytest

from connector.storage import models as m
from tests.api.conftest import auth, statement_ids


def key_id(key: str) -> str:
    return key.split("_")[1]


def trail(client, key: str, **params: str | int) -> dict:  # type: ignore[no-untyped-def]
    answer = client.get("/v1/audit", params=params, headers=auth(key))
    assert answer.status_code == 200, answer.text
    return answer.json()


def actions(body: dict) -> list[str]:
    return [e["action"] for e in body["entries"]]


@pytest.fixture
def seeded(client, keys, runtime) -> str:
    """acme 1001 approved through the API (now), plus two older entries of known times:
    a credit grant by cli:ann on 1 October and a period close by cli:bob on 6 November
    at 09:00 UTC. Returns the approved statement's id."""
    ident = statement_ids(runtime, "acme")["1001"]
    assert client.post(f"/v1/statements/{ident}/approve", headers=auth(keys.operator)).is_success
    utc = dt.UTC
    older = [
        ("cli:ann", "credit.grant", "1001", dt.datetime(2026, 10, 1, 12, tzinfo=utc)),
        ("cli:bob", "period.close", "aws:2026-10", dt.datetime(2026, 11, 6, 9, tzinfo=utc)),
    ]
    with runtime.db.transaction() as session:
        for actor, action, subject, at in older:
            session.add(m.AuditEntry(tenant_id="acme", actor=actor, action=action,
                                     subject=subject, detail={}, at=at))  # fmt: skip
    return ident


def test_an_api_approval_is_in_the_trail_and_the_log_with_the_key_id(
    client, keys, runtime, json_log
) -> None:
    ident = statement_ids(runtime, "acme")["1002"]
    assert client.post(f"/v1/statements/{ident}/approve", headers=auth(keys.operator)).is_success
    actor = f"api-key:{key_id(keys.operator)}"
    body = trail(client, keys.read, action="statement.approve")
    ((entry),) = body["entries"]
    assert (entry["actor"], entry["subject"], entry["detail"]) == (
        actor, ident, {"number": "ACME-01001"},
    )  # fmt: skip
    assert body["total"] == 1 and entry["at"].endswith("Z")
    (logged,) = [e for e in json_log.lines("connector.audit") if e["action"] == "statement.approve"]
    assert (logged["actor"], logged["subject"], logged["tenant"]) == (actor, ident, "acme")


def test_since_and_until_take_dates_and_timestamps(client, keys, seeded) -> None:
    assert "credit.grant" in actions(trail(client, keys.read))
    since = actions(trail(client, keys.read, since="2026-11-01"))
    assert "credit.grant" not in since and "period.close" in since
    assert actions(trail(client, keys.read, until="2026-10-31")) == ["credit.grant"]
    # A timestamp is exclusive; a date as `until` takes in that whole day.
    assert actions(trail(client, keys.read, until="2026-11-06T09:00:00Z")) == ["credit.grant"]
    assert actions(trail(client, keys.read, until="2026-11-06")) == ["period.close", "credit.grant"]
    # An offset is honoured: 10:30+02:00 is 08:30 UTC, before the close.
    early = trail(client, keys.read, since="2026-11-06T10:30:00+02:00", until="2026-11-07")
    assert actions(early) == ["period.close"]


def test_action_actor_and_statement_each_narrow_the_trail(client, keys, runtime, seeded) -> None:
    operator = f"api-key:{key_id(keys.operator)}"
    assert set(actions(trail(client, keys.read, action="statement"))) == {
        "statement.approve", "statement.generate",
    }  # fmt: skip
    assert actions(trail(client, keys.read, action="statement.approve")) == ["statement.approve"]
    # (the fixture's keys were made by plain "cli")
    assert actions(trail(client, keys.read, actor="cli:")) == ["period.close", "credit.grant"]
    assert actions(trail(client, keys.read, actor="cli:bob")) == ["period.close"]
    assert actions(trail(client, keys.read, actor=operator)) == ["statement.approve"]
    # By invoice number, id or id prefix: that statement's entries, not its siblings'.
    for ident in ("ACME-01001", seeded, seeded[:-3]):
        body = trail(client, keys.read, statement=ident)
        assert actions(body) == ["statement.approve", "statement.generate"], ident
        assert {e["subject"] for e in body["entries"]} == {seeded}


def test_the_trail_is_paged_newest_first(client, keys, seeded) -> None:
    everything = trail(client, keys.read)
    times = [e["at"] for e in everything["entries"]]
    assert times == sorted(times, reverse=True) and everything["total"] == len(times) >= 6
    page = trail(client, keys.read, limit=2, offset=1)
    assert page["entries"] == everything["entries"][1:3] and page["total"] == everything["total"]


def test_another_tenants_key_sees_none_of_it_and_a_customer_key_is_refused(
    client, keys, seeded
) -> None:
    assert trail(client, keys.read, statement=seeded)["total"] == 2
    assert trail(client, keys.globex_operator, statement=seeded) == {"entries": [], "total": 0}
    globex = trail(client, keys.globex_operator)
    assert globex["total"] > 0 and "statement.approve" not in actions(globex)
    assert not {"credit.grant", "period.close"} & set(actions(globex))
    denied = client.get("/v1/audit", headers=auth(keys.customer))
    assert denied.status_code == 403


def test_an_unreadable_date_is_422_naming_the_filter(client, keys) -> None:
    answer = client.get("/v1/audit", params={"until": "2026-02-30"}, headers=auth(keys.read))
    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("until: '2026-02-30' is not a date")
