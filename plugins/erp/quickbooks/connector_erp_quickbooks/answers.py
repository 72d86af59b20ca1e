"""QuickBooks' answers as the sink reports them: fault messages and what they mean."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connector.contracts import StatementDocument
from connector_erp_quickbooks.payloads import CREDIT_MEMO, entity_of


def what_of(document: StatementDocument) -> str:
    """``invoice`` or ``credit memo``: what the statement is delivered as."""
    return "credit memo" if entity_of(document) == CREDIT_MEMO else "invoice"


def batch_fault_text(fault: Mapping[str, Any]) -> str:
    """One batch item's fault in QuickBooks' own words: message, detail and code."""
    errors = fault.get("Error") or [{}]
    parts = []
    for error in errors:
        text = str(error.get("Message", "")).strip()
        detail = str(error.get("Detail", "")).strip()
        if detail and detail not in text:
            text = f"{text}: {detail}" if text else detail
        code = f" (code {error['code']})" if error.get("code") else ""
        parts.append(text + code)
    return f"QuickBooks ({fault.get('type', 'Fault')}): " + "; ".join(parts)


def error_message(exc: Exception) -> str:
    """What went wrong, for a person: QuickBooks' fault, or the error's message."""
    from quickbooks.exceptions import QuickbooksException

    from connector_erp_quickbooks.transport import fault_message

    if isinstance(exc, QuickbooksException):
        return fault_message(exc)
    return str(exc)


def fault_is_permanent(fault: Mapping[str, Any]) -> bool:
    """Whether retrying cannot help: QuickBooks refused the data, not the moment."""
    # QuickBooks' validation faults name the data; system faults and throttling pass.
    return "validation" in str(fault.get("type", "")).lower()
