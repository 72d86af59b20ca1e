"""The handful of Xero Accounting API calls the sink makes, through xero-python.

The SDK's ``AccountingApi`` does the requests and models; this module wires it to the
requests transport (limits, retries) and the token keeper (locked refresh), and turns
a 401 into one refresh and one retry.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import requests
from xero_python.accounting import AccountingApi
from xero_python.accounting.models import (
    Account,
    Allocation,
    Allocations,
    Contact,
    Contacts,
    CreditNote,
    CreditNotes,
    Invoice,
    Invoices,
    Item,
    TaxRate,
    TrackingCategory,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token
from xero_python.exceptions import ApiException

from connector.contracts import PluginError
from connector_erp_xero.limits import RateLimiter
from connector_erp_xero.settings import XeroSinkSettings
from connector_erp_xero.tokens import TokenKeeper
from connector_erp_xero.transport import XeroTransport

T = TypeVar("T")
API_PATH = "/api.xro/2.0"
#: Contact numbers per ``where`` filter: keeps the URL far below servers' length limits.
CONTACTS_PER_QUERY = 25
#: Invoice numbers per ``InvoiceNumbers`` query (a push batch's size).
INVOICES_PER_QUERY = 50
SAFE_FILTER_TEXT = re.compile(r'^[^"\\]+$')


class XeroClient:
    """One organisation's Accounting API, limited, retried and authorised."""

    def __init__(
        self,
        settings: XeroSinkSettings,
        keeper: TokenKeeper,
        limiter: RateLimiter,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.tenant_id = settings.tenant_id
        self.keeper = keeper
        oauth = OAuth2Token(settings.client_id, settings.secret())
        api_client = ApiClient(
            Configuration(oauth2_token=oauth),
            oauth2_token_getter=keeper.sdk_token,
            oauth2_token_saver=keeper.sdk_saver,
        )
        api_client.rest_client = XeroTransport(
            session or requests.Session(),
            limiter,
            settings.base_url,
            timeout=settings.timeout_seconds,
            max_attempts=settings.max_attempts,
            sleep=sleep,
        )
        keeper.api_client = api_client
        self.api = AccountingApi(api_client, base_url=settings.base_url + API_PATH)

    def find_invoices(self, numbers: Sequence[str]) -> list[Invoice]:
        """Sales invoices (any status) carrying one of the invoice ``numbers``.

        One call per :data:`INVOICES_PER_QUERY` numbers.
        """
        found: list[Invoice] = []
        unique = list(dict.fromkeys(numbers))
        for start in range(0, len(unique), INVOICES_PER_QUERY):
            chunk = unique[start : start + INVOICES_PER_QUERY]
            result = self._call(
                lambda chunk=chunk: self.api.get_invoices(
                    self.tenant_id, invoice_numbers=chunk, where='Type=="ACCREC"'
                )
            )
            found.extend(result.invoices or [])
        return found

    def read_invoices(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        """The invoices with these Xero ids, as Xero holds them now."""
        if not invoice_ids:
            return []
        found = self._call(lambda: self.api.get_invoices(self.tenant_id, i_ds=list(invoice_ids)))
        return list(found.invoices or [])

    def find_contacts(self, numbers: Sequence[str]) -> dict[str, str]:
        """ContactID by ContactNumber, for those of ``numbers`` Xero has."""
        found: dict[str, str] = {}
        for chunk in self._filters("ContactNumber", numbers, "contact number"):
            where = " OR ".join(f'ContactNumber=="{number}"' for number in chunk)
            result = self._call(
                lambda where=where: self.api.get_contacts(self.tenant_id, where=where)
            )
            for contact in result.contacts or []:
                if contact.contact_number in chunk and contact.contact_id:
                    found.setdefault(contact.contact_number, str(contact.contact_id))
        return found

    def find_credit_notes(self, numbers: Sequence[str]) -> list[CreditNote]:
        """Sales credit notes (ACCRECCREDIT, any status) carrying one of ``numbers``."""
        found: list[CreditNote] = []
        for chunk in self._filters("CreditNoteNumber", numbers, "credit note number"):
            numbers_filter = " OR ".join(f'CreditNoteNumber=="{number}"' for number in chunk)
            where = f'Type=="ACCRECCREDIT" AND ({numbers_filter})'
            result = self._call(
                lambda where=where: self.api.get_credit_notes(self.tenant_id, where=where)
            )
            found.extend(note for note in result.credit_notes or [] if note.credit_note_number)
        return found

    def accounts(self) -> list[Account]:
        """The organisation's chart of accounts (archived accounts included)."""
        return list(self._call(lambda: self.api.get_accounts(self.tenant_id)).accounts or [])

    def tax_rates(self) -> list[TaxRate]:
        """The organisation's tax rates, each with its tax type and status."""
        return list(self._call(lambda: self.api.get_tax_rates(self.tenant_id)).tax_rates or [])

    def items(self, codes: Sequence[str]) -> list[Item]:
        """The items with one of ``codes``."""
        found: list[Item] = []
        for chunk in self._filters("Code", codes, "item code"):
            where = " OR ".join(f'Code=="{code}"' for code in chunk)
            result = self._call(lambda where=where: self.api.get_items(self.tenant_id, where=where))
            found.extend(result.items or [])
        return found

    def tracking_categories(self) -> list[TrackingCategory]:
        """The organisation's active tracking categories and their options."""
        result = self._call(lambda: self.api.get_tracking_categories(self.tenant_id))
        return list(result.tracking_categories or [])

    def currencies(self) -> set[str]:
        """Codes of the currencies the organisation has enabled (the base one included)."""
        result = self._call(lambda: self.api.get_currencies(self.tenant_id))
        return {_code(currency.code) for currency in result.currencies or [] if currency.code}

    def base_currency(self) -> str:
        """The organisation's base currency code."""
        result = self._call(lambda: self.api.get_organisations(self.tenant_id))
        for organisation in result.organisations or []:
            if organisation.base_currency:
                return _code(organisation.base_currency)
        raise PluginError(f"Xero did not say the base currency of organisation {self.tenant_id}")

    def _filters(self, field: str, values: Sequence[str], what: str) -> list[list[str]]:
        """``values`` (each once, sorted) in chunks of :data:`CONTACTS_PER_QUERY` for a
        ``where`` filter on ``field``; PluginError for a value a filter cannot carry."""
        unique = sorted(set(values))
        for value in unique:
            if not SAFE_FILTER_TEXT.match(value):
                raise PluginError(
                    f"{what} {value!r} cannot be searched for in Xero ({field}): "
                    'it may not contain " or \\'
                )
        return [
            unique[start : start + CONTACTS_PER_QUERY]
            for start in range(0, len(unique), CONTACTS_PER_QUERY)
        ]

    def create_contacts(self, contacts: Sequence[Contact], idempotency_key: str) -> list[Contact]:
        """Create ``contacts``; each comes back with its ContactID or its validation errors."""
        body = Contacts(contacts=list(contacts))
        result = self._call(
            lambda: self.api.create_contacts(
                self.tenant_id, body, summarize_errors=False, idempotency_key=idempotency_key
            )
        )
        return list(result.contacts or [])

    def create_invoices(
        self, invoices: Sequence[Invoice], idempotency_key: str, *, unitdp: int | None
    ) -> list[Invoice]:
        """Create ``invoices`` in one call; each comes back created or with its errors.

        Raises the SDK's ``AccountingBadRequestException`` when Xero refuses the call
        as a whole (400).
        """
        body = Invoices(invoices=list(invoices))
        result = self._create(self.api.create_invoices, body, idempotency_key, unitdp)
        return list(result.invoices or [])

    def attach(self, invoice_id: str, file_name: str, data: bytes, idempotency_key: str) -> None:
        """Attach ``data`` to the invoice as ``file_name``, replacing one of the same name."""
        # POST replaces an attachment of the same name (PUT would add a second copy),
        # so attaching again after a crash leaves one PDF.
        self._call(
            lambda: self.api.update_invoice_attachment_by_file_name(
                self.tenant_id, invoice_id, file_name, data, idempotency_key=idempotency_key
            )
        )

    def create_credit_notes(
        self, notes: Sequence[CreditNote], idempotency_key: str, *, unitdp: int | None
    ) -> list[CreditNote]:
        """Create sales credit notes in one call (``PUT /CreditNotes``), as
        :meth:`create_invoices` does invoices; a 400 raises AccountingBadRequestException."""
        body = CreditNotes(credit_notes=list(notes))
        result = self._create(self.api.create_credit_notes, body, idempotency_key, unitdp)
        return list(result.credit_notes or [])

    def _create(
        self, create: Callable[..., T], body: Any, idempotency_key: str, unitdp: int | None
    ) -> T:
        """One create call of the SDK with the errors of each item, not a summary; with
        ``unitdp=4`` when unit prices carry four decimals."""
        extra: dict[str, Any] = {"unitdp": unitdp} if unitdp else {}
        return self._call(
            lambda: create(
                self.tenant_id,
                body,
                summarize_errors=False,
                idempotency_key=idempotency_key,
                **extra,
            )
        )

    def attach_credit_note(
        self, note_id: str, file_name: str, data: bytes, idempotency_key: str
    ) -> None:
        """Attach ``data`` to the credit note, replacing one of the same name (POST)."""
        self._call(
            lambda: self.api.update_credit_note_attachment_by_file_name(
                self.tenant_id, note_id, file_name, data, idempotency_key=idempotency_key
            )
        )

    def allocate_credit_note(
        self, note_id: str, allocation: Allocation, idempotency_key: str
    ) -> list[Allocation]:
        """Allocate part or all of a sales credit note to an invoice
        (``PUT /CreditNotes/{CreditNoteID}/Allocations``); Xero refusing it (more than the
        invoice's amount due, another currency, a draft) raises AccountingBadRequestException."""
        body = Allocations(allocations=[allocation])
        result = self._call(
            lambda: self.api.create_credit_note_allocation(
                self.tenant_id, note_id, body, idempotency_key=idempotency_key
            )
        )
        return list(result.allocations or [])

    def _call(self, call: Callable[[], T]) -> T:
        token = self.keeper.access_token()
        try:
            return call()
        except ApiException as exc:
            if exc.status != 401:
                raise
        # The token was revoked or expired early: one locked refresh, one more try.
        self.keeper.refresh_after_rejection(token)
        return call()


def _code(value: object) -> str:
    """A currency code from the SDK (an enum member or a plain string)."""
    return str(getattr(value, "value", value))
