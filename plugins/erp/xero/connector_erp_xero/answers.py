"""Xero's answers as the sink reports them: idempotency keys, messages, failed results."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from xero_python.exceptions import ApiException

from connector.contracts import PushResult, StatementDocument


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
    if isinstance(exc, ApiException):
        body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else ""
        return f"Xero answered HTTP {exc.status} {exc.reason or ''}: {body.strip()[:500]}".strip()
    return str(exc)


def failed(
    document: StatementDocument,
    message: str,
    remote_id: str | None = None,
    *,
    permanent: bool = False,
) -> PushResult:
    """A failed result; ``permanent`` when Xero refused the data (retrying cannot help)."""
    return PushResult(document.statement_id, remote_id, False, message, permanent=permanent)
