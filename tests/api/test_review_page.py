"""The review page without a browser: login, sessions, CSRF, actions, View, Finish."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from sqlalchemy import select

from connector.access.api_keys import Principal, revoke_key
from connector.api.queries import StatementFilter
from connector.api.review import draft_rows
from connector.api.sessions import COOKIE, ReviewSession
from connector.storage import models as m
from tests.api.conftest import statement_ids


def login(client, key: str):  # type: ignore[no-untyped-def]
    form = client.get("/review/login")
    token = re.search(r'name="login_token" value="([^"]+)"', form.text)[1]
    return client.post("/review/login", data={"key": key, "login_token": token})


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]


def act(client, page, action: str, **fields):  # type: ignore[no-untyped-def]
    """Post ``action`` from ``page`` (its form's CSRF token) with the form ``fields``."""
    return client.post(
        "/review/action", data={"csrf": csrf_of(page.text), "action": action, **fields}
    )


def statuses(runtime) -> dict[str, tuple[str, str | None]]:
    with runtime.db.transaction() as session:
        rows = session.execute(
            select(m.Statement.customer_id, m.Statement.status, m.Statement.number).where(
                m.Statement.tenant_id == "acme"
            )
        )
        return {customer: (status, number) for customer, status, number in rows}


def test_without_a_session_the_page_sends_you_to_log_in(client) -> None:
    answer = client.get("/review", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/review/login"


def test_an_operator_key_logs_in_and_sees_the_drafts_with_totals(client, keys) -> None:
    page = login(client, keys.operator)
    assert page.status_code == 200 and page.url.path == "/review"
    assert "Preview Generated Billing Statements" in page.text
    for total in ("323.08", "324.12", "176.33"):  # the three drafts' totals
        assert total in page.text
    assert "first statement" in page.text  # no earlier period to compare with
    cookie = page.history[0].headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert keys.operator.split("_")[2] not in cookie  # an opaque session id, not the key
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_read_customer_and_wrong_keys_cannot_log_in(client, keys) -> None:
    wrong_secret = keys.operator[:-1] + ("1" if keys.operator.endswith("0") else "0")
    for key in (keys.read, keys.customer, "bc_nope", wrong_secret):
        answer = login(client, key)
        assert answer.status_code == 401
        assert "not a valid operator API key" in answer.text
        assert COOKIE not in client.cookies


def test_a_login_posted_without_the_forms_token_is_refused(client, keys) -> None:
    client.get("/review/login")
    answer = client.post("/review/login", data={"key": keys.operator, "login_token": "forged"})
    assert answer.status_code == 403 and COOKIE not in client.cookies


def test_approve_and_delete_act_on_the_selection_and_audit_the_key(client, keys, runtime) -> None:
    ids = statement_ids(runtime, "acme")
    page = login(client, keys.operator)
    approved = act(client, page, "approve", ids=[ids["1001"], ids["1002"]])
    assert "Approved 2 statement(s): ACME-01001, ACME-01002." in approved.text
    assert "Approved in this review" in approved.text
    deleted = act(client, approved, "delete", ids=[ids["1003"]])
    assert "Deleted 1 draft(s)." in deleted.text
    assert statuses(runtime) == {"1001": ("Open", "ACME-01001"), "1002": ("Open", "ACME-01002")}
    with runtime.db.transaction() as session:
        actors = set(session.scalars(select(m.AuditEntry.actor)).all())
    assert f"api-key:{keys.operator.split('_')[1]}" in actors


def test_approve_all_approves_what_the_page_listed(client, keys, runtime) -> None:
    ids = statement_ids(runtime, "acme")
    page = login(client, keys.operator)
    answer = act(client, page, "approve-all", listed=list(ids.values()))
    assert "Approved 3 statement(s)" in answer.text
    assert {status for status, _ in statuses(runtime).values()} == {"Open"}
    assert "No drafts to review" in answer.text


def test_a_form_without_the_sessions_csrf_token_changes_nothing(client, keys, runtime) -> None:
    ids = statement_ids(runtime, "acme")
    login(client, keys.operator)
    for token in ("", "forged"):
        answer = client.post(
            "/review/action", data={"csrf": token, "action": "delete", "ids": [ids["1001"]]}
        )
        assert answer.status_code == 403
    assert {status for status, _ in statuses(runtime).values()} == {"Draft"}


def test_a_statement_of_another_tenant_cannot_be_acted_on_or_viewed(client, keys, runtime) -> None:
    other = statement_ids(runtime, "globex")["1001"]
    page = login(client, keys.operator)
    answer = act(client, page, "delete", ids=[other])
    assert "Nothing was changed" in answer.text
    assert client.get(f"/review/statements/{other}").status_code == 404
    assert client.get(f"/review/statements/{other}/document").status_code == 404
    with runtime.db.transaction() as session:
        assert session.get(m.Statement, other) is not None


def test_view_shows_the_statement_as_the_customer_will_see_it(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1001"]
    login(client, keys.operator)
    view = client.get(f"/review/statements/{ident}")
    assert view.status_code == 200 and f"/review/statements/{ident}/document" in view.text
    document = client.get(f"/review/statements/{ident}/document")
    assert document.status_code == 200, document.text
    assert document.headers["content-type"].startswith("text/html")
    assert "Blue Harbor Logistics LLC" in document.text and "323.08" in document.text
    policy = document.headers["content-security-policy"]
    assert "script-src" not in policy  # no script may run
    assert "frame-ancestors 'self'" in policy  # framed by the statement view only


def test_revoking_the_key_ends_the_session(client, keys, runtime) -> None:
    login(client, keys.operator)
    assert client.get("/review", follow_redirects=False).status_code == 200
    revoke_key(runtime, "acme", keys.operator.split("_")[1])
    answer = client.get("/review", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/review/login"


def test_finish_summarises_and_logs_out(client, keys, runtime) -> None:
    ids = statement_ids(runtime, "acme")
    page = login(client, keys.operator)
    page = act(client, page, "approve", ids=[ids["1003"]])
    done = client.post("/review/finish", data={"csrf": csrf_of(page.text)})
    assert "1 statement(s) approved:" in done.text and "ACME-01001" in done.text
    assert client.get("/review", follow_redirects=False).status_code == 303


def test_each_draft_shows_the_change_against_the_previous_statement(runtime) -> None:
    """Customer 1002's September statement totalled 300.00 with EC2 at 60.00; October's
    draft is 324.12 with EC2 at 68.38: change +24.12 (+8.0 %), EC2 among the changed lines."""
    october = statement_ids(runtime, "acme")["1002"]
    with runtime.db.transaction() as session:
        draft = session.get(m.Statement, october)
        september = m.Statement(
            id="sept-1002", tenant_id="acme", customer_id="1002", provider="aws",
            period_start=dt.date(2026, 9, 1), period_end=dt.date(2026, 10, 1), status="Closed",
            number="ACME-00990", currency="USD", subtotal=Decimal("300.00"), tax=Decimal(0),
            total=Decimal("300.00"), issue_date=dt.date(2026, 10, 6),
            due_date=dt.date(2026, 11, 5), batch_ids=[], options={},
        )  # fmt: skip
        september.lines = [
            m.StatementLine(
                position=1, kind="service", description="Amazon Elastic Compute Cloud",
                amount=Decimal("60.00"), cost=Decimal(0), quantity=Decimal(1),
            )
        ]  # fmt: skip
        session.add(september)
        assert draft.total == Decimal("324.12")
    principal = Principal("k", "acme", "operator", None)
    found = draft_rows(runtime, ReviewSession(principal), StatementFilter(status="Draft"))
    rows = {r.statement.customer_id: r for r in found}
    row = rows["1002"]
    assert row.previous.number == "ACME-00990"
    assert row.change == Decimal("24.12") and row.change_percent == Decimal("8.0")
    ec2 = next(c for c in row.line_changes if c.description == "Amazon Elastic Compute Cloud")
    assert (ec2.before, ec2.after) == (Decimal("60.00"), Decimal("68.38"))
    assert rows["1001"].previous is None and rows["1001"].change is None


def test_empty_filters_list_everything_and_a_bad_period_is_explained(client, keys) -> None:
    login(client, keys.operator)
    unfiltered = client.get("/review?provider=&period=")
    assert unfiltered.status_code == 200 and "324.12" in unfiltered.text
    bad = client.get("/review?period=2026-1")
    assert bad.status_code == 200
    assert "Period &#39;2026-1&#39; is not YYYY-MM" in bad.text and "324.12" in bad.text
    assert "324.12" not in client.get("/review?provider=azure").text


def test_an_outcome_is_shown_once_and_cannot_be_written_into_a_link(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1003"]
    page = login(client, keys.operator)
    done = act(client, page, "delete", ids=[ident])
    assert "Deleted 1 draft(s)." in done.text
    assert "Deleted 1 draft(s)." not in client.get("/review").text
    assert "Call 555" not in client.get("/review?message=Call+555").text


def test_there_is_no_redoc_page_loading_scripts_from_a_cdn(client) -> None:
    # /docs is Swagger UI served from here (tests/api/test_docs_page.py).
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200
