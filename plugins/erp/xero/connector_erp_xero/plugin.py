"""The ``xero`` ERP sink and its registration hook (entry point ``xero-sink``).

Each ``push`` goes through its statements in batches of up to 50, Xero's limit per
create call. For a batch:

1. find before create: invoices already in Xero under the statements' numbers are
   taken as delivered when their total is ours (a crash after Xero accepted them);
2. contacts are found by ContactNumber (the customer id, or ``erp_mappings``) and the
   missing ones created in one call;
3. the rest are created in one call with an ``Idempotency-Key`` derived from the
   statements' keys and the exact payload, so a retried call returns the first answer;
4. the created invoices are read back and each total compared with ours;
5. each gets its statement PDF attached.

A statement with a negative total (a voided statement's credit note) goes the same way
as a Xero credit note instead (:mod:`.credit_notes`), after the batch's invoices, and is
then allocated to the invoice it credits (:mod:`.allocations`).

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
from connector_erp_xero.answers import (
    error_text,
    failed,
    idempotency_key,
    settle_held,
    unique,
    validation_messages,
)
from connector_erp_xero.limits import CONCURRENT, RateLimiter, limiter_for
from connector_erp_xero.settings import (
    InvoiceMapping,
    XeroSinkSettings,
    load_settings,
    resolve_mapping,
)

if TYPE_CHECKING:
    import requests
    from xero_python.accounting.models import Invoice
    from xero_python.exceptions import AccountingBadRequestException

    from connector_erp_xero.invoices import DraftInvoice

log = logging.getLogger(__name__)

BATCH_SIZE = 50
DRAFT_STATUS = "draft"
NO_ID = "00000000-0000-0000-0000-000000000000"

Pending = tuple[StatementDocument, InvoiceMapping]


class XeroSink:
    """Creates Xero sales invoices from approved statements, each statement once."""

    name: ClassVar[str] = "xero"
    settings_model: ClassVar[type | None] = XeroSinkSettings

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
            refusal = self._refusal(document, numbers)
            if refusal is not None:
                results[document.statement_id] = failed(document, refusal)
                continue
            numbers[document.number or ""] = document.statement_id
            try:
                pending.append((document, resolve_mapping(self.settings, document)))
            except PluginError as exc:
                results[document.statement_id] = failed(document, str(exc))
        for start in range(0, len(pending), BATCH_SIZE):
            batch = pending[start : start + BATCH_SIZE]
            try:
                self._push_batch(batch, results)
            except (PluginError, ApiException) as exc:
                log.warning("Xero push of %d statements stopped: %s", len(batch), exc)
                message = error_text(exc)
                for document, _mapping in batch:
                    results.setdefault(document.statement_id, failed(document, message))
        return [
            results.get(document.statement_id)
            or failed(document, "the xero sink did not get to this statement")
            for document in documents
        ]

    def payment_status(self, documents: Sequence[StatementDocument]) -> list[PaymentStatus]:
        """Whether Xero holds each delivered statement as paid (see :mod:`.payments`)."""
        from xero_python.exceptions import ApiException

        from connector_erp_xero.payments import payment_statuses

        try:
            return payment_statuses(self.client, documents)
        except ApiException as exc:
            raise PluginError(error_text(exc)) from exc

    def preflight(self, documents: Sequence[StatementDocument]) -> list[str]:
        """Every code the statements need that Xero lacks (see :mod:`.preflight`); reads only."""
        from xero_python.exceptions import ApiException

        from connector_erp_xero.preflight import find_gaps

        try:
            return find_gaps(self.client, self.settings, documents)
        except ApiException as exc:
            raise PluginError(error_text(exc)) from exc

    @classmethod
    def token_key(cls, settings: Mapping[str, Any]) -> str:
        """The token store key of the organisation: ``xero:<tenant_id>``."""
        from connector_erp_xero import oauth

        return oauth.token_key(settings)

    @classmethod
    def authorization_url(cls, settings: Mapping[str, Any], state: str) -> str:
        """Xero's sign-in URL for ``connector erp connect``."""
        from connector_erp_xero import oauth

        return oauth.authorization_url(settings, state)

    @classmethod
    def exchange_code(
        cls, settings: Mapping[str, Any], redirect_url: str, state: str
    ) -> dict[str, Any]:
        """The first token, for the code in the URL Xero redirected to (``state`` checked)."""
        from connector_erp_xero import oauth

        return oauth.exchange_code(settings, redirect_url, expected_state=state)

    def _refusal(self, document: StatementDocument, numbers: Mapping[str, str]) -> str | None:
        if document.number is None or document.status.strip().lower() == DRAFT_STATUS:
            return (
                f"statement {document.statement_id} is a draft without an invoice number; "
                "approve it before pushing"
            )
        other = numbers.get(document.number)
        if other is not None:
            return f"invoice number {document.number} is also used by statement {other} here"
        return None

    def _push_batch(self, batch: list[Pending], results: dict[str, PushResult]) -> None:
        from connector_erp_xero.credit_notes import push_credit_notes
        from connector_erp_xero.invoices import build_invoice

        attach: list[tuple[StatementDocument, str]] = []
        credit_notes = [p for p in batch if p[0].total < 0]
        batch = [p for p in batch if p[0].total >= 0]
        to_create = self._settle_existing(batch, results, attach)
        contacts = self._contacts(to_create, results)
        drafts: list[tuple[StatementDocument, DraftInvoice]] = []
        for document, mapping in to_create:
            contact_id = contacts.get(mapping.contact_number)
            if contact_id is None:
                continue  # its result says why
            try:
                drafts.append(
                    (document, build_invoice(document, mapping, contact_id, self.settings.status))
                )
            except PluginError as exc:
                results[document.statement_id] = failed(document, str(exc))
        created = self._create(drafts, results)
        self._compare_totals(created, results, attach)
        # After the invoices: a credit note is allocated to the invoice it credits, which
        # may be in this very batch.
        push_credit_notes(self, credit_notes, results, attach)
        self._attach_all(attach, results)

    def _settle_existing(
        self,
        batch: list[Pending],
        results: dict[str, PushResult],
        attach: list[tuple[StatementDocument, str]],
    ) -> list[Pending]:
        """Settle statements whose invoice number Xero already holds; return the rest."""
        found: dict[str, list[Invoice]] = {}
        for invoice in self.client.find_invoices([doc.number or "" for doc, _m in batch]):
            found.setdefault(invoice.invoice_number, []).append(invoice)
        rest = []
        for document, mapping in batch:
            result, needs_pdf = settle_held(
                document,
                found.get(document.number or "", []),
                document.total,
                "invoice",
                lambda invoice: invoice.invoice_id,
                "issue a new number or restore it in Xero",
            )
            if result is None:
                rest.append((document, mapping))
                continue
            results[document.statement_id] = result
            if needs_pdf:
                attach.append((document, result.remote_id))
        return rest

    def _contacts(self, pending: list[Pending], results: dict[str, PushResult]) -> dict[str, str]:
        """ContactID by contact number for ``pending``, creating the missing contacts."""
        from xero_python.api_client.serializer import serialize

        from connector_erp_xero.invoices import new_contact

        if not pending:
            return {}
        numbers = [mapping.contact_number for _doc, mapping in pending]
        ids = self.client.find_contacts(numbers)
        missing: dict[str, Pending] = {}
        for document, mapping in pending:
            if mapping.contact_number not in ids:
                missing.setdefault(mapping.contact_number, (document, mapping))
        if missing:
            new = [new_contact(mapping, document) for document, mapping in missing.values()]
            key = idempotency_key("contacts", sorted(missing), serialize(new))
            refused: dict[str, str] = {}
            for contact in self.client.create_contacts(new, key):
                errors = validation_messages(contact)
                if contact.contact_id and str(contact.contact_id) != NO_ID and not errors:
                    ids[contact.contact_number] = str(contact.contact_id)
                else:
                    refused[contact.contact_number] = "; ".join(errors) or "no ContactID returned"
            for document, mapping in pending:
                if mapping.contact_number not in ids:
                    reason = refused.get(mapping.contact_number, "not returned by Xero")
                    results[document.statement_id] = failed(
                        document,
                        f"Xero did not create contact {mapping.contact_number} "
                        f"({mapping.contact_name}): {reason}",
                        permanent=True,
                    )
        return ids

    def _create(
        self,
        drafts: list[tuple[StatementDocument, DraftInvoice]],
        results: dict[str, PushResult],
    ) -> list[tuple[StatementDocument, str]]:
        """Create the invoices in one call; return (statement, InvoiceID) of those created."""
        from xero_python.api_client.serializer import serialize
        from xero_python.exceptions import AccountingBadRequestException

        if not drafts:
            return []
        invoices = [draft.invoice for _doc, draft in drafts]
        unitdp = 4 if any(draft.needs_unitdp4 for _doc, draft in drafts) else None
        keys = [document.idempotency_key for document, _draft in drafts]
        key = idempotency_key("invoices", keys, serialize(invoices))
        try:
            returned = self.client.create_invoices(invoices, key, unitdp=unitdp)
        except AccountingBadRequestException as exc:
            self._refused_batch(drafts, exc, results)
            return []
        by_number = {invoice.invoice_number: invoice for invoice in returned}
        created = []
        for document, _draft in drafts:
            invoice = by_number.get(document.number)
            if invoice is None:
                results[document.statement_id] = failed(
                    document, f"Xero's answer did not include invoice {document.number}"
                )
                continue
            errors = validation_messages(invoice)
            if errors or invoice.has_errors or not invoice.invoice_id:
                results[document.statement_id] = failed(
                    document,
                    f"Xero rejected invoice {document.number}: "
                    + ("; ".join(errors) or "no reason given"),
                    permanent=True,
                )
            else:
                created.append((document, str(invoice.invoice_id)))
        return created

    def _refused_batch(
        self,
        drafts: list[tuple[StatementDocument, DraftInvoice]],
        exc: AccountingBadRequestException,
        results: dict[str, PushResult],
    ) -> None:
        """Xero refused the whole call (400): give each statement its own messages."""
        try:
            data = exc.error_data
        except ValueError:
            data = {}
        elements = data.get("Elements") or [] if isinstance(data, dict) else []
        general = (isinstance(data, dict) and data.get("Message")) or str(exc.reason)
        by_number: dict[str, list[str]] = {}
        for index, element in enumerate(elements):
            number = element.get("InvoiceNumber") or (
                drafts[index][0].number if index < len(drafts) else None
            )
            messages = [e.get("Message", "") for e in element.get("ValidationErrors") or []]
            by_number.setdefault(number or "", []).extend(m for m in messages if m)
        for document, _draft in drafts:
            messages = unique(by_number.get(document.number or "") or [general])
            results[document.statement_id] = failed(
                document,
                f"Xero rejected invoice {document.number}: " + "; ".join(messages),
                permanent=True,
            )

    def _compare_totals(
        self,
        created: list[tuple[StatementDocument, str]],
        results: dict[str, PushResult],
        attach: list[tuple[StatementDocument, str]],
    ) -> None:
        """Read the created invoices back; a total other than ours fails the statement."""
        read = self.client.read_invoices([invoice_id for _doc, invoice_id in created])
        held = {str(invoice.invoice_id): invoice for invoice in read}
        for document, invoice_id in created:
            invoice = held.get(invoice_id)
            if invoice is None:
                results[document.statement_id] = failed(
                    document, f"invoice {document.number} was not found when read back", invoice_id
                )
            elif invoice.total != document.total:
                results[document.statement_id] = failed(
                    document,
                    f"Xero computed a total of {invoice.total} for invoice {document.number}, "
                    f"but the statement's total is {document.total}",
                    invoice_id,
                    permanent=True,
                )
            else:
                results[document.statement_id] = PushResult(
                    document.statement_id, invoice_id, True, f"created as {document.number}"
                )
                attach.append((document, invoice_id))

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
                results[document.statement_id] = failed(
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
