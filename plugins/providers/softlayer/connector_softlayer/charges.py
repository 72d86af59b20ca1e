"""What a SoftLayer invoice item's fees mean in FOCUS terms, aggregated to canonical charges."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal

from connector.contracts import BillingPeriod, CanonicalCharge, ChargeCategory, checked_charges
from connector_softlayer.records import Fee, Invoice, Item

log = logging.getLogger(__name__)

PUBLISHER = "IBM"
CORRECTION = "Correction"
ONE_TIME = "One-Time"
RECURRING = "Recurring"
USAGE_BASED = "Usage-Based"

#: Invoices that bill: recurring fees are usage of the period, the rest are purchases.
BILLING_TYPES = frozenset({"RECURRING", "NEW", "ONE-TIME-CHARGE"})
#: Invoices that give money back: (ChargeClass) for their Credit charges.
CREDIT_TYPES: dict[str, str | None] = {"CREDIT": None, "REFUND": CORRECTION}

_warned: set[str] = set()


def _frequency(fee: Fee, item: Item) -> str:
    if fee.kind != "recurring":
        return ONE_TIME
    return USAGE_BASED if item.hourly else RECURRING


def _category(invoice: Invoice, fee: Fee) -> tuple[ChargeCategory, str | None]:
    if invoice.type_code in CREDIT_TYPES:
        return ChargeCategory.CREDIT, CREDIT_TYPES[invoice.type_code]
    if invoice.type_code in BILLING_TYPES:
        usage = fee.kind == "recurring"
        return (ChargeCategory.USAGE if usage else ChargeCategory.PURCHASE), None
    if invoice.type_code not in _warned:
        _warned.add(invoice.type_code)
        log.warning(
            "SoftLayer invoice type %r is unknown to this version; its fees are treated as "
            "Adjustments (not priced, shown in reconciliation)",
            invoice.type_code,
        )
    return ChargeCategory.ADJUSTMENT, None


def _signed(invoice: Invoice, value: Decimal) -> Decimal:
    # Credits and refunds lower what the reseller owes. Whether an account's API writes
    # their amounts signed or unsigned, a credit is negative in FOCUS.
    return -abs(value) if invoice.type_code in CREDIT_TYPES else value


def item_charges(
    invoice: Invoice,
    item: Item,
    account_id: str,
    currency: str,
    period: BillingPeriod,
) -> list[CanonicalCharge]:
    """One charge per non-zero fee of ``item`` and one Tax charge per non-zero tax.

    An item whose fees are all zero still gives one zero recurring charge, so that every
    invoice item stays visible in the detailed CSV.
    """

    def charge(
        category: ChargeCategory, cost: Decimal, frequency: str, charge_class: str | None, kind: str
    ) -> CanonicalCharge:
        return CanonicalCharge(
            billing_account_id=account_id,
            sub_account_id=account_id,
            charge_category=category,
            service_name=item.category,
            service_category=item.product,
            sku=item.sku,
            billed_cost=cost,
            list_cost=cost,  # invoices carry no list price
            billing_currency=currency,
            charge_period_start=period.start,
            charge_period_end=period.end,
            quantity=Decimal(0) if category is ChargeCategory.TAX else Decimal(1),
            charge_class=charge_class,
            publisher=PUBLISHER,
            invoice_id=invoice.id,
            line_item_type=f"{invoice.type_code} {kind}",
            charge_frequency=frequency,
        )

    charges = []
    for fee in item.fees:
        frequency = _frequency(fee, item)
        if fee.amount:
            category, charge_class = _category(invoice, fee)
            cost = _signed(invoice, fee.amount)
            charges.append(charge(category, cost, frequency, charge_class, f"{fee.kind}Fee"))
        if fee.tax:
            # The provider's tax is the reseller's cost, for reconciliation only.
            cost = _signed(invoice, fee.tax)
            charges.append(
                charge(ChargeCategory.TAX, cost, frequency, None, f"{fee.kind}TaxAmount")
            )
    if not charges:
        recurring = item.fees[0]
        category, charge_class = _category(invoice, recurring)
        frequency = _frequency(recurring, item)
        charges.append(charge(category, Decimal(0), frequency, charge_class, "recurringFee"))
    # The API's text is checked where it enters, as the file providers check theirs.
    return checked_charges(charges, lambda name, _value: _text_origin(invoice, item, name))


# Charge field -> the API property of an invoice item it comes from (see records).
TEXT_SOURCES = {
    "service_name": "category.name",
    "service_category": "the top-level item's category.name",
    "sku": "categoryCode",
    "invoice_id": "the invoice id",
}


def _text_origin(invoice: Invoice, item: Item, field_name: str) -> str:
    source = TEXT_SOURCES.get(field_name, field_name)
    return f"SoftLayer invoice {invoice.id}, item {item.id}, {source}"


def _grain(charge: CanonicalCharge) -> CanonicalCharge:
    return dataclasses.replace(
        charge, billed_cost=Decimal(0), list_cost=Decimal(0), quantity=Decimal(0)
    )


def aggregate(charges: Iterable[CanonicalCharge]) -> list[CanonicalCharge]:
    """Charges with the same fields but amounts summed exactly, in a stable order."""
    sums: dict[CanonicalCharge, CanonicalCharge] = {}
    for charge in charges:
        key = _grain(charge)
        seen = sums.get(key)
        sums[key] = (
            charge
            if seen is None
            else dataclasses.replace(
                seen,
                billed_cost=seen.billed_cost + charge.billed_cost,
                list_cost=seen.list_cost + charge.list_cost,
                quantity=seen.quantity + charge.quantity,
            )
        )
    return sorted(sums.values(), key=_order)


def _order(charge: CanonicalCharge) -> tuple[str, ...]:
    return (
        charge.invoice_id or "",
        charge.charge_category.value,
        charge.service_category,
        charge.service_name,
        charge.sku,
        charge.line_item_type,
        charge.charge_frequency or "",
    )


def period_charges(
    invoices: Sequence[tuple[Invoice, Sequence[Item]]],
    account_id: str,
    currency: str,
    period: BillingPeriod,
) -> list[CanonicalCharge]:
    """Every item of every invoice of ``period``, aggregated."""
    return aggregate(
        charge
        for invoice, items in invoices
        for item in items
        for charge in item_charges(invoice, item, account_id, currency, period)
    )
