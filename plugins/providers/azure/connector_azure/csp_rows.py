"""One reconciliation row, checked and typed, with its stable key.

Rows have no id. Each gets a key: a 128-bit digest of its normalised values (dates as
ISO dates, amounts as exact decimals, text stripped), so the same line item has the
same key whether it came from the portal's CSV or the API's JSON, and wherever it sits
in the file. Keys are combined by addition, which does not depend on row order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal

from connector.contracts import ChargeCategory, SourceDataError
from connector_azure.csp_charge_types import charge_category, charge_frequency, publisher
from connector_azure.csp_fields import (
    CURRENCY,
    DATE,
    DECIMAL,
    EXPECTED,
    FIELDS,
    Layout,
    as_text,
    parse_date,
    parse_decimal,
    valid_currency,
)
from connector_azure.csp_files import Record
from connector_azure.periods import ONE_DAY

ZERO = Decimal(0)
KEY_BITS = 128
# "Partner Earned Credit for Managed Services: 15%", "PEC 15%" ...
PEC = re.compile(r"partner\s*earned\s*credit|\bPEC\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class CspRow:
    """A checked row. ``gross`` is the cost before partner-earned credit (``pec`` <= 0
    usually): ``gross + pec == subtotal`` exactly."""

    partner: str
    customer: str
    invoice: str
    charge_type: str
    category: ChargeCategory
    charge_class: str | None
    frequency: str
    service: str
    sku: str
    currency: str
    publisher: str
    is_marketplace: bool
    subtotal: Decimal
    tax: Decimal
    gross: Decimal
    pec: Decimal
    quantity: Decimal
    start: dt.date
    end: dt.date  # the day after the last day (half-open)
    event: dt.date  # the date that places the row in a billing period
    key: int


def _bad(layout: Layout, line: int, alias: str, value: object, expected: str) -> SourceDataError:
    shown = "empty" if as_text(value) == "" else repr(as_text(value))
    return SourceDataError(
        f"{layout.path}: line {line}, field {layout.name(alias)} is {shown}; it must be {expected}"
    )


def _typed(layout: Layout, line: int, record: Record) -> dict[str, object]:
    """Every field read, typed (absent or empty optional fields: ``None``)."""
    typed: dict[str, object] = {}
    for field in FIELDS:
        raw = record.get(field.alias)
        if as_text(raw) == "":
            if field.not_empty:
                what = EXPECTED[field.kind] if field.kind != "text" else f"a {field.names[0]}"
                raise _bad(layout, line, field.alias, raw, what)
            typed[field.alias] = None
            continue
        if field.kind == DECIMAL:
            value: object = parse_decimal(raw)
        elif field.kind == DATE:
            value = parse_date(raw)
        elif field.kind == CURRENCY:
            value = as_text(raw) if valid_currency(raw) else None
        else:
            value = as_text(raw)
        if value is None:
            raise _bad(layout, line, field.alias, raw, EXPECTED[field.kind])
        typed[field.alias] = value
    return typed


def _key(typed: dict[str, object]) -> int:
    parts = []
    for field in FIELDS:
        value = typed[field.alias]
        if isinstance(value, Decimal):
            value = format(value.normalize(), "f") if value else "0"
        elif isinstance(value, dt.date):
            value = value.isoformat()
        parts.append(f"{field.alias}={'' if value is None else value}")
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=KEY_BITS // 8).digest()
    return int.from_bytes(digest, "big")


def _gross(layout: Layout, line: int, typed: dict[str, object], subtotal: Decimal) -> Decimal:
    """The cost before partner-earned credit: UnitPrice x quantity x exchange rate."""
    adjustment = typed["price_adjustment"]
    if not (isinstance(adjustment, str) and PEC.search(adjustment)):
        return subtotal
    unit_price = typed["unit_price"]
    quantity = typed["billable_quantity"] or typed["quantity"]
    if unit_price is None or quantity is None:
        missing = "UnitPrice" if unit_price is None else "BillableQuantity / Quantity"
        raise SourceDataError(
            f"{layout.path}: line {line} has partner-earned credit ({adjustment!r}) but no "
            f"{missing}; the credit is separated as UnitPrice x BillableQuantity x "
            f"PCToBCExchangeRate minus Subtotal, so both must have a value"
        )
    rate = typed["exchange_rate"] or Decimal(1)
    return unit_price * quantity * rate  # type: ignore[operator]


def check_row(layout: Layout, line: int, record: Record) -> CspRow:
    """Type and map one raw row, or raise naming file, line, field and value."""
    t = _typed(layout, line, record)
    subtotal: Decimal = t["subtotal"]  # type: ignore[assignment]
    start: dt.date = t["charge_start"]  # type: ignore[assignment]
    last: dt.date = t["charge_end"] or start  # type: ignore[assignment]
    if last < start:
        raise _bad(layout, line, "charge_end", record.get("charge_end"),
                   f"on or after ChargeStartDate ({start.isoformat()})")  # fmt: skip
    metered = t["meter_description"] is not None
    category, charge_class = charge_category(str(t["charge_type"]), metered)
    name, is_marketplace = publisher(str(t["publisher_name"] or ""))
    order_date: dt.date | None = t["order_date"]  # type: ignore[assignment]
    gross = _gross(layout, line, t, subtotal)
    quantity = t["billable_quantity"] if t["billable_quantity"] is not None else t["quantity"]
    return CspRow(
        partner=str(t["partner"]),
        customer=str(t["customer"]),
        invoice=str(t["invoice"] or ""),
        charge_type=str(t["charge_type"]),
        category=category,
        charge_class=charge_class,
        frequency=charge_frequency(str(t["billing_frequency"] or ""), metered),
        service=str(t["product_name"] or t["sku_name"] or t["product_id"] or "Microsoft CSP"),
        sku=str(t["sku_name"] or t["sku_id"] or t["product_id"] or ""),
        currency=str(t["currency"]),
        publisher=name,
        is_marketplace=is_marketplace,
        subtotal=subtotal,
        tax=t["tax"] or ZERO,  # type: ignore[arg-type]
        gross=gross,
        pec=subtotal - gross,
        quantity=quantity or ZERO,  # type: ignore[arg-type]
        start=start,
        end=last + ONE_DAY,
        # A cancellation's ChargeStartDate is the original start; its OrderDate is when it
        # was billed. Usage rows carry the Azure plan's old OrderDate; their start is later.
        event=max(start, order_date) if order_date else start,
        key=_key(t),
    )
