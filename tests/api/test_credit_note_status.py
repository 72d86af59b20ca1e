"""The API and the review page apply the one lifecycle rule to credit notes."""

from __future__ import annotations

from sqlalchemy import select

from connector.pipeline.review.approve import approve
from connector.pipeline.review.void import void
from connector.storage import models as m
from tests.api.conftest import auth, statement_ids
from tests.api.test_review_page import csrf_of, login


def credit_note_of_1001(runtime) -> str:
    """acme's October statements approved (ACME-01001..03), customer 1001's voided: the
    credit note ACME-01004's id."""
    approve(runtime, "acme", None, actor="t")
    ident = statement_ids(runtime, "acme")["1001"]
    return void(runtime, "acme", ident, "t", "wrong account").id


def status_of(runtime, ident: str) -> str:
    with runtime.db.transaction() as session:
        return session.scalar(select(m.Statement.status).where(m.Statement.id == ident))


def test_past_due_for_a_credit_note_is_409_naming_it_and_closed_is_allowed(
    client, keys, runtime
) -> None:
    note = credit_note_of_1001(runtime)
    url = f"/v1/statements/{note}/status"

    refused = client.post(url, json={"status": "Past Due"}, headers=auth(keys.operator))

    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert "credit note ACME-01004 is Open; it cannot become Past Due" in detail
    assert "legal next statuses for a credit note in Open are Closed" in detail
    assert status_of(runtime, note) == "Open"
    closed = client.post(url, json={"status": "Closed"}, headers=auth(keys.operator))
    assert closed.status_code == 200, closed.text
    assert (closed.json()["status"], closed.json()["kind"]) == ("Closed", "credit-note")


def test_a_credit_note_lists_and_shows_through_the_api(client, keys, runtime) -> None:
    note = credit_note_of_1001(runtime)
    shown = client.get(f"/v1/statements/{note}", headers=auth(keys.operator))
    assert shown.status_code == 200, shown.text
    assert (shown.json()["kind"], shown.json()["total"]) == ("credit-note", "-323.08")
    listed = client.get("/v1/statements", headers=auth(keys.operator))
    assert listed.status_code == 200, listed.text
    assert "credit-note" in {s["kind"] for s in listed.json()["statements"]}


def test_the_review_page_refuses_to_approve_a_credit_note_by_the_same_rule(
    client, keys, runtime
) -> None:
    """The page lists Drafts only, but a form can name any statement."""
    note = credit_note_of_1001(runtime)
    page = login(client, keys.operator)

    answer = client.post(
        "/review/action", data={"csrf": csrf_of(page.text), "action": "approve", "ids": [note]}
    )

    text = " ".join(answer.text.split())
    assert "Nothing was changed: credit note ACME-01004 is Open already" in text
    assert "its legal next statuses are Closed" in text
    assert status_of(runtime, note) == "Open"
