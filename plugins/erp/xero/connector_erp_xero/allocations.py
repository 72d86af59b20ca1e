"""A delivered credit note allocated to the invoice it credits, in Xero.

A voided statement's credit note names the invoice it credits
(``StatementDocument.credited_invoice``). Once Xero holds the credit note, it is
allocated to that invoice through ``PUT /CreditNotes/{CreditNoteID}/Allocations``, so
the invoice shows as credited (and, when the whole amount due is, as paid) instead of
both waiting for a person to match them.

What is allocated is what both still allow, read from Xero just before: the credit
note's ``RemainingCredit`` and the invoice's ``AmountDue`` (a payment made on the
invoice meanwhile lowers it, and Xero refuses an allocation above it). So:

* an allocation made before (a second push, a retry after a crash) left no remaining
  credit: nothing is sent again; the call also carries an ``Idempotency-Key``;
* an invoice Xero does not hold, or holds paid, voided or deleted, gets no allocation:
  the credit stays on the customer's account in Xero, and the result says so;
* a credit note pushed as a DRAFT (sink setting ``status``) cannot be allocated
  until someone approves it in Xero; the result says so;
* Xero refusing the allocation fails the statement permanently with Xero's message
  (the credit note stays, and is not created again); a timeout or 5xx fails it for
  the outbox to retry, which finds the credit note and only allocates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from xero_python.accounting.models import Allocation, CreditNote, Invoice
from xero_python.api_client.serializer import serialize
from xero_python.exceptions import AccountingBadRequestException, ApiException

from connector.contracts import PluginError, PushResult, StatementDocument, minor_unit
from connector.plugin_kit.sinks import failed
from connector_erp_xero.amounts import exact
from connector_erp_xero.answers import error_text, idempotency_key, unique
from connector_erp_xero.invoices import plain_date

if TYPE_CHECKING:
    from connector_erp_xero.client import XeroClient

AUTHORISED = "AUTHORISED"
ZERO = Decimal(0)


def allocate_credit_notes(
    client: XeroClient, documents: Sequence[StatementDocument], results: dict[str, PushResult]
) -> None:
    """Allocate each delivered credit note among ``documents`` to the invoice it credits,
    adding the outcome to its result (or failing it, see the module's docstring)."""
    wanted = [
        document
        for document in documents
        if document.credited_invoice is not None
        and (result := results.get(document.statement_id)) is not None
        and result.ok
        and result.remote_id
    ]
    if not wanted:
        return
    try:
        notes = {
            str(note.credit_note_id): note
            for note in client.find_credit_notes([doc.number or "" for doc in wanted])
        }
        invoices: dict[str, list[Invoice]] = {}
        credited = [doc.credited_invoice.number for doc in wanted if doc.credited_invoice]
        for invoice in client.find_invoices(credited):
            invoices.setdefault(str(invoice.invoice_number), []).append(invoice)
    except (ApiException, PluginError) as exc:
        for document in wanted:
            _retry_later(document, results, error_text(exc))
        return
    for document in wanted:
        result = results[document.statement_id]
        note = notes.get(str(result.remote_id))
        assert document.credited_invoice is not None
        number = document.credited_invoice.number
        outcome = _allocate(client, document, note, invoices.get(number, []), str(result.remote_id))
        if isinstance(outcome, PushResult):
            results[document.statement_id] = outcome
        elif outcome:
            results[document.statement_id] = dataclasses.replace(
                result, message=f"{result.message}; {outcome}"
            )


def _allocate(
    client: XeroClient,
    document: StatementDocument,
    note: CreditNote | None,
    held: Sequence[Invoice],
    note_id: str,
) -> PushResult | str:
    """The allocation of one credit note: a failed result, or what to add to its message."""
    assert document.credited_invoice is not None
    number = document.credited_invoice.number
    if note is None:
        return _retry_later_result(document, note_id, "it was not found when read back")
    status = str(note.status or "")
    if status != AUTHORISED:
        remaining = note.remaining_credit
        if status == "PAID" or (remaining is not None and remaining == 0):
            return ""  # allocated (or refunded) already: nothing left to allocate
        return (
            f"not allocated to invoice {number}: the credit note is {status} in Xero; "
            "allocate it there once it is approved"
        )
    remaining = Decimal(note.remaining_credit or 0)
    if remaining <= 0:
        return ""  # allocated before: a second push sends nothing
    invoice = _live(held)
    due = Decimal(invoice.amount_due or 0) if invoice is not None else ZERO
    if invoice is None or invoice.status != AUTHORISED or due <= 0:
        where = "is not in Xero" if not held else f"is {held[0].status} in Xero"
        if invoice is not None and invoice.status == AUTHORISED:
            where = "has nothing left due in Xero"
        return (
            f"not allocated: invoice {number} {where}; the credit stays on the customer's "
            "account there (refund it, or allocate it to another invoice)"
        )
    unit = minor_unit(document.currency)
    amount = min(remaining, due).quantize(unit)
    credited_on = document.credited_invoice.issue_date or document.issue_date
    allocation = Allocation(
        # The SDK's models default these read-only flags to False, and would send them.
        invoice=Invoice(invoice_id=invoice.invoice_id, has_attachments=None, has_errors=None),
        amount=exact(amount, f"credit note {document.number} allocation"),
        # Not before either document: Xero dates an allocation on or after both.
        date=plain_date(max(document.issue_date, credited_on)),
    )
    key = idempotency_key(
        "allocation", [document.idempotency_key, note_id, str(invoice.invoice_id)],
        serialize(allocation),
    )  # fmt: skip
    try:
        client.allocate_credit_note(note_id, allocation, key)
    except AccountingBadRequestException as exc:
        return failed(
            document,
            f"credit note {document.number} is in Xero (it will not be created again) but "
            f"Xero refused its allocation of {amount} to invoice {number}: {_refusal(exc)}",
            note_id,
            permanent=True,
        )
    except (ApiException, PluginError) as exc:
        return _retry_later_result(document, note_id, error_text(exc))
    left = remaining - amount
    rest = f"; {left} {document.currency} stays as credit" if left > 0 else ""
    return f"allocated {amount} {document.currency} to invoice {number}{rest}"


def _live(held: Sequence[Invoice]) -> Invoice | None:
    """The invoice that counts among those under one number: the AUTHORISED one, else
    the first (whose status the result names)."""
    return next((i for i in held if i.status == AUTHORISED), held[0] if held else None)


def _retry_later_result(document: StatementDocument, note_id: str | None, why: str) -> PushResult:
    # Not ok, so the outbox tries again: the retry finds the credit note by its number
    # and only allocates.
    credited = document.credited_invoice
    number = credited.number if credited is not None else "it credits"
    return failed(
        document,
        f"credit note {document.number} is in Xero (it will not be created again) but is "
        f"not allocated to invoice {number} yet: {why}",
        note_id,
    )


def _retry_later(document: StatementDocument, results: dict[str, PushResult], why: str) -> None:
    results[document.statement_id] = _retry_later_result(
        document, results[document.statement_id].remote_id, why
    )


def _refusal(exc: AccountingBadRequestException) -> str:
    """Xero's validation messages for a refused allocation, else its reason."""
    try:
        data: Any = exc.error_data
    except ValueError:
        data = {}
    messages: list[str] = []
    if isinstance(data, dict):
        for element in data.get("Elements") or []:
            messages += [e.get("Message", "") for e in element.get("ValidationErrors") or []]
        if not messages and data.get("Message"):
            messages.append(str(data["Message"]))
    return "; ".join(unique([m for m in messages if m])) or str(exc.reason)
