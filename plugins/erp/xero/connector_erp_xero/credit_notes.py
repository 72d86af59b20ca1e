"""Statements that credit the customer (negative total) as Xero sales credit notes.

A voided statement's credit note reaches the sink as a statement whose every amount is
negated. Xero holds a credit note (``ACCRECCREDIT``) with positive amounts, what it
credits, so the statement is flipped back and built exactly as an invoice would be
(the same contact, account, tax and tracking mapping, the same tax split and unit
prices, see :mod:`.invoices`), then sent as a credit note numbered with the statement's
number through ``PUT /CreditNotes`` with an ``Idempotency-Key``.

The steps mirror an invoice push: find before create by ``CreditNoteNumber`` (a crash
after Xero accepted it leaves it to be found, not created twice), create the rest in
one call, read them back and compare each Total with ours, then attach the PDF.

Once Xero holds it, the credit note is allocated to the invoice it credits
(:mod:`.allocations`), found by the number the statement carries
(``credited_invoice``); its ``Reference`` names that invoice too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from xero_python.accounting.models import CreditNote
from xero_python.api_client.serializer import serialize
from xero_python.exceptions import AccountingBadRequestException

from connector.contracts import PluginError, PushResult, StatementDocument
from connector_erp_xero.allocations import allocate_credit_notes
from connector_erp_xero.answers import (
    failed,
    idempotency_key,
    settle_held,
    unique,
    validation_messages,
)
from connector_erp_xero.invoices import build_invoice
from connector_erp_xero.settings import InvoiceMapping

if TYPE_CHECKING:
    from connector_erp_xero.plugin import XeroSink

CREDIT_NOTE_TYPE = "ACCRECCREDIT"
REFERENCE_PREFIX = "Credit note for "
MAX_REFERENCE = 255
ZERO = Decimal(0)

Pending = tuple[StatementDocument, InvoiceMapping]
Attach = list[tuple[StatementDocument, str]]


@dataclasses.dataclass(frozen=True, slots=True)
class DraftCreditNote:
    """A credit note ready to send, and whether its unit prices need ``unitdp=4``."""

    note: CreditNote
    needs_unitdp4: bool


def credited(document: StatementDocument) -> StatementDocument:
    """``document`` with every amount negated: what Xero's credit note holds."""
    return dataclasses.replace(
        document,
        lines=[dataclasses.replace(line, amount=ZERO - line.amount) for line in document.lines],
        subtotal=ZERO - document.subtotal,
        tax=ZERO - document.tax,
        total=ZERO - document.total,
    )


def build_credit_note(
    document: StatementDocument, mapping: InvoiceMapping, contact_id: str, status: str
) -> DraftCreditNote:
    """The ACCRECCREDIT credit note for a negative ``document``; PluginError if Xero's
    total would differ from ours."""
    draft = build_invoice(credited(document), mapping, contact_id, status)
    invoice = draft.invoice
    reference = invoice.reference
    if document.credited_invoice is not None:
        reference = f"{REFERENCE_PREFIX}{document.credited_invoice.number}"[:MAX_REFERENCE]
    elif document.notes and document.notes.startswith(REFERENCE_PREFIX):
        reference = document.notes[:MAX_REFERENCE]  # names the invoice it corrects
    note = CreditNote(
        type=CREDIT_NOTE_TYPE,
        contact=invoice.contact,
        line_items=invoice.line_items,
        date=invoice.date,
        line_amount_types=invoice.line_amount_types,
        credit_note_number=document.number,
        reference=reference,
        branding_theme_id=invoice.branding_theme_id,
        currency_code=invoice.currency_code,
        status=status,
        # The SDK's models default these read-only flags to False, and would send them.
        has_attachments=None,
        has_errors=None,
    )
    return DraftCreditNote(note, draft.needs_unitdp4)


def push_credit_notes(
    sink: XeroSink, batch: Sequence[Pending], results: dict[str, PushResult], attach: Attach
) -> None:
    """Deliver the negative statements of a batch as credit notes, each once."""
    if not batch:
        return
    rest = _settle_existing(sink, batch, results, attach)
    contacts = sink._contacts(list(rest), results)
    drafts: list[tuple[StatementDocument, DraftCreditNote]] = []
    for document, mapping in rest:
        contact_id = contacts.get(mapping.contact_number)
        if contact_id is None:
            continue  # its result says why
        try:
            drafts.append(
                (document, build_credit_note(document, mapping, contact_id, sink.settings.status))
            )
        except PluginError as exc:
            results[document.statement_id] = failed(document, str(exc))
    created = _create(sink, drafts, results)
    _compare_totals(sink, created, results, attach)
    allocate_credit_notes(sink, [document for document, _mapping in batch], results)


