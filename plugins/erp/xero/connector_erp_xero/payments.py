"""Which delivered statements Xero says are paid: the sink's ``payment_status``.

Statements are found by their number, as a push finds them before creating: sales
invoices (ACCREC) through ``GET /Invoices?InvoiceNumbers=...`` (50 numbers a call), and
for a statement that credits the customer (negative total) not found as an invoice,
sales credit notes (ACCRECCREDIT) by ``CreditNoteNumber``. Every call goes through the
sink's client: the organisation's rate limiter, retries and token refresh.

The rules:

* an invoice is paid when Xero says ``PAID``, or it is ``AUTHORISED`` with nothing
  left due (``AmountDue`` 0); ``paid_on`` is its ``FullyPaidOnDate``;
* a credit note is settled ("paid") when it is fully allocated or refunded: ``PAID``,
  or ``AUTHORISED`` with no ``RemainingCredit``; ``paid_on`` is its ``FullyPaidOnDate``;
* drafts, submitted, voided and deleted documents are never paid, and a number Xero
  does not hold is not paid (it may not be delivered yet);
* with several live documents under one number, the one with our total decides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from connector.contracts import PaymentStatus, StatementDocument
from connector_erp_xero.client import XeroClient

PAID = "PAID"
OPEN = "AUTHORISED"
GONE = frozenset({"DELETED", "VOIDED"})


def payment_statuses(
    client: XeroClient, documents: Sequence[StatementDocument]
) -> list[PaymentStatus]:
    """One status per document, in order, read from Xero in as few calls as it allows."""
    numbered = [document for document in documents if document.number]
    invoices = _by_number(
        client.find_invoices([document.number or "" for document in numbered]),
        "invoice_number",
    )
    credits_wanted = [
        document.number or ""
        for document in numbered
        if document.total < 0 and not invoices.get(document.number or "")
    ]
    notes = _by_number(client.find_credit_notes(credits_wanted), "credit_note_number")
    statuses = []
    for document in documents:
        number = document.number or ""
        if invoices.get(number):
            record = _deciding(invoices[number], document.total)
            paid = _settled(record, "amount_due")
        elif notes.get(number):
            # A credit note's total is positive in Xero: what it credits.
            record = _deciding(notes[number], -document.total)
            paid = _settled(record, "remaining_credit")
        else:
            statuses.append(PaymentStatus(document.statement_id, False))
            continue
        paid_on = _date(record.fully_paid_on_date) if paid else None
        statuses.append(PaymentStatus(document.statement_id, paid, paid_on))
    return statuses


def _by_number(records: Sequence[Any], attribute: str) -> dict[str, list[Any]]:
    """Live (not voided or deleted) records by their number."""
    found: dict[str, list[Any]] = {}
    for record in records:
        if record.status not in GONE:
            found.setdefault(str(getattr(record, attribute)), []).append(record)
    return found


def _deciding(records: Sequence[Any], total: Decimal) -> Any:
    """The record with our total, else the first: the one whose status counts."""
    return next((record for record in records if record.total == total), records[0])


def _settled(record: Any, outstanding: str) -> bool:
    left = getattr(record, outstanding)
    return record.status == PAID or (record.status == OPEN and left is not None and left == 0)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None
