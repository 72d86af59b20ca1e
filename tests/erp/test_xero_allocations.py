"""A credit note reaches Xero allocated to the invoice it credits, once."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from connector.contracts import CreditedInvoice, StatementDocument
from connector.testing.samples import credit_note
from tests.erp.xero_fixtures import Harness
from tests.erp.xero_helpers import contract_errors
from tests.erp.xero_simulator import Fault, ms_date
from tests.factories import make_statement

INVOICE = "NW-2025-0042"
INVOICE_DATE = dt.date(2025, 4, 8)
NOTE_DATE = dt.date(2025, 4, 20)


def crediting(number: str = INVOICE) -> StatementDocument:
    """The kit's credit note (crediting 27.60) as voiding makes one: it names the invoice."""
    return dataclasses.replace(
        credit_note(),
        issue_date=NOTE_DATE,
        due_date=NOTE_DATE,
        credited_invoice=CreditedInvoice(number, INVOICE_DATE, "st-0001"),
    )


def pushed_invoice(harness: Harness) -> dict:
    """The standard statement NW-2025-0042 (470.18) delivered to Xero."""
    [result] = harness.sink().push([make_statement()])
    assert result.ok, result.message
    [invoice] = harness.xero.by_number(INVOICE)
    return invoice


def allocation_calls(harness: Harness) -> list:
    return [
        c for c in harness.xero.api_calls("PUT", "/CreditNotes/") if c.path.endswith("/Allocations")
    ]


def creates(harness: Harness) -> list:
    return [c for c in harness.xero.api_calls("PUT", "/CreditNotes") if c.path == "/CreditNotes"]


def held_note(harness: Harness, number: str) -> dict:
    [note] = [n for n in harness.xero.credit_notes.values() if n["CreditNoteNumber"] == number]
    return note


def test_the_credit_note_is_allocated_to_its_invoice_by_a_request_xeros_contract_accepts(
    harness,
):
    """Invoice 470.18 due; the credit note credits 27.60: allocating it leaves 442.58 due
    and no credit remaining, dated the credit note's day (after the invoice's)."""
    invoice = pushed_invoice(harness)
    document = crediting()

    [result] = harness.sink().push([document])

    assert result.ok, result.message
    note = held_note(harness, document.number)
    [call] = allocation_calls(harness)
    assert call.path == f"/CreditNotes/{note['CreditNoteID']}/Allocations"
    body = call.json()
    assert contract_errors(body, "Allocations") == []
    [sent] = body["Allocations"]
    assert sent["Invoice"]["InvoiceID"] == invoice["InvoiceID"]
    assert Decimal(sent["Amount"]) == Decimal("27.60")
    assert ms_date(sent["Date"]) == NOTE_DATE
    assert call.headers.get("Idempotency-Key", "").startswith("bc-allocation-")
    assert invoice["AmountDue"] == Decimal("442.58")
    assert (note["RemainingCredit"], note["Status"]) == (Decimal("0.00"), "PAID")
    assert note["Reference"] == f"Credit note for {INVOICE}"
    assert f"allocated 27.60 USD to invoice {INVOICE}" in result.message


def test_a_second_push_finds_the_credit_note_allocated_and_sends_nothing(harness):
    pushed_invoice(harness)
    document = crediting()
    [first] = harness.sink().push([document])
    [second] = harness.sink().push([document])

    assert first.ok and second.ok, (first.message, second.message)
    assert second.remote_id == first.remote_id
    assert len(allocation_calls(harness)) == 1
    assert len(creates(harness)) == 1


def test_only_what_the_invoice_still_has_due_is_allocated(harness):
    """A payment of 460.00 leaves 10.18 due: 10.18 is allocated, 17.42 stays as credit."""
    invoice = pushed_invoice(harness)
    harness.xero.pay(invoice["InvoiceID"], Decimal("460.00"), INVOICE_DATE)

    [result] = harness.sink().push([crediting()])

    assert result.ok, result.message
    [call] = allocation_calls(harness)
    assert Decimal(call.json()["Allocations"][0]["Amount"]) == Decimal("10.18")
    assert (invoice["AmountDue"], invoice["Status"]) == (Decimal("0.00"), "PAID")
    assert held_note(harness, "NW-CN-2025-0007")["RemainingCredit"] == Decimal("17.42")
    assert "17.42 USD stays as credit" in result.message


def test_a_paid_or_missing_invoice_gets_no_allocation_and_the_result_says_so(harness):
    invoice = pushed_invoice(harness)
    harness.xero.pay(invoice["InvoiceID"], invoice["AmountDue"], INVOICE_DATE)
    [paid] = harness.sink().push([crediting()])
    [missing] = harness.sink().push([dataclasses.replace(
        crediting("NW-2025-0999"), statement_id="kit-st-0009", number="NW-CN-2025-0008"
    )])  # fmt: skip

    assert paid.ok and missing.ok, (paid.message, missing.message)
    assert allocation_calls(harness) == []
    assert f"not allocated: invoice {INVOICE} is PAID in Xero" in paid.message
    assert "not allocated: invoice NW-2025-0999 is not in Xero" in missing.message
    assert "credit stays on the customer's account" in missing.message


def test_a_draft_credit_note_is_left_for_approval_in_xero(harness):
    pushed_invoice(harness)
    [result] = harness.sink(status="DRAFT").push([crediting()])

    assert result.ok, result.message
    assert allocation_calls(harness) == []
    assert "the credit note is DRAFT in Xero; allocate it there once it is approved" in (
        result.message
    )


def test_xero_refusing_the_allocation_fails_the_statement_permanently_with_its_message(harness):
    pushed_invoice(harness)
    harness.xero.fail(
        Fault(
            "PUT",
            "/CreditNotes/",
            status=400,
            body='{"ErrorNumber": 10, "Type": "ValidationException", "Message": "A validation '
            'exception occurred", "Elements": [{"ValidationErrors": [{"Message": "The '
            'document date cannot be before the end of year lock date"}]}]}',
        )
    )
    [result] = harness.sink().push([crediting()])

    assert not result.ok and result.permanent
    assert result.remote_id == held_note(harness, "NW-CN-2025-0007")["CreditNoteID"]
    assert "refused its allocation of 27.60 to invoice NW-2025-0042" in result.message
    assert "end of year lock date" in result.message


def test_a_timeout_on_the_allocation_is_retried_by_the_next_push_without_a_second_note(harness):
    pushed_invoice(harness)
    harness.xero.fail(Fault("PUT", "/CreditNotes/", status=503, times=5))
    [first] = harness.sink().push([crediting()])
    [second] = harness.sink().push([crediting()])

    assert not first.ok and not first.permanent
    assert "not allocated to invoice NW-2025-0042 yet" in first.message
    assert second.ok, second.message
    assert len(creates(harness)) == 1
    assert held_note(harness, "NW-CN-2025-0007")["RemainingCredit"] == Decimal("0.00")


def test_an_invoice_and_its_credit_note_in_one_push_are_created_then_allocated(harness):
    """Voided before the outbox delivered it: both go in one batch, the invoice first."""
    results = harness.sink().push([make_statement(), crediting()])

    assert all(r.ok for r in results), [r.message for r in results]
    [invoice] = harness.xero.by_number(INVOICE)
    assert len(allocation_calls(harness)) == 1
    assert invoice["AmountDue"] == Decimal("442.58")
