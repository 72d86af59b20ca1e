"""SoftLayer API records (invoices, invoice items) checked and read into plain values.

Amounts arrive as JSON strings (``"18.03"``) or, in some answers, JSON numbers; the
transport reads numbers as ``Decimal`` (:mod:`connector_softlayer.api`), so both are exact
here. Anything else in an amount field, or a missing required field, raises
:class:`SourceDataError` naming the invoice, the item and the field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connector.contracts import SourceDataError

ZERO = Decimal(0)
#: The fee kinds of a SoftLayer invoice item; each has ``<kind>Fee``, ``<kind>TaxAmount``
#: and ``<kind>AfterTaxAmount``.
FEE_KINDS = ("recurring", "oneTime", "setup", "labor")
OTHER = "Other"

_AMOUNT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
EXPECTED_AMOUNT = 'a decimal number such as "18.03"'


@dataclass(frozen=True, slots=True)
class Invoice:
    """One invoice of the account: ``typeCode`` RECURRING, NEW, ONE-TIME-CHARGE, CREDIT, REFUND."""

    id: str
    type_code: str
    status: str
    created: dt.date


@dataclass(frozen=True, slots=True)
class Fee:
    """One fee of an invoice item before tax, and the tax on it."""

    kind: str
    amount: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class Item:
    """One invoice item (a top-level item or one of its children), its own fees only.

    ``product`` is the top-level item's category (the statement line: "Computing
    Instance", "Storage As A Service"); ``category`` the item's own ("RAM").
    """

    id: str
    parent_id: str | None
    product: str
    category: str
    sku: str
    hourly: bool
    fees: tuple[Fee, ...]


def _where(invoice_id: str, item_id: str | None = None) -> str:
    return f"SoftLayer invoice {invoice_id}" + (f", item {item_id}" if item_id else "")


def amount(value: Any, where: str, field: str) -> Decimal | None:
    """``value`` as an exact Decimal; ``None`` when absent. Floats are refused, never rounded."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        if value.is_finite():
            return value
    elif isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    elif isinstance(value, str) and _AMOUNT.fullmatch(value.strip()):
        return Decimal(value.strip())
    raise SourceDataError(f"{where}: field {field!r} is {value!r}; expected {EXPECTED_AMOUNT}")


def _identifier(value: Any, where: str, field: str) -> str:
    if isinstance(value, bool) or value is None or str(value).strip() in ("", "None"):
        raise SourceDataError(f"{where}: required field {field!r} is missing or empty")
    return str(value).strip()


def _text(record: Mapping[str, Any], *path: str) -> str:
    value: Any = record
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value.strip() if isinstance(value, str) and value.strip() != "None" else ""


def parse_invoice(record: Any, position: int) -> Invoice:
    """An invoice header from ``SoftLayer_Account::getInvoices``."""
    if not isinstance(record, Mapping):
        raise SourceDataError(
            f"SoftLayer getInvoices answer, entry {position}: not an invoice object"
        )
    where = f"SoftLayer invoice at position {position} of getInvoices"
    invoice_id = _identifier(record.get("id"), where, "id")
    where = _where(invoice_id)
    type_code = _identifier(record.get("typeCode"), where, "typeCode").upper()
    created_text = _identifier(record.get("createDate"), where, "createDate")
    try:
        # SoftLayer writes local time with its offset; the date as written is the
        # billing date (the anniversary day is counted in the same time zone).
        created = dt.datetime.fromisoformat(created_text).date()
    except ValueError:
        raise SourceDataError(
            f"{where}: field 'createDate' is {created_text!r}; expected an ISO 8601 "
            "timestamp such as 2026-10-15T00:17:42-06:00"
        ) from None
    status = _text(record, "statusCode")
    return Invoice(id=invoice_id, type_code=type_code, status=status, created=created)


# Invoice field -> its API name, for messages.
INVOICE_FIELDS = {"type_code": "typeCode", "status": "statusCode", "created": "createDate"}
READ_AGAIN = "the API's pages overlapped while the data changed; nothing was ingested: run again"


