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
from xero_python.accounting.models import Contact, Contacts, Invoice, Invoices
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
_SAFE_FILTER_TEXT = re.compile(r'^[^"\\]+$')


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
        """Sales invoices (any status) carrying one of the invoice ``numbers``."""
        if not numbers:
            return []
        found = self._call(
            lambda: self.api.get_invoices(
                self.tenant_id, invoice_numbers=list(numbers), where='Type=="ACCREC"'
            )
        )
        return list(found.invoices or [])

    def read_invoices(self, invoice_ids: Sequence[str]) -> list[Invoice]:
        """The invoices with these Xero ids, as Xero holds them now."""
        if not invoice_ids:
            return []
        found = self._call(lambda: self.api.get_invoices(self.tenant_id, i_ds=list(invoice_ids)))
        return list(found.invoices or [])

    def find_contacts(self, numbers: Sequence[str]) -> dict[str, str]:
        """ContactID by ContactNumber, for those of ``numbers`` Xero has."""
        found: dict[str, str] = {}
        unique = sorted(set(numbers))
        for number in unique:
            if not _SAFE_FILTER_TEXT.match(number):
                raise PluginError(
                    f"contact number {number!r} cannot be searched for in Xero: "
                    'it may not contain " or \\'
                )
        for start in range(0, len(unique), CONTACTS_PER_QUERY):
            chunk = unique[start : start + CONTACTS_PER_QUERY]
            where = " OR ".join(f'ContactNumber=="{number}"' for number in chunk)
            result = self._call(
                lambda where=where: self.api.get_contacts(self.tenant_id, where=where)
            )
            for contact in result.contacts or []:
                if contact.contact_number in chunk and contact.contact_id:
                    found.setdefault(contact.contact_number, str(contact.contact_id))
        return found

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
        extra: dict[str, Any] = {"unitdp": unitdp} if unitdp else {}
        result = self._call(
            lambda: self.api.create_invoices(
                self.tenant_id,
                body,
                summarize_errors=False,
                idempotency_key=idempotency_key,
                **extra,
            )
        )
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
