"""The two kinds of document the sink delivers: sales invoices and sales credit notes.

Both go through the same steps (:mod:`.delivery`); each :class:`~.delivery.Kind` here
says which SDK calls and fields it uses, which total Xero must hold (a credit note holds
the statement's negated total) and how results name it.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from operator import attrgetter
from typing import Any

from connector.contracts import StatementDocument
from connector_erp_xero.answers import credit_note_refusals, invoice_refusals
from connector_erp_xero.client import XeroClient
from connector_erp_xero.credit_notes import build_credit_note
from connector_erp_xero.delivery import Kind
from connector_erp_xero.invoices import build_invoice

ZERO = Decimal(0)


def _create_invoices(
    client: XeroClient, invoices: list[Any], key: str, unitdp: int | None
) -> list[Any]:
    return client.create_invoices(invoices, key, unitdp=unitdp)


def _read_invoices(client: XeroClient, created: Sequence[tuple[StatementDocument, str]]) -> list:
    return client.read_invoices([invoice_id for _doc, invoice_id in created])


def _create_credit_notes(
    client: XeroClient, notes: list[Any], key: str, unitdp: int | None
) -> list[Any]:
    return client.create_credit_notes(notes, key, unitdp=unitdp)


def _read_credit_notes(
    client: XeroClient, created: Sequence[tuple[StatementDocument, str]]
) -> list:
    return client.find_credit_notes([document.number or "" for document, _id in created])


INVOICES = Kind(
    noun="invoice",
    key="invoices",
    restore="issue a new number or restore it in Xero",
    created="created as ",
    differs="the statement's total is",
    build=build_invoice,
    payload=attrgetter("invoice"),
    find=XeroClient.find_invoices,
    number_of=attrgetter("invoice_number"),
    id_of=attrgetter("invoice_id"),
    create=_create_invoices,
    read_back=_read_invoices,
    ours=attrgetter("total"),
    refusals=invoice_refusals,
)

CREDIT_NOTES = Kind(
    noun="credit note",
    key="credit-notes",
    restore="restore it in Xero",
    created="created as credit note ",
    differs="the statement credits",
    build=build_credit_note,
    payload=attrgetter("note"),
    find=XeroClient.find_credit_notes,
    number_of=attrgetter("credit_note_number"),
    id_of=attrgetter("credit_note_id"),
    create=_create_credit_notes,
    read_back=_read_credit_notes,
    ours=lambda document: ZERO - document.total,
    refusals=credit_note_refusals,
)
