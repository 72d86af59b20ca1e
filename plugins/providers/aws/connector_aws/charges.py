"""Aggregated CUR groups -> a table of canonical charges."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal

from connector.contracts import CHARGE_CONTEXT_FIELDS, CanonicalCharge, ChargeTable
from connector.frozen import unfrozen_twin
from connector_aws.line_items import charge_category, charge_frequency, publisher

# Fields of CanonicalCharge that one context fixes, in the order context_fields gives.
CONTEXT_FIELDS = CHARGE_CONTEXT_FIELDS
# Fields that vary per row.
ROW_FIELDS = (
    "sub_account_id",
    "billed_cost",
    "list_cost",
    "quantity",
    "charge_period_start",
    "charge_period_end",
)


def context_fields(context: tuple) -> tuple:
    """The :data:`CONTEXT_FIELDS` values of one context of ``CurAggregate.charge_rows``."""
    (
        payer,
        line_item_type,
        product_code,
        product_name,
        usage_type,
        billing_entity,
        legal_entity,
        currency,
        invoice_id,
        reservation_fee,
    ) = context
    category, charge_class = charge_category(line_item_type)
    publisher_name, is_marketplace = publisher(billing_entity, legal_entity, product_name)
    return (
        payer,
        category,
        charge_class,
        product_code or "",
        product_name or product_code or "",
        usage_type or "",
        currency,
        publisher_name,
        is_marketplace,
        (invoice_id or "").strip() or None,
        line_item_type,
        charge_frequency(line_item_type, usage_type, bool(reservation_fee)),
    )


class CurCharges(ChargeTable):
    """A period's charges as ``CurAggregate.charge_rows`` fetched them: the core stores
    the table as it is; read as a sequence, the charges are made here, through
    CanonicalCharge's unfrozen twin when it can be used."""

    __slots__ = ()

    def __iter__(self) -> Iterator[CanonicalCharge]:
        if UNFROZEN is not None:
            made = _build_unfrozen(self.contexts, self.accounts, self.dates, self.rows, UNFROZEN)
        else:
            made = _build_through_init(self.contexts, self.accounts, self.dates, self.rows)
        return iter(made)


def charge_table(
    contexts: Sequence[tuple],
    accounts: Sequence[str],
    dates: Mapping[int, dt.date],
    rows: Sequence[tuple],
) -> CurCharges:
    """The charges of ``CurAggregate.charge_rows``: each context's fields are worked out
    once, and each row is kept as fetched (account, amounts as text and dates by number):
    this runs for hundreds of thousands of groups of a large reseller."""
    return CurCharges([context_fields(context) for context in contexts], accounts, dates, rows)


def _build_through_init(
    shared: Sequence[tuple],
    accounts: Sequence[str],
    days: Mapping[int, dt.date],
    rows: Iterable[tuple],
) -> list[CanonicalCharge]:
    decimal = Decimal
    return [
        CanonicalCharge(
            sub_account_id=accounts[account],
            billed_cost=decimal(billed),
            list_cost=decimal(listed),
            quantity=decimal(quantity),
            charge_period_start=days[first_day],
            charge_period_end=days[last_day],
            **dict(zip(CONTEXT_FIELDS, shared[context], strict=True)),
        )
        for context, account, billed, listed, quantity, first_day, last_day in rows
    ]


def _unfrozen_twin() -> type | None:
    """CanonicalCharge's plain twin (see :mod:`connector.frozen`), if it has exactly the
    fields set here; otherwise ``None`` and charges are built through ``__init__``.

    CanonicalCharge's ``__init__`` costs about 4 µs per charge, a tenth of a whole
    5M-row ingest; through the twin it costs a sixth of that.
    """
    names = set(ROW_FIELDS + CONTEXT_FIELDS)
    if {f.name for f in dataclasses.fields(CanonicalCharge)} != names:
        return None
    return unfrozen_twin(CanonicalCharge)


UNFROZEN = _unfrozen_twin()


def _build_unfrozen(
    shared: Sequence[tuple],
    accounts: Sequence[str],
    days: Mapping[int, dt.date],
    rows: Iterable[tuple],
    twin: type,
) -> list[CanonicalCharge]:
    new = object.__new__
    decimal = Decimal
    frozen = CanonicalCharge
    charges: list[CanonicalCharge] = []
    append = charges.append
    for context, account, billed, listed, quantity, first_day, last_day in rows:
        charge = new(twin)
        (
            charge.billing_account_id,
            charge.charge_category,
            charge.charge_class,
            charge.service_name,
            charge.service_category,
            charge.sku,
            charge.billing_currency,
            charge.publisher,
            charge.is_marketplace,
            charge.invoice_id,
            charge.line_item_type,
            charge.charge_frequency,
        ) = shared[context]
        charge.sub_account_id = accounts[account]
        charge.billed_cost = billed_cost = decimal(billed)
        # Unless AWS published an on-demand price, the list cost is the billed cost.
        charge.list_cost = billed_cost if listed == billed else decimal(listed)
        charge.quantity = decimal(quantity)
        charge.charge_period_start = days[first_day]
        charge.charge_period_end = days[last_day]
        charge.__class__ = frozen
        append(charge)
    return charges
