"""A page of ``GET /v1/statements`` is one SQL statement: the summary's columns, and the
count of every match riding along (issue 24, the API under load)."""

from __future__ import annotations

from connector.api.schemas import StatementList
from tests.api.conftest import auth


def test_a_page_and_its_total_come_from_one_statement(client, keys, sql_sent) -> None:
    everything = client.get("/v1/statements", headers=auth(keys.read)).json()
    sql_sent.clear()
    page = client.get("/v1/statements?limit=1&offset=1", headers=auth(keys.read))
    assert page.status_code == 200
    (read,) = [statement for statement in sql_sent if "FROM statements" in statement]
    assert "options" not in read and "batch_ids" not in read
    assert page.json() == {"statements": everything["statements"][1:2],
                           "total": everything["total"]}  # fmt: skip
    assert everything["total"] == len(everything["statements"]) > 1


def test_a_page_past_the_end_still_says_how_many_match(client, keys) -> None:
    total = client.get("/v1/statements", headers=auth(keys.read)).json()["total"]
    past = client.get(f"/v1/statements?offset={total + 10}", headers=auth(keys.read)).json()
    assert past == {"statements": [], "total": total}
    none = client.get("/v1/statements?provider=azure", headers=auth(keys.read)).json()
    assert none == {"statements": [], "total": 0}


def test_the_list_is_what_its_documented_model_writes(client, keys) -> None:
    answer = client.get("/v1/statements?limit=3", headers=auth(keys.read))
    listed = StatementList.model_validate_json(answer.content)
    assert answer.content == listed.model_dump_json().encode()
    assert len(listed.statements) == 3 and listed.statements[0].subtotal.count(".") == 1