def first_sighting(invoice: Invoice, seen: dict[str, Invoice]) -> bool:
    """Whether ``invoice`` is new to ``seen`` (and record it); ``False`` for a repeat.

    Offset paging repeats a record when one is created while the pages are read; a
    repeat is the same invoice, billed once. Raises :class:`SourceDataError` when the
    repeat differs from the first sighting: which one is current is unknown.
    """
    earlier = seen.setdefault(invoice.id, invoice)
    if earlier is invoice:
        return True
    if earlier == invoice:
        return False
    differ = [
        f"{name} {getattr(earlier, field)!s} / {getattr(invoice, field)!s}"
        for field, name in INVOICE_FIELDS.items()
        if getattr(earlier, field) != getattr(invoice, field)
    ]
    raise SourceDataError(
        f"SoftLayer getInvoices answer: invoice {invoice.id} is listed twice with different "
        f"{', '.join(differ)}; {READ_AGAIN}"
    )


def _fee(record: Mapping[str, Any], kind: str, where: str) -> Fee:
    fee = amount(record.get(f"{kind}Fee"), where, f"{kind}Fee")
    tax = amount(record.get(f"{kind}TaxAmount"), where, f"{kind}TaxAmount")
    after = amount(record.get(f"{kind}AfterTaxAmount"), where, f"{kind}AfterTaxAmount")
    # The object mask asks for all three; some answers (and older accounts) carry only
    # the after-tax figure, from which the fee is what remains after the tax.
    if fee is None:
        fee = ZERO if after is None else after - (tax or ZERO)
    if tax is None:
        tax = ZERO if after is None else after - fee
    return Fee(kind=kind, amount=fee, tax=tax)


def _item(
    record: Any, invoice_id: str, parent: Item | None, position: int, found: list[Item]
) -> None:
    if not isinstance(record, Mapping):
        raise SourceDataError(f"{_where(invoice_id)}: item at position {position} is not an object")
    item_id = _identifier(
        record.get("id"), f"{_where(invoice_id)}, item at position {position}", "id"
    )
    where = _where(invoice_id, item_id)
    category = _text(record, "category", "name") or _text(record, "categoryCode") or OTHER
    hourly_fee = amount(record.get("hourlyRecurringFee"), where, "hourlyRecurringFee")
    item = Item(
        id=item_id,
        parent_id=parent.id if parent else None,
        product=parent.product if parent else category,
        category=category,
        sku=_text(record, "categoryCode") or _text(record, "description") or category,
        hourly=bool(hourly_fee),
        fees=tuple(_fee(record, kind, where) for kind in FEE_KINDS),
    )
    found.append(item)
    children = record.get("children") or []
    if not isinstance(children, list):
        raise SourceDataError(f"{where}: field 'children' is not a list of invoice items")
    for index, child in enumerate(children):
        _item(child, invoice_id, item, index, found)


def parse_items(invoice_id: str, records: Iterable[Any]) -> list[Item]:
    """Top-level items and, depth first, their children, each with its own fees.

    An item's fees never include its children's (SoftLayer's ``total*Amount`` fields do,
    which is why they are not read), so summing every item counts each fee once. A
    top-level item repeated by overlapping pages is read once (see :func:`first_sighting`);
    a repeat with other fields is refused.
    """
    found: list[Item] = []
    seen: dict[str, Mapping[str, Any]] = {}
    for position, record in enumerate(records):
        item_id = record.get("id") if isinstance(record, Mapping) else None
        if item_id is not None and not isinstance(item_id, bool):
            earlier = seen.setdefault(str(item_id).strip(), record)
            if earlier is not record:
                if earlier == record:
                    continue
                raise SourceDataError(
                    f"{_where(invoice_id, str(item_id).strip())}: the item is listed twice "
                    f"with different fields; {READ_AGAIN}"
                )
        _item(record, invoice_id, None, position, found)
    return found


def _plain(value: Decimal) -> str:
    # "18.03", "18.030" and 18.03 are one amount: hash the value, not its spelling.
    return format(value.normalize(), "f") if value else "0"


def content_hash(
    account_id: str, currency: str, invoices: Sequence[tuple[Invoice, Sequence[Item]]]
) -> str:
    """sha256 of the normalised invoice data a batch was built from."""
    content = {
        "account": account_id,
        "currency": currency,
        "invoices": [
            {
                "id": invoice.id,
                "type": invoice.type_code,
                "status": invoice.status,
                "created": invoice.created.isoformat(),
                "items": [
                    [
                        item.id,
                        item.parent_id,
                        item.product,
                        item.category,
                        item.sku,
                        item.hourly,
                        [[fee.kind, _plain(fee.amount), _plain(fee.tax)] for fee in item.fees],
                    ]
                    for item in sorted(items, key=lambda i: (i.parent_id or "", i.id))
                ],
            }
            for invoice, items in sorted(invoices, key=lambda pair: pair[0].id)
        ],
    }
    encoded = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(encoded).hexdigest()
