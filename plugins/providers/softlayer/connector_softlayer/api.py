"""The SoftLayer API calls this plugin makes, through the official ``SoftLayer`` client.

The client's REST transport does the HTTP (URLs, authentication, pagination, errors); the
one thing changed is how it decodes JSON: SoftLayer writes most amounts as strings, but
some as JSON numbers, and ``json.loads`` would make those floats. :class:`ExactRestTransport`
re-reads the same response body with ``parse_float=Decimal``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import requests
import SoftLayer
from SoftLayer.exceptions import SoftLayerError
from SoftLayer.transports import RestTransport, SoftLayerListResult
from SoftLayer.transports.transport import get_session
from SoftLayer.utils import query_filter_date

from connector.contracts import PluginError

PAGE_SIZE = 100

BILLING_INFO_MASK = "mask[accountId, anniversaryDayOfMonth, currency[KeyName]]"
INVOICE_MASK = "mask[id, createDate, typeCode, statusCode, invoiceTotalAmount]"
_ITEM_FIELDS = (
    "id, categoryCode, description, hostName, domainName, category[name], hourlyRecurringFee, "
    "recurringFee, recurringTaxAmount, recurringAfterTaxAmount, "
    "oneTimeFee, oneTimeTaxAmount, oneTimeAfterTaxAmount, "
    "setupFee, setupTaxAmount, setupAfterTaxAmount, "
    "laborFee, laborTaxAmount, laborAfterTaxAmount"
)
# Children are asked for two levels deep; their own fees never include their children's.
ITEM_MASK = f"mask[{_ITEM_FIELDS}, children[{_ITEM_FIELDS}, children[{_ITEM_FIELDS}]]]"


class ExactRestTransport(RestTransport):
    """SoftLayer's REST transport, answering with JSON numbers as ``Decimal``.

    One instance serves one provider fetch at a time (it keeps the last response body).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._body: str | None = None
        self._client = get_session(self.user_agent)
        self._client.hooks["response"].append(self._keep_body)

    def _keep_body(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._body = response.text

    def __call__(self, request: Any) -> Any:
        self._body = None
        result = super().__call__(request)
        if self._body is None:  # nothing went over HTTP: keep what the transport made
            return result
        exact = json.loads(self._body, parse_float=Decimal)
        if isinstance(result, SoftLayerListResult):
            return SoftLayerListResult(exact, result.total_count)
        return exact


class SoftLayerApi:
    """The account's billing data, read through a ``SoftLayer`` client."""

    def __init__(self, username: str, api_key: str, endpoint_url: str, timeout: int) -> None:
        self._secret = api_key
        self.client = SoftLayer.create_client_from_env(
            username=username,
            api_key=api_key,
            endpoint_url=endpoint_url,
            timeout=timeout,
            transport=ExactRestTransport(endpoint_url=endpoint_url, timeout=timeout),
        )

    def _call(self, service: str, method: str, **kwargs: Any) -> Any:
        try:
            return self.client.call(service, method, **kwargs)
        except SoftLayerError as exc:
            raise self._error(service, method, exc) from None

    def _error(self, service: str, method: str, exc: SoftLayerError) -> PluginError:
        code = getattr(exc, "faultCode", None)
        text = str(getattr(exc, "faultString", None) or exc)
        if self._secret:  # never show the key, even if an answer or a URL echoes it
            text = text.replace(self._secret, "***")
        hint = ""
        if code in (401, 403, "401", "403"):
            hint = "; check the provider's username and api_key (and the API user's permissions)"
        status = f" (HTTP {code})" if code else ""
        return PluginError(f"SoftLayer_{service}::{method} failed{status}: {text}{hint}")

    def billing_info(self) -> Mapping[str, Any]:
        """``SoftLayer_Account::getBillingInfo``: account id, anniversary day, currency."""
        info = self._call("Account", "getBillingInfo", mask=BILLING_INFO_MASK)
        if isinstance(info, list):  # some answers wrap the one object in a list
            info = info[0] if info else {}
        if not isinstance(info, Mapping):
            raise PluginError("SoftLayer_Account::getBillingInfo answered with no billing info")
        return info

    def invoices(self, start: dt.date, end: dt.date) -> list[Any]:
        """``SoftLayer_Account::getInvoices`` created between ``start`` and ``end``, all pages."""
        date_filter = query_filter_date(start.isoformat(), end.isoformat())
        return self._call(
            "Account",
            "getInvoices",
            mask=INVOICE_MASK,
            filter={"invoices": {"createDate": date_filter}},
            iter=True,
            limit=PAGE_SIZE,
        )

    def latest_recurring_invoice(self) -> Any | None:
        """The newest RECURRING invoice, or None: its date gives the anniversary day."""
        newest_first = {"operation": "orderBy", "options": [{"name": "sort", "value": ["DESC"]}]}
        found = self._call(
            "Account",
            "getInvoices",
            mask=INVOICE_MASK,
            filter={
                "invoices": {"typeCode": {"operation": "RECURRING"}, "createDate": newest_first}
            },
            limit=1,
        )
        return found[0] if isinstance(found, list) and found else None

    def top_level_items(self, invoice_id: str) -> list[Any]:
        """``SoftLayer_Billing_Invoice::getInvoiceTopLevelItems`` with children, all pages."""
        return self._call(
            "Billing_Invoice",
            "getInvoiceTopLevelItems",
            id=invoice_id,
            mask=ITEM_MASK,
            iter=True,
            limit=PAGE_SIZE,
        )
