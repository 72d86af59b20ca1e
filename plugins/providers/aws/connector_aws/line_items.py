"""What a CUR line item type means in FOCUS terms, how often it recurs, who published it."""

from __future__ import annotations

import logging

from connector.contracts import ChargeCategory

log = logging.getLogger(__name__)

CORRECTION = "Correction"

# lineItem/LineItemType -> (FOCUS ChargeCategory, FOCUS ChargeClass).
CHARGE_CATEGORIES: dict[str, tuple[ChargeCategory, str | None]] = {
    "Usage": (ChargeCategory.USAGE, None),
    "DiscountedUsage": (ChargeCategory.USAGE, None),
    "SavingsPlanCoveredUsage": (ChargeCategory.USAGE, None),
    "RIFee": (ChargeCategory.PURCHASE, None),
    "Fee": (ChargeCategory.PURCHASE, None),
    "SavingsPlanRecurringFee": (ChargeCategory.PURCHASE, None),
    "SavingsPlanUpfrontFee": (ChargeCategory.PURCHASE, None),
    "Tax": (ChargeCategory.TAX, None),
    "Credit": (ChargeCategory.CREDIT, None),
    # A refund gives back money billed in an earlier period: FOCUS calls that a
    # correction of a credit, so it reaches reconciliation rather than usage.
    "Refund": (ChargeCategory.CREDIT, CORRECTION),
    "SavingsPlanNegation": (ChargeCategory.ADJUSTMENT, None),
    "BundledDiscount": (ChargeCategory.ADJUSTMENT, None),
    "EdpDiscount": (ChargeCategory.ADJUSTMENT, None),
    "PrivateRateDiscount": (ChargeCategory.ADJUSTMENT, None),
    "Discount": (ChargeCategory.ADJUSTMENT, None),
}

# AWS adds line item types from time to time. An unknown one is neither usage a customer
# should be marked up on nor a purchase: Adjustment keeps it visible in reconciliation
# without pricing it, and a warning tells the operator to extend the table above.
UNKNOWN_LINE_ITEM_TYPE = (ChargeCategory.ADJUSTMENT, None)

# FOCUS ChargeFrequency values.
ONE_TIME = "One-Time"
RECURRING = "Recurring"
USAGE_BASED = "Usage-Based"

# lineItem/LineItemType -> FOCUS ChargeFrequency, for every type but Fee (see below).
# Discounts, negations and tax follow the usage they apply to; a credit or refund is a
# single grant, not a commitment.
CHARGE_FREQUENCIES: dict[str, str] = {
    "Usage": USAGE_BASED,
    "DiscountedUsage": USAGE_BASED,
    "SavingsPlanCoveredUsage": USAGE_BASED,
    "SavingsPlanNegation": USAGE_BASED,
    "BundledDiscount": USAGE_BASED,
    "EdpDiscount": USAGE_BASED,
    "PrivateRateDiscount": USAGE_BASED,
    "Discount": USAGE_BASED,
    "Tax": USAGE_BASED,
    # The monthly fee of a reservation / savings plan, billed whether used or not.
    "RIFee": RECURRING,
    "SavingsPlanRecurringFee": RECURRING,
    # The upfront payment for an All/Partial Upfront savings plan.
    "SavingsPlanUpfrontFee": ONE_TIME,
    "Credit": ONE_TIME,
    "Refund": ONE_TIME,
}
# The upfront payment for a reserved instance is a "Fee" line whose usage type is the
# reservation's ("HeavyUsage:m5.large", "APS2-HeavyUsage:c5.xlarge") and that names the
# reservation in reservation/ReservationARN.
RESERVATION_USAGE_TYPE_MARK = "HeavyUsage"

MARKETPLACE_BILLING_ENTITY = "AWS Marketplace"
AWS_PUBLISHER = "Amazon Web Services"

_warned: set[str] = set()


def charge_category(line_item_type: str) -> tuple[ChargeCategory, str | None]:
    """FOCUS (ChargeCategory, ChargeClass) for a CUR line item type (legacy or CUR 2.0).

    Unknown types map to ``Adjustment`` with a one-time warning per type.
    """
    mapped = CHARGE_CATEGORIES.get(line_item_type)
    if mapped is not None:
        return mapped
    if line_item_type not in _warned:
        _warned.add(line_item_type)
        log.warning(
            "AWS CUR line item type %r is unknown to this version; it is treated as an "
            "Adjustment (not priced, shown in reconciliation)",
            line_item_type,
        )
    return UNKNOWN_LINE_ITEM_TYPE


def charge_frequency(
    line_item_type: str, usage_type: str | None, reservation_fee: bool
) -> str | None:
    """FOCUS ChargeFrequency of a line item type.

    A ``Fee`` is ``One-Time`` when it buys a reservation upfront (``reservation_fee``: it
    names a reservation ARN, or its usage type is a reservation's ``HeavyUsage``). Other
    fees (a support plan's monthly fee, a domain registration, a Marketplace annual
    subscription) are not told apart by the CUR: their frequency is ``None`` (unknown),
    so that the tenant's "AWS RI purchase: immediately" never bills them early as if they
    were reservation purchases. Unknown line item types are ``None`` as well.
    """
    if line_item_type == "Fee":
        if reservation_fee or RESERVATION_USAGE_TYPE_MARK in (usage_type or ""):
            return ONE_TIME
        return None
    return CHARGE_FREQUENCIES.get(line_item_type)


def publisher(
    billing_entity: str | None, legal_entity: str | None, product_name: str | None
) -> tuple[str, bool]:
    """``(publisher, is_marketplace)`` for one charge.

    AWS Marketplace rows are billed by AWS on behalf of the seller, named in
    ``lineItem/LegalEntity`` (falling back to the product's name when a report omits it);
    everything else is published by AWS itself.
    """
    if billing_entity == MARKETPLACE_BILLING_ENTITY:
        return legal_entity or product_name or MARKETPLACE_BILLING_ENTITY, True
    return legal_entity or AWS_PUBLISHER, False
