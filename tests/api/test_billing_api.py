"""Credits, period close, reconciliation, plugins, health and ``/v1/me``."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from connector.storage import models as m
from tests.api.conftest import auth


def test_granting_credits_adds_up_the_balance_and_audits_the_key(client, keys, runtime) -> None:
    """150.00 + 25.5 granted to 1001 (USD, its invoice currency): balance 175.50."""
    first = client.post(
        "/v1/credits",
        json={"customer": "1001", "amount": "150.00", "comment": "October outage"},
        headers=auth(keys.operator),
    )
    assert first.status_code == 201
    assert first.json() | {"entry": 0} == {
        "entry": 0,
        "customer": "1001",
        "amount": "150.00",
        "currency": "USD",
        "balance": "150.00",
    }
    second = client.post(
        "/v1/credits",
        json={"customer": "1001", "amount": "25.5", "comment": "goodwill"},
        headers=auth(keys.operator),
    )
    assert second.json()["balance"] == "175.50"
    listed = client.get("/v1/credits", headers=auth(keys.read)).json()
    assert listed == [
        {
            "customer": "1001",
            "currency": "USD",
            "granted": "175.50",
            "applied": "0.00",
            "balance": "175.50",
        }
    ]
    assert client.get("/v1/credits?customer=1002", headers=auth(keys.read)).json() == []
    with runtime.db.transaction() as session:
        actors = session.scalars(
            select(m.AuditEntry.actor).where(m.AuditEntry.action == "credit.grant")
        ).all()
    assert actors == [f"api-key:{keys.operator.split('_')[1]}"] * 2


def test_invalid_credit_amounts_are_422_with_the_reason(client, keys) -> None:
    reasons = {
        "1,000": "no thousands separators: write 1000",
        "12,5": "no commas: use '.' for decimals",
        "-5": "no signs",
        "0": "must be more than zero",
        "ten": "must be a plain number like 150.00",
        "1.12345678901": "at most 10",
    }
    for amount, reason in reasons.items():
        answer = client.post(
            "/v1/credits",
            json={"customer": "1001", "amount": amount, "comment": "x"},
            headers=auth(keys.operator),
        )
        assert answer.status_code == 422, amount
        assert reason in answer.json()["detail"], amount
    assert client.get("/v1/credits", headers=auth(keys.read)).json() == []


def test_a_credit_amount_must_be_text_never_a_json_number(client, keys) -> None:
    # 0.1 as a JSON number is a float to most parsers: refused rather than guessed at.
    answer = client.post(
        "/v1/credits",
        json={"customer": "1001", "amount": 0.1, "comment": "x"},
        headers=auth(keys.operator),
    )
    assert answer.status_code == 422 and "amount" in answer.json()["detail"]


def test_a_credit_needs_a_comment_and_a_known_customer(client, keys) -> None:
    blank = client.post(
        "/v1/credits",
        json={"customer": "1001", "amount": "5", "comment": "  "},
        headers=auth(keys.operator),
    )
    assert blank.status_code == 422 and "comment is required" in blank.json()["detail"]
    unknown = client.post(
        "/v1/credits",
        json={"customer": "9999", "amount": "5", "comment": "x"},
        headers=auth(keys.operator),
    )
    assert unknown.status_code == 404 and "no customer '9999'" in unknown.json()["detail"]
    assert client.get("/v1/credits?customer=9999", headers=auth(keys.read)).status_code == 404


def test_closing_a_period_records_the_manual_signal_once(client, keys, runtime) -> None:
    body = {"provider": "aws", "period": "2026-11"}
    answer = client.post("/v1/periods/close", json=body, headers=auth(keys.operator))
    assert answer.status_code == 200
    assert answer.json() == {
        "provider": "aws",
        "period": "2026-11",
        "period_start": "2026-11-01",
        "period_end": "2026-12-01",
        "reason": "manual",
    }
    # October was closed by AWS itself (every row has an invoice id): that reason stays
    october = client.post(
        "/v1/periods/close", json={"provider": "aws", "period": "2026-10"},
        headers=auth(keys.operator),
    )  # fmt: skip
    assert october.json()["reason"] == "provider"
    with runtime.db.transaction() as session:
        entries = session.scalars(
            select(m.AuditEntry)
            .where(m.AuditEntry.action == "period.close")
            .order_by(m.AuditEntry.id)
        ).all()
    assert [(e.actor, e.subject, e.detail) for e in entries] == [
        (f"api-key:{keys.operator.split('_')[1]}", "aws:2026-11", {"reason": "manual"}),
        (f"api-key:{keys.operator.split('_')[1]}", "aws:2026-10", {"reason": "provider"}),
    ]


def test_closing_an_unknown_provider_is_404_and_a_bad_period_422(client, keys) -> None:
    unknown = client.post(
        "/v1/periods/close", json={"provider": "azure", "period": "2026-10"},
        headers=auth(keys.operator),
    )  # fmt: skip
    assert unknown.status_code == 404 and "no provider 'azure'" in unknown.json()["detail"]
    bad = client.post(
        "/v1/periods/close", json={"provider": "aws", "period": "2026-1"},
        headers=auth(keys.operator),
    )  # fmt: skip
    assert bad.status_code == 422 and "period" in bad.json()["detail"]


def aws_reconciliation(client, keys, period: str):  # type: ignore[no-untyped-def]
    """``GET /v1/reconciliation`` of aws for ``period``, with the read key."""
    params = {"provider": "aws", "period": period}
    return client.get("/v1/reconciliation", params=params, headers=auth(keys.read))


def test_reconciliation_ties_out_and_lists_the_unassigned_account(client, keys) -> None:
    answer = aws_reconciliation(client, keys, "2026-10")
    assert answer.status_code == 200
    body = answer.json()
    assert body["tie_out"]["ties_out"] is True
    assert [a["account"] for a in body["unassigned"]] == ["555555555555"]
    assert {c["customer"] for c in body["customers"]} == {"1001", "1002", "1003"}
    assert body["customers"][0]["statement"]["status"] == "Draft"


def test_reconciling_a_period_without_data_is_404(client, keys) -> None:
    answer = aws_reconciliation(client, keys, "2026-09")
    assert answer.status_code == 404
    assert "no aws data is stored for 2026-09" in answer.json()["detail"]
    missing = client.get("/v1/reconciliation?provider=aws", headers=auth(keys.read))
    assert missing.status_code == 422 and "period" in missing.json()["detail"]


def test_plugins_lists_the_installed_renderers_and_providers(client, keys) -> None:
    body = client.get("/v1/plugins", headers=auth(keys.read)).json()
    assert {"pdf", "csv", "detailed-csv", "html", "ubl"} <= set(body["renderer_formats"])
    assert "aws" in body["providers"] and "csv" in body["sinks"]
    by_name = {p["name"]: p for p in body["plugins"]}
    assert by_name["aws"]["status"] == "loaded"


def test_health_needs_no_key_and_says_the_database_answers(client) -> None:
    answer = client.get("/health")
    assert answer.status_code == 200 and answer.json() == {"status": "ok", "database": "ok"}


def test_health_is_503_when_the_database_is_gone(client, runtime, tmp_path) -> None:
    from sqlalchemy import create_engine

    working = runtime.db.engine
    runtime.db.engine = create_engine(f"sqlite:///{tmp_path}/missing/dir/none.db")
    try:
        answer = client.get("/health")
    finally:
        runtime.db.engine = working
    assert answer.status_code == 503 and answer.json()["database"] == "unreachable"


def test_me_names_the_key_its_tenant_and_scope(client, keys) -> None:
    body = client.get("/v1/me", headers=auth(keys.customer)).json()
    assert body == {
        "key_id": keys.customer.split("_")[1],
        "tenant": "acme",
        "scope": "customer",
        "customer": "1001",
    }


def test_the_openapi_document_has_examples_and_the_key_scheme(client) -> None:
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    summary = spec["components"]["schemas"]["StatementSummary"]
    assert summary["examples"][0]["number"] == "ACME-01001"
    grant = spec["components"]["schemas"]["CreditGrantRequest"]
    assert grant["examples"][0]["amount"] == "150.00"
    download = spec["paths"]["/v1/statements/{statement_id}/download/{fmt}"]["get"]
    assert "application/pdf" in download["responses"]["200"]["content"]
    assert {"401", "403", "404", "422"} <= set(download["responses"])


def test_reports_are_served_as_the_cli_makes_them_and_bad_ranges_are_422(client, keys) -> None:
    """October by customer: one row per customer, the totals in both rounding views
    with their difference; a range that is not one gives 422 with the reason; customer
    keys may not read reports."""
    answer = client.get(
        "/v1/reports", params={"provider": "aws", "range": "2026-10", "by": "customer"},
        headers=auth(keys.read),
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert sorted(row["customer"] for row in body["rows"]) == ["1001", "1002", "1003"]
    (usd,) = body["totals"]
    assert Decimal(usd["difference"]) == Decimal(usd["report_view"]) - Decimal(usd["bill_view"])
    bad = client.get("/v1/reports", params={"provider": "aws", "range": "October"},
                     headers=auth(keys.read))  # fmt: skip
    assert bad.status_code == 422 and "October" in bad.json()["detail"]
    forbidden = client.get("/v1/reports", params={"provider": "aws"},
                           headers=auth(keys.customer))  # fmt: skip
    assert forbidden.status_code == 403


def test_a_credit_grant_retried_with_the_same_idempotency_key_is_applied_once(
    client, keys, runtime
) -> None:
    """Regression: POST /v1/credits sent twice with one Idempotency-Key granted twice.
    The retry answers the first answer (201, same entry and balance), marked replayed."""
    body = {"customer": "1001", "amount": "150.00", "comment": "October outage"}
    headers = {**auth(keys.operator), "Idempotency-Key": "0b4f3a52-retry"}
    first = client.post("/v1/credits", json=body, headers=headers)
    again = client.post("/v1/credits", json=body, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    (listed,) = client.get("/v1/credits", headers=auth(keys.read)).json()
    assert listed["granted"] == "150.00"


def test_an_idempotency_key_reused_with_a_different_body_is_409(client, keys) -> None:
    headers = {**auth(keys.operator), "Idempotency-Key": "k-1"}
    body = {"customer": "1001", "amount": "150.00", "comment": "October outage"}
    assert client.post("/v1/credits", json=body, headers=headers).status_code == 201

    other = client.post("/v1/credits", json=body | {"amount": "15.00"}, headers=headers)

    assert other.status_code == 409
    detail = other.json()["detail"]
    assert "idempotency key 'k-1' was already used for another credit grant" in detail
    assert "(amount differ)" in detail
    (listed,) = client.get("/v1/credits", headers=auth(keys.read)).json()
    assert listed["granted"] == "150.00"


def test_a_credit_in_no_iso_currency_or_not_the_invoice_currency_or_too_fine_is_422(
    client, keys
) -> None:
    reasons = {
        ("10", "XYZ"): "currency 'XYZ' is not an ISO 4217 currency code",
        ("10", "EUR"): "customer 1001 is invoiced in USD",
        ("0.001", None): "'0.001' is finer than USD's minor unit",
    }
    for (amount, currency), reason in reasons.items():
        answer = client.post(
            "/v1/credits",
            json={"customer": "1001", "amount": amount, "comment": "x", "currency": currency},
            headers=auth(keys.operator),
        )
        assert answer.status_code == 422, (amount, currency)
        assert reason in answer.json()["detail"], (amount, currency)
    assert client.get("/v1/credits", headers=auth(keys.read)).json() == []
