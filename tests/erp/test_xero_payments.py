"""The xero sink's payment_status against the simulated Xero: paid, unpaid, batched."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connector.contracts import (
    PaymentStatus,
    PluginError,
)
from connector.testing.samples import credit_note
from tests.erp.xero_fixtures import statements
from tests.erp.xero_simulator import Fault
from tests.factories import make_draft


def test_paid_unpaid_partially_paid_and_unknown_invoices(harness):
    """Four statements of 470.18 each; Xero holds the first three.

    The first is paid in full on 2 May, the third gets 100.00 of 470.18 (370.18 still
    due), the fourth was never delivered.
    """
    documents = statements(4)
    paid_id = harness.xero.add_invoice("NW-2025-0001", Decimal("470.18"))
    harness.xero.add_invoice("NW-2025-0002", Decimal("470.18"))
    partial_id = harness.xero.add_invoice("NW-2025-0003", Decimal("470.18"))
    harness.xero.pay(paid_id, Decimal("470.18"), dt.date(2025, 5, 2))
    harness.xero.pay(partial_id, Decimal("100.00"), dt.date(2025, 5, 3))

    statuses = harness.sink().payment_status(documents)

    assert statuses == [
        PaymentStatus("st-0001", True, dt.date(2025, 5, 2)),
        PaymentStatus("st-0002", False, None),
        PaymentStatus("st-0003", False, None),
        PaymentStatus("st-0004", False, None),
    ]
    # Positive statements are never looked for among credit notes.
    assert harness.xero.api_calls("GET", "/CreditNotes") == []


def test_an_invoice_paid_through_a_real_push_reads_back_as_paid(harness):
    [document] = statements(1)
    [result] = harness.sink().push([document])
    assert result.ok, result.message
    harness.xero.pay(result.remote_id, document.total, dt.date(2025, 5, 9))

    [status] = harness.sink().payment_status([document])

    assert status == PaymentStatus("st-0001", True, dt.date(2025, 5, 9))


def test_an_authorised_invoice_with_nothing_due_is_paid_and_a_voided_one_is_not(harness):
    """A zero-due AUTHORISED invoice (credited in full) counts as paid; a VOIDED invoice
    has nothing due either but was never paid."""
    settled, voided = statements(2)
    held = harness.xero.invoices[harness.xero.add_invoice("NW-2025-0001", Decimal("470.18"))]
    held["AmountDue"] = Decimal(0)
    harness.xero.add_invoice("NW-2025-0002", Decimal(0), "VOIDED")

    statuses = harness.sink().payment_status([settled, voided])

    assert [s.paid for s in statuses] == [True, False]
    assert statuses[0].paid_on is None  # Xero gave no FullyPaidOnDate


def test_a_draft_invoice_is_not_paid(harness):
    [document] = statements(1)
    harness.xero.add_invoice("NW-2025-0001", Decimal(0), "DRAFT")

    assert harness.sink().payment_status([document])[0].paid is False


def test_with_two_invoices_under_one_number_the_one_with_our_total_decides(harness):
    [document] = statements(1)
    other = harness.xero.add_invoice("NW-2025-0001", Decimal("1.00"))
    ours = harness.xero.add_invoice("NW-2025-0001", Decimal("470.18"))
    harness.xero.pay(other, Decimal("1.00"), dt.date(2025, 5, 1))

    assert harness.sink().payment_status([document])[0].paid is False
    harness.xero.pay(ours, Decimal("470.18"), dt.date(2025, 5, 6))
    assert harness.sink().payment_status([document])[0] == PaymentStatus(
        "st-0001", True, dt.date(2025, 5, 6)
    )


def test_a_credit_note_is_paid_once_fully_allocated(harness):
    """The kit's credit note totals -27.60: Xero holds it as a credit note of 27.60."""
    document = credit_note()
    harness.xero.add_credit_note(
        document.number,
        Decimal("27.60"),
        remaining=Decimal(0),
        status="PAID",
        paid_on=dt.date(2025, 5, 20),
    )

    [status] = harness.sink().payment_status([document])

    assert status == PaymentStatus(document.statement_id, True, dt.date(2025, 5, 20))
    [call] = harness.xero.api_calls("GET", "/CreditNotes")
    assert call.query["where"] == [
        f'Type=="ACCRECCREDIT" AND (CreditNoteNumber=="{document.number}")'
    ]


def test_a_credit_note_with_credit_remaining_is_not_paid(harness):
    """27.60 credited, 10.00 of it allocated: 17.60 remains."""
    document = credit_note()
    harness.xero.add_credit_note(document.number, Decimal("27.60"), remaining=Decimal("17.60"))

    assert harness.sink().payment_status([document]) == [
        PaymentStatus(document.statement_id, False, None)
    ]


def test_70_statements_are_looked_up_in_two_calls_of_50_and_20_numbers(harness):
    documents = statements(70)
    for document in documents:
        harness.xero.add_invoice(document.number, Decimal("470.18"))

    statuses = harness.sink().payment_status(documents)

    assert [s.statement_id for s in statuses] == [d.statement_id for d in documents]
    calls = harness.xero.api_calls("GET", "/Invoices")
    sizes = [len(call.query["InvoiceNumbers"][0].split(",")) for call in calls]
    assert sizes == [50, 20]
    assert all(call.query["where"] == ['Type=="ACCREC"'] for call in calls)
    # Both calls were counted by the organisation's limiter.
    assert harness.limiter.used() == (2, 2)


def test_lookups_wait_for_the_limiter_when_the_minute_is_used_up(harness):
    """59 calls already made this minute: the second lookup waits for the window."""
    for _ in range(59):
        harness.limiter.reserve()
    documents = statements(70)

    harness.sink().payment_status(documents)

    assert len(harness.xero.api_calls("GET", "/Invoices")) == 2
    # A minute, and the quarter second Xero may see our calls later than we sent them.
    assert harness.clock.sleeps and harness.clock.sleeps[0] == pytest.approx(60.25)


def test_a_revoked_token_is_refreshed_once_and_the_lookup_repeated(harness):
    harness.xero.add_invoice("NW-2025-0001", Decimal("470.18"))
    harness.xero.access_tokens.clear()

    [status] = harness.sink().payment_status(statements(1))

    assert status.paid is False
    assert harness.xero.refreshes == 1 and len(harness.store.saves) == 1
    assert len(harness.xero.api_calls("GET", "/Invoices")) == 2


def test_a_server_error_is_retried_like_a_push(harness):
    paid = harness.xero.add_invoice("NW-2025-0001", Decimal("470.18"))
    harness.xero.pay(paid, Decimal("470.18"), dt.date(2025, 5, 2))
    harness.xero.fail(Fault("GET", "/Invoices", status=503))

    [status] = harness.sink().payment_status(statements(1))

    assert status.paid is True
    assert len(harness.xero.api_calls("GET", "/Invoices")) == 2
    assert len(harness.clock.sleeps) == 1


def test_a_lookup_xero_refuses_raises_a_plugin_error_naming_the_status(harness):
    harness.xero.fail(Fault("GET", "/Invoices", status=400, body='{"Message": "bad filter"}'))

    with pytest.raises(PluginError, match="HTTP 400.*bad filter"):
        harness.sink().payment_status(statements(1))


def test_a_draft_without_a_number_is_unpaid_without_calling_xero(harness):
    assert harness.sink().payment_status([make_draft(statement_id="st-d")]) == [
        PaymentStatus("st-d", False, None)
    ]
    assert harness.xero.calls == []
