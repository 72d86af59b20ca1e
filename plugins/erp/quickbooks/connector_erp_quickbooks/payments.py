"""Which delivered statements QuickBooks says are paid: the sink's ``payment_status``.

Statements are found by their number as a push finds them: one query
``select * from Invoice where DocNumber in (...)`` per 30 numbers (``CreditMemo`` for
statements that credit the customer), and, for the invoices found paid, one query
``select * from Payment where Id in (...)`` per 30 linked payments for the date. Every
query goes through the sink's client: the company's rate limiter, retries and token
refresh.

The rules:

* the transaction that counts is the one under the statement's number whose
  ``TotalAmt`` is ours (a voided invoice keeps its number at a total of 0, so it never
  counts); none, or a number QuickBooks does not hold: not paid;
* an invoice is paid when its ``Balance`` is 0; ``paid_on`` is the latest
  ``TxnDate`` of the payments linked to it (None when it was settled otherwise, e.g.
  by a credit memo or a journal entry);
* a credit memo is settled ("paid") when it is fully applied: ``RemainingCredit`` 0;
  ``paid_on`` is None, because QuickBooks does not link a credit memo to what applied it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from quickbooks.utils import build_choose_clause

from connector.contracts import PaymentStatus, StatementDocument
from connector_erp_quickbooks.money_json import parse_amount
from connector_erp_quickbooks.payloads import CREDIT_MEMO, booked_total, entity_of
from connector_erp_quickbooks.transport import QuickBooksClient

#: Numbers (or ids) per query, as many as a push batch holds.
PER_QUERY = 30

Record = Mapping[str, Any]


def records(client: QuickBooksClient, entity: str, field: str, values: Sequence[str]) -> list[Any]:
    """The ``entity`` records whose ``field`` is one of ``values``, PER_QUERY a query."""
    unique = sorted(set(values))
    found: list[Any] = []
    for start in range(0, len(unique), PER_QUERY):
        choose = build_choose_clause(unique[start : start + PER_QUERY], field)
        answer = client.query(f"select * from {entity} where {choose} MAXRESULTS 1000")
        found.extend(answer.get("QueryResponse", {}).get(entity, []))
    return found


def payment_statuses(
    client: QuickBooksClient, documents: Sequence[StatementDocument]
) -> list[PaymentStatus]:
    """One status per document, in order, read in as few queries as QuickBooks allows."""
    wanted: dict[str, list[str]] = {}
    for document in documents:
        if document.number:
            wanted.setdefault(entity_of(document), []).append(document.number)
    held: dict[tuple[str, str], list[Record]] = {}
    for entity, numbers in sorted(wanted.items()):
        for record in records(client, entity, "DocNumber", numbers):
            held.setdefault((entity, str(record.get("DocNumber"))), []).append(record)
    counted: dict[str, Record | None] = {}
    for document in documents:
        candidates = held.get((entity_of(document), document.number or ""), [])
        counted[document.statement_id] = next(
            (r for r in candidates if parse_amount(r.get("TotalAmt")) == booked_total(document)),
            None,
        )
    paid_ids: dict[str, list[str]] = {}
    for document in documents:
        record = counted[document.statement_id]
        if record is None:
            continue
        if entity_of(document) == CREDIT_MEMO:
            if parse_amount(record.get("RemainingCredit")) == 0:
                paid_ids[document.statement_id] = []  # see the module docstring
        elif parse_amount(record.get("Balance")) == 0:
            paid_ids[document.statement_id] = _payment_ids(record)
    dates = _payment_dates(client, [pid for ids in paid_ids.values() for pid in ids])
    statuses = []
    for document in documents:
        if document.statement_id not in paid_ids:
            statuses.append(PaymentStatus(document.statement_id, False))
            continue
        days = [dates[pid] for pid in paid_ids[document.statement_id] if pid in dates]
        statuses.append(PaymentStatus(document.statement_id, True, max(days, default=None)))
    return statuses


def _payment_ids(record: Record) -> list[str]:
    return [
        str(link["TxnId"])
        for link in record.get("LinkedTxn") or []
        if link.get("TxnType") == "Payment" and link.get("TxnId")
    ]


def _payment_dates(client: QuickBooksClient, ids: Sequence[str]) -> dict[str, dt.date]:
    dates = {}
    for payment in records(client, "Payment", "Id", ids) if ids else []:
        try:
            dates[str(payment["Id"])] = dt.date.fromisoformat(str(payment["TxnDate"])[:10])
        except (KeyError, ValueError):
            continue  # a payment without a readable date only loses paid_on
    return dates
