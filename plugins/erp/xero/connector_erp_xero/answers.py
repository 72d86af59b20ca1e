"""Xero's answers as the sink reports them: idempotency keys, messages, failed results."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connector.contracts import PushResult, StatementDocument
from connector.plugin_kit.sinks import failed

if TYPE_CHECKING:
    from xero_python.exceptions import AccountingBadRequestException


def idempotency_key(kind: str, keys: Sequence[str], payload: Any = None) -> str:
    """A deterministic ``Idempotency-Key`` (under Xero's 128 characters).

    Built from the statements' own keys and the exact payload: the same statements sent
    the same way reuse it (Xero then answers with its first response), while a payload
    corrected after a validation error gets a new one instead of the old refusal.
    """
    digest = hashlib.sha256()
    digest.update("\n".join(sorted(keys)).encode("utf-8"))
    if payload is not None:
        digest.update(json.dumps(payload, sort_keys=True, default=str).encode("utf-8"))
    return f"bc-{kind}-{digest.hexdigest()}"


def validation_messages(item: Any) -> list[str]:
    """Xero's validation messages on a returned invoice or contact model, each once.

    Xero repeats a message for every line it applies to.
    """
    return unique([error.message for error in (item.validation_errors or []) if error.message])


def unique(messages: Sequence[str]) -> list[str]:
    """``messages`` without repeats, in their order."""
    return list(dict.fromkeys(messages))


def error_text(exc: Exception) -> str:
    """What went wrong, for a person: Xero's status and body, or the error's message."""
    from xero_python.exceptions import ApiException

    if isinstance(exc, ApiException):
        body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else ""
        return f"Xero answered HTTP {exc.status} {exc.reason or ''}: {body.strip()[:500]}".strip()
    return str(exc)


def _error_data(exc: AccountingBadRequestException) -> Any:
    try:
        return exc.error_data
    except ValueError:
        return {}


def invoice_refusals(exc: AccountingBadRequestException, numbers: Sequence[str]) -> list[list[str]]:
    """Xero's messages for a refused create-invoices call, one list per invoice of
    ``numbers``: its elements' validation messages (an element without an InvoiceNumber
    is the invoice at its place in the call), else the call's message."""
    data = _error_data(exc)
    elements = data.get("Elements") or [] if isinstance(data, dict) else []
    general = (isinstance(data, dict) and data.get("Message")) or str(exc.reason)
    by_number: dict[str, list[str]] = {}
    for index, element in enumerate(elements):
        number = element.get("InvoiceNumber") or (numbers[index] if index < len(numbers) else "")
        messages = [e.get("Message", "") for e in element.get("ValidationErrors") or []]
        by_number.setdefault(number or "", []).extend(m for m in messages if m)
    return [unique(by_number.get(number) or [general]) for number in numbers]


def credit_note_refusals(
    exc: AccountingBadRequestException, numbers: Sequence[str]
) -> list[list[str]]:
    """Xero's messages for a refused create-credit-notes call, one list per credit note of
    ``numbers``: its elements' validation messages, else those of the call (elements
    without a CreditNoteNumber, and the call's message), else its reason."""
    data = _error_data(exc)
    found: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for element in data.get("Elements") or []:
            messages = [e.get("Message", "") for e in element.get("ValidationErrors") or []]
            number = element.get("CreditNoteNumber") or ""
            found.setdefault(number, []).extend(m for m in messages if m)
        if data.get("Message"):
            found.setdefault("", []).append(data["Message"])
    return [unique(found.get(number) or found.get("") or [str(exc.reason)]) for number in numbers]


# Statuses of a document Xero keeps but that no longer counts.
GONE_STATUSES = frozenset({"DELETED", "VOIDED"})


def settle_held(
    document: StatementDocument,
    held: Sequence[Any],
    ours: Decimal,
    noun: str,
    xero_id: Callable[[Any], Any],
    restore: str,
) -> tuple[PushResult | None, bool]:
    """What a statement becomes when Xero already holds documents under its number.

    ``held`` are those invoices or credit notes (``noun``), ``ours`` the total Xero
    should hold for it, ``xero_id`` reads a held one's id and ``restore`` says how to get
    past a deleted or voided one. Returns ``(None, False)`` when Xero holds none (create
    it), else the result and whether the one found still needs its PDF attached.
    """
    if not held:
        return None, False
    live = [item for item in held if item.status not in GONE_STATUSES]
    if not live:
        message = (
            f"{noun} {document.number} exists in Xero as {held[0].status}; "
            f"not creating it again ({restore})"
        )
        return failed(document, message, str(xero_id(held[0]))), False
    if len(live) > 1:
        return failed(document, f"Xero holds {len(live)} {noun}s numbered {document.number}"), False
    (found,) = live
    if found.total != ours:
        message = (
            f"{noun} {document.number} already exists in Xero with total {found.total}, "
            f"but this statement's {noun} totals {ours}"
        )
        return failed(document, message, str(xero_id(found)), permanent=True), False
    result = PushResult(document.statement_id, str(xero_id(found)), True, "already in Xero")
    return result, not found.has_attachments
