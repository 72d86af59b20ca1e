"""The ``xero`` ERP sink and its registration hook (entry point ``xero-sink``).

Each ``push`` goes through its statements in batches of up to 50, Xero's limit per
create call. For a batch (:mod:`.delivery`):

1. find before create: invoices already in Xero under the statements' numbers are
   taken as delivered when their total is ours (a crash after Xero accepted them);
2. contacts are found by ContactNumber (the customer id, or ``erp_mappings``) and the
   missing ones created in one call;
3. the rest are created in one call with an ``Idempotency-Key`` derived from the
   statements' keys and the exact payload, so a retried call returns the first answer;
4. the created invoices are read back and each total compared with ours;
5. each gets its statement PDF attached.

A statement with a negative total (a voided statement's credit note) goes the same way
as a Xero credit note instead (:mod:`.credit_notes`, :mod:`.kinds`), after the batch's
invoices, and is then allocated to the invoice it credits (:mod:`.allocations`).

A validation error from Xero fails only its statements, with Xero's own message; a
timeout, 5xx or exhausted allowance fails the statements not settled yet, which the
next push settles by step 1.

The sink also answers ``payment_status`` (:mod:`.payments`), ``preflight``
(:mod:`.preflight`) and, as class methods, the OAuth connection (:mod:`.oauth`), all
through the same client, limiter and token keeper as ``push``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, ClassVar

from connector.contracts import (
    ClassRegistry,
    PaymentStatus,
    PluginError,
    PushResult,
    SinkContext,
    StatementDocument,
    hookimpl,
)
from connector.plugin_kit import sinks
from connector_erp_xero.answers import error_text, idempotency_key
from connector_erp_xero.limits import CONCURRENT, RateLimiter, limiter_for
from connector_erp_xero.settings import (
    InvoiceMapping,
    XeroSinkSettings,
    load_settings,
    resolve_mapping,
)

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)

if TYPE_CHECKING:
    import requests

log = logging.getLogger(__name__)

BATCH_SIZE = 50

Pending = tuple[StatementDocument, InvoiceMapping]


class XeroSink(sinks.OAuthConnection):
    """Creates Xero sales invoices from approved statements, each statement once.

    The OAuth connection (``connector erp connect``) is :mod:`.oauth`'s: the token store
    key of the organisation is ``xero:<tenant_id>``.
    """

    name: ClassVar[str] = "xero"
    settings_model: ClassVar[type | None] = XeroSinkSettings
    oauth_module: ClassVar[str] = "connector_erp_xero.oauth"

    def __init__(
        self,
        settings: Mapping[str, Any],
        context: SinkContext,
        *,
        session: requests.Session | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        from connector_erp_xero.client import XeroClient
        from connector_erp_xero.tokens import TokenKeeper

        self.settings = load_settings(settings, context.tenant)
        self.context = context
        self.keeper = TokenKeeper(self.settings, context.tokens, clock=clock)
        self.client = XeroClient(
            self.settings,
            self.keeper,
            limiter or limiter_for(self.settings.tenant_id),
            session=session,
            sleep=sleep,
        )

    def push(self, documents: Sequence[StatementDocument]) -> list[PushResult]:
        """Deliver ``documents``; safe to call again with the same ones."""
        from xero_python.exceptions import ApiException

        results: dict[str, PushResult] = {}
        pending: list[Pending] = []
        numbers: dict[str, str] = {}
        for document in documents:
            refusal = sinks.draft_refusal(document) or sinks.number_taken(document, numbers, "here")
            if refusal is not None:
                results[document.statement_id] = sinks.failed(document, refusal)
                continue
            numbers[document.number or ""] = document.statement_id
            try:
                pending.append((document, resolve_mapping(self.settings, document)))
            except PluginError as exc:
                results[document.statement_id] = sinks.failed(document, str(exc))
        for batch in sinks.batches(pending, BATCH_SIZE):
            try:
                self._push_batch(batch, results)
            except (PluginError, ApiException) as exc:
                log.warning("Xero push of %d statements stopped: %s", len(batch), exc)
                message = error_text(exc)
                for document, _mapping in batch:
                    results.setdefault(document.statement_id, sinks.failed(document, message))
        return [
            results.get(document.statement_id)
            or sinks.failed(document, "the xero sink did not get to this statement")
            for document in documents
        ]

    def payment_status(self, documents: Sequence[StatementDocument]) -> list[PaymentStatus]:
        """Whether Xero holds each delivered statement as paid (see :mod:`.payments`)."""
        from xero_python.exceptions import ApiException

        from connector_erp_xero.payments import payment_statuses

        with sinks.erp_errors(ApiException, error_text):
            return payment_statuses(self.client, documents)

    def preflight(self, documents: Sequence[StatementDocument]) -> list[str]:
        """Every code the statements need that Xero lacks (see :mod:`.preflight`); reads only."""
        from xero_python.exceptions import ApiException

        from connector_erp_xero.preflight import find_gaps

        with sinks.erp_errors(ApiException, error_text):
            return find_gaps(self.client, self.settings, documents)

    def _push_batch(self, batch: Sequence[Pending], results: dict[str, PushResult]) -> None:
        from connector_erp_xero.allocations import allocate_credit_notes
        from connector_erp_xero.delivery import deliver
        from connector_erp_xero.kinds import CREDIT_NOTES, INVOICES

        attach: list[tuple[StatementDocument, str]] = []
        status = self.settings.status
        invoices = [pending for pending in batch if pending[0].total >= 0]
        credit_notes = [pending for pending in batch if pending[0].total < 0]
        deliver(self.client, INVOICES, invoices, status, results, attach)
        # After the invoices: a credit note is allocated to the invoice it credits, which
        # may be in this very batch.
        deliver(self.client, CREDIT_NOTES, credit_notes, status, results, attach)
        allocate_credit_notes(self.client, [document for document, _m in credit_notes], results)
        self._attach_all(attach, results)

    def _attach_all(
        self, attach: list[tuple[StatementDocument, str]], results: dict[str, PushResult]
    ) -> None:
        if not attach or not self.settings.attach_pdf or self.context.render is None:
            return
        with ThreadPoolExecutor(max_workers=CONCURRENT) as pool:
            outcomes = list(pool.map(lambda item: self._attach(*item), attach))
        for (document, invoice_id), error in zip(attach, outcomes, strict=True):
            if error is not None:
                # Not delivered yet: the next push finds the invoice and attaches again.
                results[document.statement_id] = sinks.failed(
                    document,
                    f"invoice {document.number} is in Xero but its PDF is not attached: {error}",
                    invoice_id,
                )

    def _attach(self, document: StatementDocument, invoice_id: str) -> str | None:
        from xero_python.exceptions import ApiException

        assert self.context.render is not None
        try:
            pdf = self.context.render(document, "pdf")
            file_name = re.sub(r"[^A-Za-z0-9._-]+", "-", document.number or "statement") + ".pdf"
            key = idempotency_key("attachment", [document.idempotency_key, invoice_id])
            credit = document.total < 0  # a credit note, see _push_batch
            (self.client.attach_credit_note if credit else self.client.attach)(
                invoice_id, file_name, pdf, key
            )
        except (PluginError, ApiException) as exc:
            return error_text(exc)
        return None


@hookimpl
def connector_register_sinks(registry: ClassRegistry) -> None:
    """Offer the ``xero`` sink."""
    registry.add(XeroSink)
