"""What a legacy CUR ``lineItem/LineItemType`` means in FOCUS terms, and who published it."""

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

MARKETPLACE_BILLING_ENTITY = "AWS Marketplace"
AWS_PUBLISHER = "Amazon Web Services"

_warned: set[str] = set()


def charge_category(line_item_type: str) -> tuple[ChargeCategory, str | None]:
    """FOCUS (ChargeCategory, ChargeClass) for a legacy CUR line item type.

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