def _settle_existing(
    sink: XeroSink, batch: Sequence[Pending], results: dict[str, PushResult], attach: Attach
) -> list[Pending]:
    """Settle statements whose number Xero already holds as a credit note; the rest."""
    found: dict[str, list[CreditNote]] = {}
    for note in sink.client.find_credit_notes([doc.number or "" for doc, _m in batch]):
        found.setdefault(note.credit_note_number, []).append(note)
    rest = []
    for document, mapping in batch:
        result, needs_pdf = settle_held(
            document,
            found.get(document.number or "", []),
            ZERO - document.total,
            "credit note",
            lambda note: note.credit_note_id,
            "restore it in Xero",
        )
        if result is None:
            rest.append((document, mapping))
            continue
        results[document.statement_id] = result
        if needs_pdf:
            attach.append((document, result.remote_id))
    return rest


def _create(
    sink: XeroSink,
    drafts: list[tuple[StatementDocument, DraftCreditNote]],
    results: dict[str, PushResult],
) -> list[tuple[StatementDocument, str]]:
    """Create the credit notes in one call; (statement, CreditNoteID) of those created."""
    if not drafts:
        return []
    notes = [draft.note for _doc, draft in drafts]
    unitdp = 4 if any(draft.needs_unitdp4 for _doc, draft in drafts) else None
    key = idempotency_key(
        "credit-notes", [doc.idempotency_key for doc, _d in drafts], serialize(notes)
    )
    try:
        returned = sink.client.create_credit_notes(notes, key, unitdp=unitdp)
    except AccountingBadRequestException as exc:
        messages = _refusals(exc)
        for document, _draft in drafts:
            reasons = messages.get(document.number or "") or messages.get("") or [str(exc.reason)]
            results[document.statement_id] = failed(
                document,
                f"Xero rejected credit note {document.number}: " + "; ".join(unique(reasons)),
                permanent=True,
            )
        return []
    by_number = {note.credit_note_number: note for note in returned}
    created = []
    for document, _draft in drafts:
        note = by_number.get(document.number)
        errors = validation_messages(note) if note is not None else []
        if note is None:
            results[document.statement_id] = failed(
                document, f"Xero's answer did not include credit note {document.number}"
            )
        elif errors or note.has_errors or not note.credit_note_id:
            results[document.statement_id] = failed(
                document,
                f"Xero rejected credit note {document.number}: "
                + ("; ".join(errors) or "no reason given"),
                permanent=True,
            )
        else:
            created.append((document, str(note.credit_note_id)))
    return created


def _refusals(exc: AccountingBadRequestException) -> dict[str, list[str]]:
    """Xero's messages for a refused call, by credit note number ("" for the call)."""
    try:
        data = exc.error_data
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        return {}
    found: dict[str, list[str]] = {}
    for element in data.get("Elements") or []:
        messages = [e.get("Message", "") for e in element.get("ValidationErrors") or []]
        found.setdefault(element.get("CreditNoteNumber") or "", []).extend(m for m in messages if m)
    if data.get("Message"):
        found.setdefault("", []).append(data["Message"])
    return found


def _compare_totals(
    sink: XeroSink,
    created: list[tuple[StatementDocument, str]],
    results: dict[str, PushResult],
    attach: Attach,
) -> None:
    """Read the created credit notes back; a Total other than ours fails the statement."""
    if not created:
        return
    read = sink.client.find_credit_notes([doc.number or "" for doc, _id in created])
    held = {str(note.credit_note_id): note for note in read}
    for document, note_id in created:
        note = held.get(note_id)
        ours = ZERO - document.total
        if note is None:
            results[document.statement_id] = failed(
                document, f"credit note {document.number} was not found when read back", note_id
            )
        elif note.total != ours:
            results[document.statement_id] = failed(
                document,
                f"Xero computed a total of {note.total} for credit note {document.number}, "
                f"but the statement credits {ours}",
                note_id,
                permanent=True,
            )
        else:
            results[document.statement_id] = PushResult(
                document.statement_id, note_id, True, f"created as credit note {document.number}"
            )
            attach.append((document, note_id))
