"""What a CUR line item type means in FOCUS terms, how often it recurs, who published it."""

from __future__ import annotations

import logging

from connector.contracts import ChargeCategory
from connector.plugin_kit.charge_types import ChargeTypes

log = logging.getLogger(__name__)

# lineItem/LineItemType by FOCUS ChargeCategory. A refund gives back money billed in an
# earlier period: FOCUS calls that a correction of a credit, so it reaches reconciliation
# rather than usage. AWS adds types from time to time: an unknown one is an Adjustment
# (not priced), with a warning.
LINE_ITEM_TYPES = ChargeTypes.by_category(
    "AWS CUR line item type",
    {
        ChargeCategory.USAGE: ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage"),
        ChargeCategory.PURCHASE: ("RIFee", "Fee", "SavingsPlanRecurringFee",
                                  "SavingsPlanUpfrontFee"),
        ChargeCategory.TAX: ("Tax",),
        ChargeCategory.CREDIT: ("Credit",),
        ChargeCategory.ADJUSTMENT: ("SavingsPlanNegation", "BundledDiscount", "EdpDiscount",
                                    "PrivateRateDiscount", "Discount"),
    },
    log,
    corrections=("Refund",),
)  # fmt: skip

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


def charge_category(line_item_type: str) -> tuple[ChargeCategory, str | None]:
    """FOCUS (ChargeCategory, ChargeClass) for a CUR line item type (legacy or CUR 2.0).

    Unknown types map to ``Adjustment`` with a one-time warning per type.
    """
    return LINE_ITEM_TYPES.category(line_item_type)


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
