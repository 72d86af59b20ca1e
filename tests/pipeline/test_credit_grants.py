"""What a grant is refused for beyond its amount's form, and grants retried with a key."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from connector.pipeline.credits import (
    CreditError,
    IdempotencyConflict,
    balance,
    grant,
    grant_credit,
)
from connector.storage import models as m
from tests.pipeline.together import run_together


def grants(runtime) -> list[tuple[str, Decimal, str]]:
    with runtime.db.transaction() as session:
        rows = session.scalars(select(m.CreditEntry).where(m.CreditEntry.kind == "grant"))
        return [(e.customer_id, e.amount, e.currency) for e in rows]


def test_a_grant_retried_with_the_same_idempotency_key_is_applied_once(runtime) -> None:
    """Regression: the same grant sent twice with one key gave two grants (300.00)."""
    first = grant_credit(runtime, "acme", "1001", "150.00", "October outage", "ann",
                         idempotency_key="ticket-4711")  # fmt: skip
    again = grant_credit(runtime, "acme", "1001", "150.00", "October outage", "ann",
                         idempotency_key="ticket-4711")  # fmt: skip

    assert not first.replayed and again.replayed
    assert again.entry.id == first.entry.id
    assert again.balance == first.balance == Decimal("150.00")
    assert grants(runtime) == [("1001", Decimal("150.00"), "USD")]
    with runtime.db.transaction() as session:
        assert balance(session, "acme", "1001", "USD") == Decimal("150.00")
        audited = session.scalars(
            select(m.AuditEntry.action).where(m.AuditEntry.action == "credit.grant")
        ).all()
    assert audited == ["credit.grant"]  # the retry changed nothing, so audited nothing


def test_the_same_amount_written_differently_is_the_same_grant(runtime) -> None:
    grant(runtime, "acme", "1001", "150.00", "October outage", "ann", idempotency_key="k-1")
    grant(runtime, "acme", "1001", "150", "October outage ", "ann", idempotency_key="k-1")
    assert grants(runtime) == [("1001", Decimal("150.00"), "USD")]


@pytest.mark.parametrize(
    ("change", "differs"),
    [
        ({"amount_text": "151.00"}, "amount"),
        ({"customer_id": "1002"}, "customer"),
        ({"comment": "November outage"}, "comment"),
    ],
)
def test_an_idempotency_key_used_for_a_different_grant_is_refused(
    runtime, change: dict, differs: str
) -> None:
    request = {"customer_id": "1001", "amount_text": "150.00", "comment": "October outage"}
    grant(runtime, "acme", **request, actor="ann", idempotency_key="k-1")

    with pytest.raises(IdempotencyConflict) as refused:
        grant(runtime, "acme", **(request | change), actor="ann", idempotency_key="k-1")

    message = str(refused.value)
    assert "idempotency key 'k-1' was already used for another credit grant" in message
    assert f"({differs} differ)" in message and "use a new key" in message
    assert grants(runtime) == [("1001", Decimal("150.00"), "USD")]


def test_grants_without_a_key_or_with_different_keys_are_each_applied(runtime) -> None:
    grant(runtime, "acme", "1001", "10", "a", "ann")
    grant(runtime, "acme", "1001", "10", "a", "ann")
    grant(runtime, "acme", "1001", "10", "a", "ann", idempotency_key="k-1")
    grant(runtime, "acme", "1001", "10", "a", "ann", idempotency_key="k-2")
    assert len(grants(runtime)) == 4


def test_concurrent_retries_with_one_key_grant_once(runtime) -> None:
    """Two deliveries of one request at the same moment: one grant, one replay."""
    grant(runtime, "acme", "1002", "1", "sync the tenant first", "ann")
    results = []

    def send(key: str) -> None:
        results.append(grant_credit(runtime, "acme", "1001", "150.00", "outage", "ann",
                                    idempotency_key=key))  # fmt: skip

    assert run_together(send, ["k-race", "k-race"]) == []
    assert sorted(r.replayed for r in results) == [False, True]
    assert [g for g in grants(runtime) if g[0] == "1001"] == [("1001", Decimal("150.00"), "USD")]


def test_an_idempotency_key_must_be_short_printable_text(runtime) -> None:
    for key in ("", "with space", "x" * 129):
        with pytest.raises(CreditError, match="1 to 128 printable ASCII characters"):
            grant(runtime, "acme", "1001", "1", "x", "ann", idempotency_key=key)
    assert grants(runtime) == []


@pytest.mark.parametrize(
    ("currency", "reason"),
    [
        ("XYZ", "currency 'XYZ' is not an ISO 4217 currency code; customer 1001 is "
                "invoiced in USD"),
        ("US", "currency 'US' is not an ISO 4217 currency code"),
        ("US$", "currency 'US$' is not an ISO 4217 currency code"),
        ("XAU", "currency 'XAU' is an ISO 4217 code without a minor unit"),
    ],
)  # fmt: skip
def test_a_credit_currency_that_is_not_iso_4217_money_is_refused(
    runtime, currency: str, reason: str
) -> None:
    with pytest.raises(CreditError) as refused:
        grant(runtime, "acme", "1001", "10", "x", "ann", currency)
    assert reason in str(refused.value)
    assert grants(runtime) == []


def test_a_credit_in_a_currency_the_customer_is_not_invoiced_in_is_refused(runtime) -> None:
    """Statements use credit in their own currency only (no conversion at build time),
    so a EUR credit for a USD customer would never be applied: refused, naming USD."""
    with pytest.raises(CreditError) as refused:
        grant(runtime, "acme", "1001", "10", "x", "ann", "eur")
    message = str(refused.value)
    assert "currency EUR: customer 1001 is invoiced in USD" in message
    assert "grant the credit in USD" in message
    assert grants(runtime) == []


@pytest.mark.parametrize(
    ("currency", "amount", "reason"),
    [
        ("USD", "0.001", "'0.001' is finer than USD's minor unit: USD amounts have at most "
                         "2 decimal places, like 150.00"),
        ("USD", "10.005", "'10.005' is finer than USD's minor unit"),
        ("JPY", "1.5", "'1.5' is finer than JPY's minor unit: JPY amounts have no decimal "
                       "places, like 150"),
        ("BHD", "1.0005", "BHD amounts have at most 3 decimal places, like 150.000"),
    ],
)  # fmt: skip
def test_a_credit_finer_than_the_currencys_minor_unit_is_refused(
    runtime, currency: str, amount: str, reason: str
) -> None:
    runtime.tenants["acme"].customer("1001").invoice_currency = currency
    with pytest.raises(CreditError) as refused:
        grant(runtime, "acme", "1001", amount, "x", "ann")
    assert reason in str(refused.value)
    assert grants(runtime) == []


@pytest.mark.parametrize(
    ("currency", "amount"), [("USD", "0.01"), ("USD", "150.10"), ("JPY", "1500"), ("BHD", "1.005")]
)
def test_amounts_in_the_currencys_minor_unit_are_granted(
    runtime, currency: str, amount: str
) -> None:
    runtime.tenants["acme"].customer("1001").invoice_currency = currency
    grant(runtime, "acme", "1001", amount, "x", "ann")
    assert grants(runtime) == [("1001", Decimal(amount), currency)]
