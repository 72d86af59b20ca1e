"""The ``quickbooks`` ERP sink and its registration hook (entry point ``quickbooks-sink``).

Each ``push`` delivers statements in batches of 30 (QuickBooks' batch limit):

1. find-before-create: one query for the batch's invoice numbers; an invoice already
   there with our total is delivered (a crash after QuickBooks accepted it, or a second
   push), one with another total is reported and never duplicated;
2. the customers are found by DisplayName (or taken from ``erp.customer_ref``) or
   created, each with a requestid of its own;
3. the rest are created in one batch request whose ``requestid`` derives from the
   statements' idempotency keys, so a retried request cannot create twice;
4. each created invoice's total, as QuickBooks computed it, is compared with ours;
5. the statement's PDF is attached.

The sink also answers ``payment_status`` (:mod:`.payments`), ``preflight``
(:mod:`.preflight`) and, as class methods, the OAuth connection (:mod:`.oauth`), all
through the same client, limiter and token manager as ``push``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
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
from connector_erp_quickbooks.answers import (
    batch_fault_text,
    error_message,
    fault_is_permanent,
    what_of,
)
from connector_erp_quickbooks.limits import RateLimiter, shared_limiter
from connector_erp_quickbooks.money_json import dumps, parse_amount
from connector_erp_quickbooks.payloads import (
    booked_total,
    check_doc_number,
    customer_payload,
    entity_of,
    invoice_payload,
)
from connector_erp_quickbooks.settings import (
    InvoiceMapping,
    QuickBooksSettings,
    load_settings,
    resolve_mapping,
)

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)

if TYPE_CHECKING:
    import requests

    from connector_erp_quickbooks.transport import QuickBooksClient

log = logging.getLogger(__name__)

BATCH_SIZE = 30  # QuickBooks' maximum of items per batch request
# requestids are UUIDs in a namespace of our own: deterministic, and within Intuit's 50 characters.
REQUEST_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://billing-connector/quickbooks")


def request_id(*parts: str) -> str:
    """A deterministic requestid for the request that carries ``parts``."""
    return str(uuid.uuid5(REQUEST_NAMESPACE, "\n".join(parts)))


class QuickBooksSink(sinks.OAuthConnection):
    """Delivers approved statements to QuickBooks Online as invoices, each exactly once.

    Keyword arguments beyond the Sink protocol are for tests: ``limiter`` (default: the
    process-wide one of the company), ``sleep`` (retry waits), ``now`` (the wall clock
    for token expiry) and ``http`` (the requests session). The OAuth connection
    (``connector erp connect``) is :mod:`.oauth`'s: the token store key of the company is
    ``quickbooks:<realm_id>``.
    """

    name: ClassVar[str] = "quickbooks"
    settings_model: ClassVar[type | None] = QuickBooksSettings
    oauth_module: ClassVar[str] = "connector_erp_quickbooks.oauth"

    def __init__(
        self,
        settings: Mapping[str, Any],
        context: SinkContext,
        *,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        http: requests.Session | None = None,
    ) -> None:
        from connector_erp_quickbooks.oauth import TokenManager
        from connector_erp_quickbooks.transport import make_client

        self.settings = load_settings(settings, f"tenant {context.tenant}")
        self.context = context
        self.tokens = TokenManager(self.settings, context.tokens, now=now)
        self.client: QuickBooksClient = make_client(
            self.settings,
            self.tokens,
            limiter or shared_limiter(self.settings.realm_id),
            sleep=sleep,
            http=http,
        )
        self._customers: dict[str, str] = {}

    # -- the protocol --------------------------------------------------------------

    def push(self, documents: Sequence[StatementDocument]) -> list[PushResult]:
        """Deliver ``documents``; one result each, in order. Safe to call again."""
        from quickbooks.exceptions import QuickbooksException

        results: dict[str, PushResult] = {}
        ready: list[tuple[StatementDocument, dict[str, Any], InvoiceMapping]] = []
        numbers: dict[str, str] = {}
        seen: set[str] = set()
        for document in documents:
            key = document.idempotency_key
            if key in seen:
                continue  # given twice: shares the first appearance's outcome
            seen.add(key)
            refusal = self._refusal(document, numbers)
            if refusal is not None:
                results[key] = refusal
                continue
            mapping = resolve_mapping(self.settings, document)
            try:
                payload = invoice_payload(document, mapping, self.settings)
            except PluginError as exc:
                results[key] = sinks.failed(document, str(exc), permanent=True)
                continue
            numbers[document.number or ""] = document.statement_id
            ready.append((document, payload, mapping))
        for chunk in sinks.batches(ready, BATCH_SIZE):
            try:
                results.update(self._deliver(chunk))
            except (PluginError, QuickbooksException) as exc:
                message = error_message(exc)
                for document, _, _ in chunk:
                    results.setdefault(document.idempotency_key, sinks.failed(document, message))
        return [results[document.idempotency_key] for document in documents]

    def payment_status(self, documents: Sequence[StatementDocument]) -> list[PaymentStatus]:
        """Whether QuickBooks holds each delivered statement as paid (see :mod:`.payments`)."""
        from quickbooks.exceptions import QuickbooksException

        from connector_erp_quickbooks.payments import payment_statuses
        from connector_erp_quickbooks.transport import fault_message

        with sinks.erp_errors(QuickbooksException, fault_message):
            return payment_statuses(self.client, documents)

    def preflight(self, documents: Sequence[StatementDocument]) -> list[str]:
        """Every id the statements need that QuickBooks lacks (see :mod:`.preflight`)."""
        from quickbooks.exceptions import QuickbooksException

        from connector_erp_quickbooks.preflight import find_gaps
        from connector_erp_quickbooks.transport import fault_message

        with sinks.erp_errors(QuickbooksException, fault_message):
            return find_gaps(self.client, self.settings, documents)

    # -- steps ---------------------------------------------------------------------

    def _refusal(
        self, document: StatementDocument, numbers: Mapping[str, str]
    ) -> PushResult | None:
        refusal = sinks.draft_refusal(document)
        if refusal is None:
            try:
                check_doc_number(document)
            except PluginError as exc:
                refusal = str(exc)
        refusal = refusal or sinks.number_taken(document, numbers, "in this push")
        return None if refusal is None else sinks.failed(document, refusal, permanent=True)

    def _deliver(
        self, chunk: Sequence[tuple[StatementDocument, dict[str, Any], InvoiceMapping]]
    ) -> dict[str, PushResult]:
        from quickbooks.exceptions import QuickbooksException

        results: dict[str, PushResult] = {}
        existing = self._existing([document for document, _, _ in chunk])
        to_create: list[tuple[StatementDocument, dict[str, Any]]] = []
        for document, payload, mapping in chunk:
            found = existing.get((entity_of(document), document.number or ""), [])
            if found:
                results[document.idempotency_key] = self._already_there(document, found)
                continue
            try:
                customer_id = self._customer_id(document, mapping)
            except (PluginError, QuickbooksException) as exc:
                results[document.idempotency_key] = sinks.failed(document, error_message(exc))
                continue
            to_create.append((document, {**payload, "CustomerRef": {"value": customer_id}}))
        if to_create:
            results.update(self._create(to_create))
        return results

    def _existing(
        self, documents: Sequence[StatementDocument]
    ) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Invoices and credit memos already in QuickBooks under the documents' numbers,
        by (entity, number): one query per entity."""
        from quickbooks.utils import build_choose_clause

        wanted: dict[str, set[str]] = {}
        for document in documents:
            wanted.setdefault(entity_of(document), set()).add(document.number or "")
        found: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for entity, numbers in sorted(wanted.items()):
            choose = build_choose_clause(sorted(numbers), "DocNumber")
            answer = self.client.query(f"select * from {entity} where {choose} MAXRESULTS 1000")
            for record in answer.get("QueryResponse", {}).get(entity, []):
                found.setdefault((entity, str(record.get("DocNumber"))), []).append(record)
        return found

    def _already_there(
        self, document: StatementDocument, found: Sequence[Mapping[str, Any]]
    ) -> PushResult:
        what = what_of(document)
        for invoice in found:
            if parse_amount(invoice.get("TotalAmt")) == booked_total(document):
                message = f"already in QuickBooks as {what} {invoice.get('Id')}; not created again"
                attached = self._attach_if_missing(document, str(invoice.get("Id")))
                if attached is not None:
                    return attached
                return PushResult(document.statement_id, str(invoice.get("Id")), True, message)
        others = ", ".join(f"Id {i.get('Id')} total {i.get('TotalAmt')}" for i in found)
        return sinks.failed(
            document,
            f"{what} {document.number} already exists in QuickBooks ({others}) with another "
            f"total than ours ({booked_total(document)}); not creating a second one: void or "
            "correct it "
            "in QuickBooks, or correct an Open statement with a credit note",
        )

    def _customer_id(self, document: StatementDocument, mapping: InvoiceMapping) -> str:
        """The customer's QuickBooks id: mapped, found by DisplayName, or created."""
        from quickbooks.utils import build_where_clause

        if mapping.customer_ref:
            return mapping.customer_ref
        name = mapping.customer_name
        if name in self._customers:
            return self._customers[name]
        where = build_where_clause(DisplayName=name)
        answer = self.client.query(f"select * from Customer where {where}")
        customers = answer.get("QueryResponse", {}).get("Customer", [])
        if customers:
            customer_id = str(customers[0]["Id"])
        else:
            body = dumps(customer_payload(name, document))
            rid = request_id("customer", self.context.tenant, document.customer_id, name)
            created = self.client.create_object("Customer", body, request_id=rid)
            customer_id = str(created["Customer"]["Id"])
        self._customers[name] = customer_id
        return customer_id

    def _create(
        self, items: Sequence[tuple[StatementDocument, dict[str, Any]]]
    ) -> dict[str, PushResult]:
        from quickbooks.exceptions import AuthorizationException, QuickbooksException

        batch = {
            "BatchItemRequest": [
                {"bId": f"b{index}", "operation": "create", entity_of(document): payload}
                for index, (document, payload) in enumerate(items)
            ]
        }
        rid = request_id("invoices", *(document.idempotency_key for document, _ in items))
        url = f"{self.client.api_url}/company/{self.client.company_id}/batch"
        try:
            answer = self.client.post(url, dumps(batch), request_id=rid)
        except (PluginError, QuickbooksException) as exc:
            message = (
                f"{error_message(exc)}; if QuickBooks created the invoice anyway, the next push "
                "finds it by its number"
            )
            # A fault QuickBooks answered (the transport retried what can pass) refuses
            # the data; a lost authorisation or an exhausted retry is not permanent.
            permanent = isinstance(exc, QuickbooksException) and not isinstance(
                exc, AuthorizationException
            )
            return {
                document.idempotency_key: sinks.failed(document, message, permanent=permanent)
                for document, _ in items
            }
        by_bid = {str(item.get("bId")): item for item in answer.get("BatchItemResponse", [])}
        results = {}
        for index, (document, _) in enumerate(items):
            item = by_bid.get(f"b{index}")
            results[document.idempotency_key] = self._created(document, item)
        return results

    def _created(self, document: StatementDocument, item: Mapping[str, Any] | None) -> PushResult:
        if item is None:
            return sinks.failed(document, "QuickBooks' batch answer left this invoice out")
        if "Fault" in item:
            fault = item["Fault"]
            return sinks.failed(
                document, batch_fault_text(fault), permanent=fault_is_permanent(fault)
            )
        what = what_of(document)
        created = item.get(entity_of(document)) or {}
        remote_id = str(created.get("Id"))
        theirs, ours = parse_amount(created.get("TotalAmt")), booked_total(document)
        if theirs != ours:
            return PushResult(
                document.statement_id,
                remote_id,
                False,
                f"QuickBooks computed {what} {document.number} (Id {remote_id}) at {theirs}, "
                f"our statement totals {ours}; check its tax codes and lines",
                permanent=True,
            )
        failure = self._attach(document, remote_id)
        if failure is not None:
            return failure
        return PushResult(document.statement_id, remote_id, True, f"created as {what} {remote_id}")

    # -- the PDF -------------------------------------------------------------------

    def _file_name(self, document: StatementDocument) -> str:
        return f"{document.number}.pdf"

    def _attach_if_missing(self, document: StatementDocument, invoice_id: str) -> PushResult | None:
        from quickbooks.exceptions import QuickbooksException
        from quickbooks.utils import build_where_clause

        if self.context.render is None:
            return None
        try:
            where = (
                f"AttachableRef.EntityRef.Type = '{entity_of(document)}' AND "
                f"{build_where_clause(**{'AttachableRef.EntityRef.Value': invoice_id})}"
            )
            answer = self.client.query(f"select * from Attachable where {where}")
        except (PluginError, QuickbooksException) as exc:
            return self._attach_failed(document, invoice_id, error_message(exc))
        names = {a.get("FileName") for a in answer.get("QueryResponse", {}).get("Attachable", [])}
        if self._file_name(document) in names:
            return None
        return self._attach(document, invoice_id)

    def _attach(self, document: StatementDocument, invoice_id: str) -> PushResult | None:
        """Upload the statement's PDF onto invoice ``invoice_id``; a failed result or None."""
        from quickbooks.exceptions import QuickbooksException

        render = self.context.render
        if render is None:
            return None
        try:
            pdf = render(document, "pdf")
            metadata = {
                "AttachableRef": [
                    {
                        "EntityRef": {"type": entity_of(document), "value": invoice_id},
                        "IncludeOnSend": True,
                    }
                ],
                "FileName": self._file_name(document),
                "ContentType": "application/pdf",
            }
            rid = request_id("attachment", document.idempotency_key, invoice_id)
            answer = self.client.create_object(
                "Attachable", dumps(metadata), _file_bytes=pdf, request_id=rid
            )
        except (PluginError, QuickbooksException) as exc:
            return self._attach_failed(document, invoice_id, error_message(exc))
        except Exception as exc:  # a renderer's failure must not lose the invoice id
            return self._attach_failed(document, invoice_id, f"rendering failed: {exc}")
        for item in answer.get("AttachableResponse", []):
            if "Fault" in item:
                return self._attach_failed(document, invoice_id, batch_fault_text(item["Fault"]))
        return None

    def _attach_failed(self, document: StatementDocument, invoice_id: str, why: str) -> PushResult:
        # Not ok, so the outbox tries again; the retry finds the invoice by its number
        # and only attaches the PDF.
        return PushResult(
            document.statement_id,
            invoice_id,
            False,
            f"{what_of(document)} {document.number} is in QuickBooks as Id {invoice_id} (it will "
            f"not be created again) but its PDF could not be attached: {why}",
        )


@hookimpl
def connector_register_sinks(registry: ClassRegistry) -> None:
    """Offer the ``quickbooks`` sink."""
    registry.add(QuickBooksSink)
