"""``/v1/statements``: list and filters, one with lines, downloads, approve, delete, status."""

from __future__ import annotations

import io
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree
from pypdf import PdfReader
from sqlalchemy import select

from connector.storage import models as m
from tests.api.conftest import EUR_RATE, auth, statement_ids

CENT = Decimal("0.01")


def audit(runtime, action: str) -> list[m.AuditEntry]:
    with runtime.db.transaction() as session:
        return list(
            session.scalars(
                select(m.AuditEntry).where(m.AuditEntry.action == action).order_by(m.AuditEntry.id)
            )
        )


def approve(client, keys, ident: str):  # type: ignore[no-untyped-def]
    """``POST /v1/statements/{ident}/approve`` with the operator's key."""
    return client.post(f"/v1/statements/{ident}/approve", headers=auth(keys.operator))


def key_id(key: str) -> str:
    return key.split("_")[1]


# ------------------------------------------------------------------------------ list / get


def test_the_list_holds_the_tenants_drafts_with_totals_as_decimal_strings(
    client, keys, runtime
) -> None:
    answer = client.get("/v1/statements", headers=auth(keys.read))
    assert answer.status_code == 200
    body = answer.json()
    assert body["total"] == 3
    by_customer = {s["customer"]: s for s in body["statements"]}
    assert set(by_customer) == {"1001", "1002", "1003"}
    # the totals the builder stored (tests/pipeline checks them against the CUR file)
    assert by_customer["1001"]["total"] == "323.08"
    assert by_customer["1003"]["tax"] == "0.00"  # tax exempt
    assert {s["status"] for s in body["statements"]} == {"Draft"}
    assert {s["number"] for s in body["statements"]} == {None}


def test_filters_narrow_the_list(client, keys) -> None:
    def customers(**params: str) -> set[str]:
        answer = client.get("/v1/statements", headers=auth(keys.read), params=params)
        assert answer.status_code == 200, answer.text
        return {s["customer"] for s in answer.json()["statements"]}

    assert customers(customer="1002") == {"1002"}
    assert customers(provider="aws", period="2026-10", status="Draft") == {"1001", "1002", "1003"}
    assert customers(period="2026-09") == set()
    assert customers(provider="azure") == set()
    assert customers(status="Open") == set()


def test_limit_and_offset_page_through_the_list(client, keys) -> None:
    first = client.get("/v1/statements?limit=2", headers=auth(keys.read)).json()
    rest = client.get("/v1/statements?limit=2&offset=2", headers=auth(keys.read)).json()
    assert (len(first["statements"]), len(rest["statements"])) == (2, 1)
    assert first["total"] == rest["total"] == 3
    seen = {s["id"] for s in first["statements"] + rest["statements"]}
    assert len(seen) == 3


def test_invalid_filters_answer_422_naming_the_field(client, keys) -> None:
    for query in ("period=2026-13", "period=October", "status=Paid", "limit=0", "limit=501"):
        answer = client.get(f"/v1/statements?{query}", headers=auth(keys.read))
        assert answer.status_code == 422, query
        assert query.split("=")[0] in answer.json()["detail"]


