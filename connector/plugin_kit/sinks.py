"""The scaffolding ERP sinks share: results, refusals, batches, pre-flight gaps, OAuth.

A sink's ``push`` refuses what it cannot deliver before talking to the ERP (a Draft, a
number given twice: :func:`draft_refusal`, :func:`number_taken`), then delivers the
rest in the ERP's batches (:func:`batches`), reporting each statement as a
:class:`~connector.contracts.PushResult` (:func:`failed` for the ones it could not
deliver). Its optional ``preflight(documents)`` returns every gap between the
statements' mappings and the ERP, one message each, naming where the value was set
(:class:`Use`, :func:`source_of`). ``payment_status`` and ``preflight`` turn the ERP
library's errors into :class:`PluginError` (:func:`erp_errors`). A sink that connects
through OAuth2 offers ``connector erp connect`` its class methods through
:class:`OAuthConnection`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar, TypeVar

from connector.contracts import PluginError, PushResult, StatementDocument

Item = TypeVar("Item")

DRAFT_STATUS = "draft"


def failed(
    document: StatementDocument,
    message: str,
    remote_id: str | None = None,
    *,
    permanent: bool = False,
) -> PushResult:
    """A failed result; ``permanent`` when the ERP refused the data (retrying cannot help,
    so the outbox marks it dead at once), ``remote_id`` when the ERP holds it anyway."""
    return PushResult(document.statement_id, remote_id, False, message, permanent=permanent)


def draft_refusal(document: StatementDocument, action: str = "pushing") -> str | None:
    """Why ``document`` cannot be pushed as it is a Draft (no invoice number), else None.

    :param action: what the message says approval must come before.
    """
    if document.number is None or document.status.strip().lower() == DRAFT_STATUS:
        return (
            f"statement {document.statement_id} is a draft without an invoice number; "
            f"approve it before {action}"
        )
    return None


def number_taken(document: StatementDocument, numbers: Mapping[str, str], where: str) -> str | None:
    """Why ``document`` cannot be pushed as another statement of the same push has its
    number (``numbers``: number -> statement id so far), else None.

    :param where: how the message names the push, e.g. ``"in this push"``.
    """
    other = numbers.get(document.number or "")
    if other is not None:
        return f"invoice number {document.number} is also used by statement {other} {where}"
    return None


def batches(items: Sequence[Item], size: int) -> Iterator[Sequence[Item]]:
    """``items`` in order, ``size`` at a time (the ERP's limit per call)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def erp_errors(
    errors: type[Exception] | tuple[type[Exception], ...], text: Callable[[Exception], str]
) -> Iterator[None]:
    """Raise the ERP library's ``errors`` in the block as :class:`PluginError` worded by
    ``text(error)`` (the ERP's own message), the original as its cause."""
    try:
        yield
    except errors as exc:
        raise PluginError(text(exc)) from exc


@dataclass(frozen=True, slots=True)
class Use:
    """A value the statements need the ERP to hold (an account, tax or item code, an id),
    and where it was set (see :func:`source_of`)."""

    value: str
    source: str


def source_of(document: StatementDocument, key: str, setting: str | None = None) -> str:
    """Where ``key``'s value for ``document`` comes from, as an operator finds it: the
    customer's ``erp_mappings``, else ``erp.settings.<setting or key>``."""
    if document.erp_mappings.get(key):
        return f"erp mapping '{key}' of customer {document.customer_id}"
    return f"erp.settings.{setting or key}"


class OAuthConnection:
    """The class methods ``connector erp connect`` calls on a sink that connects to its
    ERP through OAuth2, delegating to the module named :attr:`oauth_module` (imported on
    first use, so loading the plugin does not load the ERP's libraries).

    That module provides ``token_key(settings)``, ``authorization_url(settings, state)``
    and ``exchange_code(settings, redirect_url, expected_state=...)``.
    """

    oauth_module: ClassVar[str]

    @classmethod
    def _oauth(cls) -> ModuleType:
        return importlib.import_module(cls.oauth_module)

    @classmethod
    def token_key(cls, settings: Mapping[str, Any]) -> str:
        """The token store key of the ERP organisation (company) the settings name."""
        return cls._oauth().token_key(settings)

    @classmethod
    def authorization_url(cls, settings: Mapping[str, Any], state: str) -> str:
        """The ERP's sign-in URL for ``connector erp connect``."""
        return cls._oauth().authorization_url(settings, state)

    @classmethod
    def exchange_code(
        cls, settings: Mapping[str, Any], redirect_url: str, state: str
    ) -> dict[str, Any]:
        """The first token, for the code in the URL the ERP redirected to (``state``
        checked)."""
        return cls._oauth().exchange_code(settings, redirect_url, expected_state=state)
