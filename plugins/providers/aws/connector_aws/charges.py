"""Aggregated CUR groups -> canonical charges."""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from connector.contracts import CanonicalCharge
from connector_aws.line_items import charge_category, publisher


def context_fields(context: tuple) -> dict[str, Any]:
    """The CanonicalCharge fields fixed by one context of ``CurAggregate.charge_rows``."""
    (payer, line_item_type, product_code, product_name, billing_entity, legal_entity,
     currency, invoice_id) = context
    category, charge_class = charge_category(line_item_type)
    publisher_name, is_marketplace = publisher(billing_entity, legal_entity, product_name)
    return {
        "billing_account_id": payer,
        "charge_category": category,
        "charge_class": charge_class,
        "service_name": product_code or "",
        "service_category": product_name or product_code or "",
        "billing_currency": currency,
        "publisher": publisher_name,
        "is_marketplace": is_marketplace,
        "invoice_id": (invoice_id or "").strip() or None,
        "line_item_type": line_item_type,
    }


def to_charges(contexts: Sequence[tuple], rows: Iterable[tuple]) -> list[CanonicalCharge]:
    """One :class:`CanonicalCharge` per row of ``CurAggregate.charge_rows``.

    This loop runs once per group (hundreds of thousands for a large reseller): all that
    varies per row is the account, usage type, amounts and dates.
    """
    shared = [context_fields(context) for context in contexts]
    decimal = Decimal
    return [
        CanonicalCharge(
            sub_account_id=account,
            sku=usage_type or "",
            billed_cost=decimal(billed),
            list_cost=decimal(listed),
            quantity=decimal(quantity),
            charge_period_start=first_day,
            charge_period_end=last_day,
            **shared[context],
        )
        for context, account, usage_type, billed, listed, quantity, first_day, last_day in rows
    ]


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while hundreds of thousands of charges are built.

    None of these objects form cycles, yet every allocation counts toward a collection,
    and the full collections walk the growing list again and again: pausing saves about a
    third of the time spent building. Restores the collector's previous state.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