def test_one_statement_comes_with_its_lines_and_no_provider_cost(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1002"]
    answer = client.get(f"/v1/statements/{ident}", headers=auth(keys.read))
    assert answer.status_code == 200
    body = answer.json()
    assert body["id"] == ident and body["customer"] == "1002"
    lines = {line["description"]: line for line in body["lines"]}
    assert lines["Rounding adjustment"]["amount"] == "-0.01"
    assert lines["US Sales Tax (8.25%)"]["kind"] == "tax"
    # the lines add up to the total: 299.42 + 24.70
    assert sum(Decimal(line["amount"]) for line in body["lines"]) == Decimal("324.12")
    assert all("cost" not in line for line in body["lines"])  # the reseller's margin


def test_an_unknown_statement_is_404(client, keys) -> None:
    answer = client.get("/v1/statements/no-such-statement", headers=auth(keys.read))
    assert answer.status_code == 404
    assert "no statement 'no-such-statement'" in answer.json()["detail"]


def test_a_statement_is_found_by_its_invoice_number_too(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1001"]
    approved = approve(client, keys, ident)
    number = approved.json()["number"]
    answer = client.get(f"/v1/statements/{number}", headers=auth(keys.read))
    assert answer.status_code == 200 and answer.json()["id"] == ident


# ------------------------------------------------------------------------------ downloads


def test_each_format_downloads_with_its_media_type(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1001"]
    approve(client, keys, ident)
    url = f"/v1/statements/{ident}/download"
    pdf = client.get(f"{url}/pdf", headers=auth(keys.read))
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "ACME-01001" in text and "323.08" in text
    csv = client.get(f"{url}/csv", headers=auth(keys.read))
    assert csv.headers["content-type"].startswith("text/csv") and "126.49" in csv.text
    detailed = client.get(f"{url}/detailed-csv", headers=auth(keys.read))
    assert detailed.status_code == 200 and "usage_type" in detailed.text
    html = client.get(f"{url}/html", headers=auth(keys.read))
    assert html.headers["content-type"].startswith("text/html") and "323.08" in html.text
    ubl = client.get(f"{url}/ubl", headers=auth(keys.read))
    assert ubl.headers["content-type"] == "application/xml"
    tree = etree.fromstring(ubl.content)
    assert tree.findtext("{*}ID") == "ACME-01001"
    assert 'filename="aws-2026-10-1001-ACME-01001.pdf"' in pdf.headers["content-disposition"]


def test_a_draft_has_no_ubl_invoice_yet_409(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1001"]
    answer = client.get(f"/v1/statements/{ident}/download/ubl", headers=auth(keys.read))
    assert answer.status_code == 409
    assert "approve it first" in answer.json()["detail"]


def test_an_unknown_format_is_422_and_an_unknown_statement_404(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1001"]
    assert (
        client.get(f"/v1/statements/{ident}/download/docx", headers=auth(keys.read)).status_code
        == 422
    )
    assert (
        client.get("/v1/statements/nope/download/pdf", headers=auth(keys.read)).status_code == 404
    )


def test_another_currency_converts_each_line_at_the_periods_rate(client, keys, runtime) -> None:
    """Customer 1001 at 1 USD = 0.9215 EUR, line by line (half-up to the cent):
    74.97 -> 69.08, 126.49 -> 116.56, 40.57 -> 37.39, 46.53 -> 42.88, 9.90 -> 9.12,
    tax 24.62 -> 22.69; total 297.72 EUR."""
    ident = statement_ids(runtime, "acme")["1001"]
    answer = client.get(
        f"/v1/statements/{ident}/download/csv?currency=EUR", headers=auth(keys.read)
    )
    assert answer.status_code == 200
    assert answer.headers["x-exchange-rate"] == EUR_RATE
    assert "EUR" in answer.text
    for line in ("69.08", "116.56", "37.39", "42.88", "9.12", "22.69"):
        assert line in answer.text
    html = client.get(f"/v1/statements/{ident}/download/html?currency=EUR", headers=auth(keys.read))
    assert "1 USD = 0.9215 EUR" in html.text and "297.72" in html.text
    assert "-EUR.html" in html.headers["content-disposition"]


def test_the_hand_computed_conversion_matches_the_stored_lines(runtime) -> None:
    """The docstring above, recomputed from the stored lines rather than trusted."""
    ident = statement_ids(runtime, "acme")["1001"]
    with runtime.db.transaction() as session:
        amounts = [line.amount for line in session.get(m.Statement, ident).lines]
    converted = [(a * Decimal(EUR_RATE)).quantize(CENT, ROUND_HALF_UP) for a in amounts]
    assert sum(converted) == Decimal("297.72")


def test_a_currency_without_a_rate_is_422_saying_what_to_add(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1001"]
    answer = client.get(
        f"/v1/statements/{ident}/download/pdf?currency=GBP", headers=auth(keys.read)
    )
    assert answer.status_code == 422
    assert "2026-10,USD,GBP,<rate>" in answer.json()["detail"]
    bad = client.get(f"/v1/statements/{ident}/download/pdf?currency=euro", headers=auth(keys.read))
    assert bad.status_code == 422


# ------------------------------------------------------------------------------ approve


def test_approving_one_gives_it_the_next_number_and_audits_the_key(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1002"]
    answer = approve(client, keys, ident)
    assert answer.status_code == 200
    assert (answer.json()["number"], answer.json()["status"]) == ("ACME-01001", "Open")
    (entry,) = audit(runtime, "statement.approve")
    assert entry.actor == f"api-key:{key_id(keys.operator)}" and entry.subject == ident
    with runtime.db.transaction() as session:
        outbox = session.scalars(select(m.OutboxEntry)).all()
        assert [e.statement_id for e in outbox] == [ident]


def test_every_approval_answers_the_summaries_the_list_then_shows(client, keys, runtime) -> None:
    """Approval answers from what it read and wrote, not by reading the statements
    again: each field must still be what the list shows afterwards."""
    ids = statement_ids(runtime, "acme")
    one = approve(client, keys, ids["1002"]).json()
    some = client.post(
        "/v1/statements/approve", json={"ids": [ids["1003"]]}, headers=auth(keys.operator)
    ).json()
    rest = client.post("/v1/statements/approve-all", headers=auth(keys.operator)).json()
    listed = client.get("/v1/statements", headers=auth(keys.read)).json()["statements"]
    by_id = {s["id"]: s for s in listed}
    answered = [one, *some, *rest]
    assert len(answered) == len(listed) and {s["status"] for s in answered} == {"Open"}
    assert answered == [by_id[s["id"]] for s in answered]


def test_approving_twice_is_409(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1002"]
    approve(client, keys, ident)
    again = approve(client, keys, ident)
    assert again.status_code == 409
    assert "only Drafts can be approved" in again.json()["detail"]
    assert approve(client, keys, "nope").status_code == 404


def test_approving_several_is_all_or_none(client, keys, runtime) -> None:
    ids = statement_ids(runtime, "acme")
    approve(client, keys, ids["1003"])
    mixed = client.post(
        "/v1/statements/approve",
        json={"ids": [ids["1001"], ids["1003"]]},
        headers=auth(keys.operator),
    )
    assert mixed.status_code == 409  # 1003 is already Open, so 1001 stays a Draft too
    one = client.get(f"/v1/statements/{ids['1001']}", headers=auth(keys.read)).json()
    assert one["status"] == "Draft"
    unknown = client.post(
        "/v1/statements/approve", json={"ids": [ids["1001"], "nope"]}, headers=auth(keys.operator)
    )
    assert unknown.status_code == 404
    both = client.post(
        "/v1/statements/approve",
        json={"ids": [ids["1001"], ids["1002"]]},
        headers=auth(keys.operator),
    )
    assert both.status_code == 200
    assert sorted(s["number"] for s in both.json()) == ["ACME-01002", "ACME-01003"]
    empty = client.post("/v1/statements/approve", json={"ids": []}, headers=auth(keys.operator))
    assert empty.status_code == 422


def test_approving_several_numbers_them_by_customer_not_by_the_order_sent(
    client, keys, runtime
) -> None:
    """Regression: numbers followed the order of ``ids``; they follow period start,
    then customer id (all three are October's), and the answer lists them so."""
    ids = statement_ids(runtime, "acme")
    answer = client.post(
        "/v1/statements/approve",
        json={"ids": [ids["1003"], ids["1001"], ids["1002"]]},
        headers=auth(keys.operator),
    )
    assert answer.status_code == 200
    assert [(s["customer"], s["number"]) for s in answer.json()] == [
        ("1001", "ACME-01001"),
        ("1002", "ACME-01002"),
        ("1003", "ACME-01003"),
    ]


def test_approve_all_approves_every_draft_of_the_tenant_only(client, keys, runtime) -> None:
    answer = client.post("/v1/statements/approve-all", headers=auth(keys.operator))
    assert answer.status_code == 200
    assert sorted(s["number"] for s in answer.json()) == ["ACME-01001", "ACME-01002", "ACME-01003"]
    globex = client.get("/v1/statements", headers=auth(keys.globex_operator)).json()
    assert {s["status"] for s in globex["statements"]} == {"Draft"}
    again = client.post(
        "/v1/statements/approve-all", json={"provider": "aws"}, headers=auth(keys.operator)
    )
    assert again.status_code == 200 and again.json() == []


# ------------------------------------------------------------------------------ delete


def test_deleting_a_draft_removes_it_and_audits_the_key(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1003"]
    answer = client.delete(f"/v1/statements/{ident}", headers=auth(keys.operator))
    assert answer.status_code == 204
    assert client.get(f"/v1/statements/{ident}", headers=auth(keys.read)).status_code == 404
    (entry,) = audit(runtime, "statement.delete")
    assert entry.actor == f"api-key:{key_id(keys.operator)}" and entry.subject == ident
    assert client.delete(f"/v1/statements/{ident}", headers=auth(keys.operator)).status_code == 404


def test_deleting_an_open_statement_is_409(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1003"]
    approve(client, keys, ident)
    answer = client.delete(f"/v1/statements/{ident}", headers=auth(keys.operator))
    assert answer.status_code == 409
    assert "only Drafts can be deleted" in answer.json()["detail"]


# ------------------------------------------------------------------------------ status


def test_open_becomes_closed_and_closed_is_final(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1001"]
    approve(client, keys, ident)
    url = f"/v1/statements/{ident}/status"
    past_due = client.post(url, json={"status": "Past Due"}, headers=auth(keys.operator))
    assert past_due.status_code == 200 and past_due.json()["status"] == "Past Due"
    closed = client.post(url, json={"status": "Closed"}, headers=auth(keys.operator))
    assert closed.status_code == 200 and closed.json()["status"] == "Closed"
    reopened = client.post(url, json={"status": "Open"}, headers=auth(keys.operator))
    assert reopened.status_code == 409
    assert "which is final" in reopened.json()["detail"]
    changes = audit(runtime, "statement.status")
    assert [(e.detail["from"], e.detail["to"]) for e in changes] == [
        ("Open", "Past Due"),
        ("Past Due", "Closed"),
    ]
    assert {e.actor for e in changes} == {f"api-key:{key_id(keys.operator)}"}


def test_a_draft_cannot_be_closed_409_and_an_unknown_status_is_422(client, keys, runtime) -> None:
    ident = statement_ids(runtime, "acme")["1001"]
    url = f"/v1/statements/{ident}/status"
    draft = client.post(url, json={"status": "Closed"}, headers=auth(keys.operator))
    assert draft.status_code == 409 and "only by approval" in draft.json()["detail"]
    unknown = client.post(url, json={"status": "Paid"}, headers=auth(keys.operator))
    assert unknown.status_code == 422 and "status" in unknown.json()["detail"]
    missing = client.post("/v1/statements/nope/status", json={"status": "Closed"},
                          headers=auth(keys.operator))  # fmt: skip
    assert missing.status_code == 404
