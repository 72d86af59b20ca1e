"""One batch of statements delivered to Xero as one kind of document, each once.

Invoices and credit notes go the same way (:func:`deliver`):

1. find before create: documents Xero already holds under the statements' numbers are
   taken as delivered when their total is ours (a crash after Xero accepted them);
2. contacts are found by ContactNumber (the customer id, or ``erp_mappings``) and the
   missing ones created in one call (:func:`contact_ids`);
3. the rest are created in one call with an ``Idempotency-Key`` derived from the
   statements' keys and the exact payload, so a retried call returns the first answer;
4. the created documents are read back and each total compared with ours; those that
   match are queued for their PDF.

A :class:`Kind` says what differs: the SDK's calls and fields, the total Xero holds, and
the words of the results.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from connector.contracts import PluginError, PushResult, StatementDocument
from connector.plugin_kit.sinks import failed
from connector_erp_xero.answers import idempotency_key, settle_held, validation_messages
from connector_erp_xero.settings import InvoiceMapping

if TYPE_CHECKING:
    from xero_python.exceptions import AccountingBadRequestException

    from connector_erp_xero.client import XeroClient

NO_ID = "00000000-0000-0000-0000-000000000000"

Pending = tuple[StatementDocument, InvoiceMapping]
Attach = list[tuple[StatementDocument, str]]


@dataclass(frozen=True, slots=True)
class Kind:
    """What differs between delivering invoices and credit notes.

    :param noun: ``"invoice"``, in results ("Xero rejected invoice ...").
    :param key: the idempotency key's kind for the create call.
    :param restore: how to get past a deleted or voided document under the number.
    :param created: the result of a delivered one, before its number.
    :param differs: "Xero computed a total of X for ..., but <differs> Y".
    :param build: ``(statement, mapping, contact id, status)`` -> a draft (PluginError
        when Xero's total would differ).
    :param payload: a draft's SDK model.
    :param find: the documents Xero holds under the numbers.
    :param number_of: a held document's number.
    :param id_of: a held document's Xero id.
    :param create: ``(client, models, idempotency key, unitdp)`` -> the returned models;
        a refused call raises AccountingBadRequestException.
    :param read_back: the documents created, by ``(statement, Xero id)``, as Xero holds them.
    :param ours: the total Xero must hold for a statement.
    :param refusals: Xero's messages for a refused call, one list per statement number.
    """

    noun: str
    key: str
    restore: str
    created: str
    differs: str
    build: Callable[[StatementDocument, InvoiceMapping, str, str], Any]
    payload: Callable[[Any], Any]
    find: Callable[[XeroClient, Sequence[str]], list[Any]]
    number_of: Callable[[Any], Any]
    id_of: Callable[[Any], Any]
    create: Callable[[XeroClient, list[Any], str, int | None], list[Any]]
    read_back: Callable[[XeroClient, list[tuple[StatementDocument, str]]], list[Any]]
    ours: Callable[[StatementDocument], Decimal]
    refusals: Callable[[AccountingBadRequestException, list[str]], list[list[str]]]


def deliver(
    client: XeroClient,
    kind: Kind,
    batch: Sequence[Pending],
    status: str,
    results: dict[str, PushResult],
    attach: Attach,
) -> None:
    """Deliver ``batch`` as ``kind``, each statement once, its result in ``results``; the
    ones needing their PDF are added to ``attach``."""
    if not batch:
        return
    rest = _settle_existing(client, kind, batch, results, attach)
    contacts = contact_ids(client, rest, results)
    drafts: list[tuple[StatementDocument, Any]] = []
    for document, mapping in rest:
        contact_id = contacts.get(mapping.contact_number)
        if contact_id is None:
            continue  # its result says why
        try:
            drafts.append((document, kind.build(document, mapping, contact_id, status)))
        except PluginError as exc:
            results[document.statement_id] = failed(document, str(exc))
    created = _create(client, kind, drafts, results)
    _compare_totals(client, kind, created, results, attach)


def _settle_existing(
    client: XeroClient,
    kind: Kind,
    batch: Sequence[Pending],
    results: dict[str, PushResult],
    attach: Attach,
) -> list[Pending]:
    """Settle statements whose number Xero already holds; return the rest."""
    found: dict[str, list[Any]] = {}
    for held in kind.find(client, [doc.number or "" for doc, _m in batch]):
        found.setdefault(kind.number_of(held), []).append(held)
    rest = []
    for document, mapping in batch:
        result, needs_pdf = settle_held(
            document,
            found.get(document.number or "", []),
            kind.ours(document),
            kind.noun,
            kind.id_of,
            kind.restore,
        )
        if result is None:
            rest.append((document, mapping))
            continue
        results[document.statement_id] = result
        if needs_pdf:
            attach.append((document, result.remote_id))
    return rest


def contact_ids(
    client: XeroClient, pending: Sequence[Pending], results: dict[str, PushResult]
) -> dict[str, str]:
    """ContactID by contact number for ``pending``, creating the missing contacts."""
    from xero_python.api_client.serializer import serialize

    from connector_erp_xero.invoices import new_contact

    if not pending:
        return {}
    numbers = [mapping.contact_number for _doc, mapping in pending]
    ids = client.find_contacts(numbers)
    missing: dict[str, Pending] = {}
    for document, mapping in pending:
        if mapping.contact_number not in ids:
            missing.setdefault(mapping.contact_number, (document, mapping))
    if missing:
        new = [new_contact(mapping, document) for document, mapping in missing.values()]
        key = idempotency_key("contacts", sorted(missing), serialize(new))
        refused: dict[str, str] = {}
        for contact in client.create_contacts(new, key):
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
    client: XeroClient,
    kind: Kind,
    drafts: list[tuple[StatementDocument, Any]],
    results: dict[str, PushResult],
) -> list[tuple[StatementDocument, str]]:
    """Create the documents in one call; ``(statement, Xero id)`` of those created."""
    from xero_python.api_client.serializer import serialize
    from xero_python.exceptions import AccountingBadRequestException

    if not drafts:
        return []
    models = [kind.payload(draft) for _doc, draft in drafts]
    unitdp = 4 if any(draft.needs_unitdp4 for _doc, draft in drafts) else None
    keys = [document.idempotency_key for document, _draft in drafts]
    key = idempotency_key(kind.key, keys, serialize(models))
    try:
        returned = kind.create(client, models, key, unitdp)
    except AccountingBadRequestException as exc:
        # Xero refused the whole call (400): give each statement its own messages.
        numbers = [document.number or "" for document, _draft in drafts]
        for (document, _draft), reasons in zip(drafts, kind.refusals(exc, numbers), strict=True):
            results[document.statement_id] = _rejected(kind, document, reasons)
        return []
    by_number = {kind.number_of(model): model for model in returned}
    created = []
    for document, _draft in drafts:
        model = by_number.get(document.number)
        if model is None:
            results[document.statement_id] = failed(
                document, f"Xero's answer did not include {kind.noun} {document.number}"
            )
            continue
        errors = validation_messages(model)
        if errors or model.has_errors or not kind.id_of(model):
            results[document.statement_id] = _rejected(kind, document, errors)
        else:
            created.append((document, str(kind.id_of(model))))
    return created


def _rejected(kind: Kind, document: StatementDocument, reasons: Sequence[str]) -> PushResult:
    """Xero refused the document's data: permanent, the same data would be refused again."""
    why = "; ".join(reasons) or "no reason given"
    return failed(document, f"Xero rejected {kind.noun} {document.number}: {why}", permanent=True)


def _compare_totals(
    client: XeroClient,
    kind: Kind,
    created: list[tuple[StatementDocument, str]],
    results: dict[str, PushResult],
    attach: Attach,
) -> None:
    """Read the created documents back; a total other than ours fails the statement."""
    if not created:
        return
    held = {str(kind.id_of(model)): model for model in kind.read_back(client, created)}
    for document, xero_id in created:
        model = held.get(xero_id)
        ours = kind.ours(document)
        if model is None:
            results[document.statement_id] = failed(
                document, f"{kind.noun} {document.number} was not found when read back", xero_id
            )
        elif model.total != ours:
            results[document.statement_id] = failed(
                document,
                f"Xero computed a total of {model.total} for {kind.noun} {document.number}, "
                f"but {kind.differs} {ours}",
                xero_id,
                permanent=True,
            )
        else:
            results[document.statement_id] = PushResult(
                document.statement_id, xero_id, True, f"{kind.created}{document.number}"
            )
            attach.append((document, xero_id))
