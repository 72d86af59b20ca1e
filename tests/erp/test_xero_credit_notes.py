"""A statement with a negative total reaches Xero as a sales credit note, once."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from connector.testing.samples import credit_note
from tests.erp.xero_fixtures import Harness
from tests.erp.xero_helpers import PDF, contract_errors
from tests.factories import make_statement


def held(harness: Harness, number: str) -> list[dict]:
    return [n for n in harness.xero.credit_notes.values() if n["CreditNoteNumber"] == number]


def test_a_negative_statement_becomes_one_accreccredit_credit_note_with_positive_amounts(
    harness,
):
    """The kit's credit note: services -20.00 and -5.50, tax -2.10, total -27.60.
    Xero holds it crediting 27.60: lines 20.00 and 5.50, tax 2.10 on them."""
    document = credit_note()
    [result] = harness.sink().push([document])

    assert result.ok, result.message
    [note] = held(harness, "NW-CN-2025-0007")
    assert result.remote_id == note["CreditNoteID"]
    assert (note["Type"], note["Status"]) == ("ACCRECCREDIT", "AUTHORISED")
    assert note["Total"] == Decimal("27.60")
    assert note["TotalTax"] == pytest.approx(2.10)
    assert [Decimal(str(x["LineAmount"])) for x in note["LineItems"]] == [
        Decimal("20.00"),
        Decimal("5.50"),
    ]
    assert {x["AccountCode"] for x in note["LineItems"]} == {"200"}
    assert {x["TaxType"] for x in note["LineItems"]} == {"OUTPUT"}
    assert note["Reference"] == "Credit note for statement NW-2025-0042."
    # Nothing went out as an invoice.
    assert harness.xero.invoices == {}
    assert harness.xero.api_calls("PUT", "/Invoices") == []


def test_the_credit_notes_request_body_follows_xeros_contract(harness):
    harness.sink().push([credit_note()])

    [call] = harness.xero.api_calls("PUT", "/CreditNotes")
    body = call.json()
    assert contract_errors(body, "CreditNotes") == []
    assert call.headers.get("Idempotency-Key", "").startswith("bc-credit-notes-")
    [sent] = body["CreditNotes"]
    assert sent["Type"] == "ACCRECCREDIT" and sent["CreditNoteNumber"] == "NW-CN-2025-0007"
    assert all(Decimal(str(x["LineAmount"])) > 0 for x in sent["LineItems"])


def test_two_pushes_create_the_credit_note_once_and_attach_its_pdf(harness):
    document = credit_note()
    [first] = harness.sink().push([document])
    [second] = harness.sink().push([document])

    assert first.ok and second.ok, (first.message, second.message)
    assert second.remote_id == first.remote_id
    assert second.message == "already in Xero"
    assert len(held(harness, document.number)) == 1
    assert len(harness.xero.api_calls("PUT", "/CreditNotes")) == 1
    assert harness.xero.attachments[first.remote_id] == {"NW-CN-2025-0007.pdf": PDF}
    # Read back after creating: found by its number.
    gets = harness.xero.api_calls("GET", "/CreditNotes")
    assert any('CreditNoteNumber=="NW-CN-2025-0007"' in c.query["where"][0] for c in gets)


def test_a_credit_note_whose_xero_total_differs_fails_permanently(harness):
    """Xero computing 27.61 instead of 27.60 is reported, not taken as delivered."""
    document = credit_note()
    harness.xero.total_skew[document.number] = Decimal("0.01")
    [result] = harness.sink().push([document])

    assert not result.ok and result.permanent
    assert "27.61" in result.message and "27.60" in result.message


def test_an_invoice_and_a_credit_note_in_one_push_go_to_their_own_endpoints(harness):
    invoice = make_statement()
    note = credit_note()
    results = harness.sink().push([invoice, note])

    assert all(r.ok for r in results), [r.message for r in results]
    assert len(harness.xero.by_number(invoice.number)) == 1
    assert len(held(harness, note.number)) == 1
    assert harness.xero.by_number(note.number) == []


def test_a_number_xero_holds_as_a_voided_credit_note_is_not_created_again(harness):
    document = credit_note()
    harness.xero.add_credit_note(document.number, Decimal("27.60"), status="VOIDED")
    [result] = harness.sink().push([document])

    assert not result.ok
    assert "exists in Xero as VOIDED" in result.message
    assert harness.xero.api_calls("PUT", "/CreditNotes") == []


def test_a_zero_tax_credit_note_carries_no_tax(harness):
    """-20.00 and -5.50 without tax: Xero credits 25.50, TotalTax 0."""
    base = credit_note()
    lines = [x for x in base.lines if x.kind != "tax"]
    document = dataclasses.replace(
        base, lines=lines, tax=Decimal("0.00"), total=Decimal("-25.50"), subtotal=Decimal("-25.50")
    )
    [result] = harness.sink().push([document])

    assert result.ok, result.message
    [note] = held(harness, document.number)
    assert note["Total"] == Decimal("25.50") and note["TotalTax"] == 0


def test_a_credit_note_xero_already_holds_is_settled_by_its_total(harness):
    """Found before create: the same 27.60 is delivered as it is (no second PUT); a held
    27.50 is a permanent failure naming both totals; two held ones are reported."""
    same, other, twice = credit_note(), credit_note(), credit_note()
    same = dataclasses.replace(same, number="CN-SAME", statement_id="s-same")
    other = dataclasses.replace(other, number="CN-OTHER", statement_id="s-other")
    twice = dataclasses.replace(twice, number="CN-TWICE", statement_id="s-twice")
    held_id = harness.xero.add_credit_note("CN-SAME", Decimal("27.60"))
    harness.xero.add_credit_note("CN-OTHER", Decimal("27.50"))
    harness.xero.add_credit_note("CN-TWICE", Decimal("27.60"))
    harness.xero.add_credit_note("CN-TWICE", Decimal("27.60"))

    first, second, third = harness.sink().push([same, other, twice])

    assert first.ok and first.remote_id == held_id and first.message == "already in Xero"
    assert not second.ok and second.permanent
    assert "with total 27.5," in second.message and second.message.endswith("totals 27.60")
    assert not third.ok and "Xero holds 2 credit notes numbered CN-TWICE" in third.message
    assert harness.xero.api_calls("PUT", "/CreditNotes") == []
