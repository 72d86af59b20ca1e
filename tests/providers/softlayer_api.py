"""A SoftLayer REST API stand-in for the softlayer provider tests (``responses``).

The provider's real ``SoftLayer`` client and REST transport make the HTTP calls; these
helpers answer them from the JSON fixtures in ``tests/fixtures/softlayer``.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import responses
from connector_softlayer import SoftLayerProvider

from connector.contracts import BillingPeriod, ChargeBatch

FIXTURES = Path(__file__).parents[1] / "fixtures" / "softlayer"
REST = "https://api.softlayer.com/rest/v3.1/"
USERNAME = "SL424242"
API_KEY = "f00dfacecafe0123456789abcdef0123456789abcdef0123456789abcdef0123"
BILLING_INFO = "SoftLayer_Account::getBillingInfo"
INVOICES = "SoftLayer_Account::getInvoices"
ITEMS = "SoftLayer_Billing_Invoice::getInvoiceTopLevelItems"

SEP_2026 = BillingPeriod(dt.date(2026, 9, 15), dt.date(2026, 10, 15))
OCT_2026 = BillingPeriod(dt.date(2026, 10, 15), dt.date(2026, 11, 15))


def load(name: str) -> dict[str, Any]:
    """A fixture file as plain JSON values (bodies are re-encoded for each answer)."""
    return json.loads((FIXTURES / name).read_text())


def anniversary_account() -> dict[str, Any]:
    return load("anniversary_account.json")


def sample_account() -> dict[str, Any]:
    """The softlayer-python sample, with its one item list answered for every invoice."""
    data = load("softlayer_billing_fixtures.json")
    items = data[ITEMS]
    data[ITEMS] = {str(i["id"]): copy.deepcopy(items) for i in data[INVOICES]}
    return data


def query(request: Any) -> dict[str, str]:
    """The request's query parameters (objectMask, objectFilter, resultLimit)."""
    return {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}


def method_url(method: str, object_id: object = None) -> str:
    """The REST URL of ``Service::method``, on the object ``object_id`` when given."""
    service, name = method.split("::")
    on = service if object_id is None else f"{service}/{object_id}"
    return f"{REST}{on}/{name}.json"


def serve(rsps: responses.RequestsMock, data: Mapping[str, Any]) -> None:
    """Answer getBillingInfo, getInvoices and each invoice's getInvoiceTopLevelItems."""
    rsps.add(responses.GET, method_url(BILLING_INFO), json=data[BILLING_INFO])

    def invoices(request: Any) -> tuple[int, dict[str, str], str]:
        wanted = json.loads(query(request).get("objectFilter", "{}")).get("invoices", {})
        found = list(data[INVOICES])
        if "typeCode" in wanted:  # the newest RECURRING invoice, for the anniversary day
            recurring = [i for i in found if i["typeCode"] == wanted["typeCode"]["operation"]]
            found = sorted(recurring, key=lambda i: i["createDate"], reverse=True)[:1]
        return 200, {}, json.dumps(found)

    rsps.add_callback(responses.GET, method_url(INVOICES), callback=invoices)
    for invoice_id, items in data[ITEMS].items():
        rsps.add(responses.GET, method_url(ITEMS, invoice_id), json=items)


@contextmanager
def answering(
    method: str,
    answer: Mapping[str, Any],
    data: Mapping[str, Any] | None = None,
    object_id: object = None,
) -> Iterator[responses.RequestsMock]:
    """The API where ``method`` (on ``object_id``) gives ``answer``: the keywords of
    ``responses.add`` (``status`` and ``json``, or a ``body``), or a ``callback``. With
    ``data``, the other calls are answered from it (leave ``method``'s answer out of it),
    and every answer needs to be asked for only without."""
    with responses.RequestsMock(assert_all_requests_are_fired=data is None) as rsps:
        if data is not None:
            serve(rsps, data)
        add = rsps.add_callback if "callback" in answer else rsps.add
        add(responses.GET, method_url(method, object_id), **answer)
        yield rsps


def provider(
    tmp_path: Path, today: dt.date = dt.date(2026, 11, 1), **settings: Any
) -> SoftLayerProvider:
    """A provider with test credentials; ``today`` pins what 'recent periods' means."""
    instance = SoftLayerProvider({"username": USERNAME, "api_key": API_KEY, **settings}, tmp_path)
    instance.today = lambda: today
    return instance


def fetch(
    tmp_path: Path,
    data: Mapping[str, Any],
    period: BillingPeriod | None = None,
    change: Callable[[dict[str, Any]], None] | None = None,
    **settings: Any,
) -> list[ChargeBatch]:
    """Fetch through the real client against ``data`` (after ``change``, when given)."""
    data = copy.deepcopy(dict(data))
    if change is not None:
        change(data)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, data)
        return list(provider(tmp_path, **settings).fetch(period))


def item(data: Mapping[str, Any], invoice_id: int, item_id: int) -> dict[str, Any]:
    """The invoice item (top level or child) with ``item_id`` in ``data``, for changing it."""
    stack = list(data[ITEMS][str(invoice_id)])
    while stack:
        found = stack.pop()
        if found["id"] == item_id:
            return found
        stack.extend(found.get("children", []))
    raise KeyError(item_id)
