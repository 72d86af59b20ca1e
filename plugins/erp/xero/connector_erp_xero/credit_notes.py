"""Statements that credit the customer (negative total) as Xero sales credit notes.

A voided statement's credit note reaches the sink as a statement whose every amount is
negated. Xero holds a credit note (``ACCRECCREDIT``) with positive amounts, what it
credits, so the statement is flipped back and built exactly as an invoice would be
(the same contact, account, tax and tracking mapping, the same tax split and unit
prices, see :mod:`.invoices`), then sent as a credit note numbered with the statement's
number through ``PUT /CreditNotes`` with an ``Idempotency-Key``.

The steps are an invoice push's (:mod:`.delivery`, with :data:`.kinds.CREDIT_NOTES`):
find before create by ``CreditNoteNumber`` (a crash after Xero accepted it leaves it to
be found, not created twice), create the rest in one call, read them back and compare
each Total with ours, then attach the PDF.

Once Xero holds it, the credit note is allocated to the invoice it credits
(:mod:`.allocations`), found by the number the statement carries
(``credited_invoice``); its ``Reference`` names that invoice too.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from xero_python.accounting.models import CreditNote

from connector.contracts import StatementDocument
from connector_erp_xero.invoices import build_invoice
from connector_erp_xero.settings import InvoiceMapping

CREDIT_NOTE_TYPE = "ACCRECCREDIT"
REFERENCE_PREFIX = "Credit note for "
MAX_REFERENCE = 255
ZERO = Decimal(0)


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
