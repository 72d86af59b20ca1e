"""What an Azure ``ChargeType`` means in FOCUS terms, and who published a charge."""

from __future__ import annotations

import logging

from connector.contracts import ChargeCategory

log = logging.getLogger(__name__)

CORRECTION = "Correction"

# ChargeType -> (FOCUS ChargeCategory, FOCUS ChargeClass), matched case-insensitively.
CHARGE_CATEGORIES: dict[str, tuple[ChargeCategory, str | None]] = {
    "usage": (ChargeCategory.USAGE, None),
    "purchase": (ChargeCategory.PURCHASE, None),
    # A refund gives back money billed before: a correcting credit, for reconciliation.
    "refund": (ChargeCategory.CREDIT, CORRECTION),
    "tax": (ChargeCategory.TAX, None),
    "roundingadjustment": (ChargeCategory.ADJUSTMENT, None),
    "unusedreservation": (ChargeCategory.ADJUSTMENT, None),
    "unusedsavingsplan": (ChargeCategory.ADJUSTMENT, None),
}
# Unknown types are neither usage to mark up nor a purchase: Adjustment keeps them visible
# in reconciliation without pricing them, and a warning asks to extend the table.
UNKNOWN_CHARGE_TYPE = (ChargeCategory.ADJUSTMENT, None)

MARKETPLACE = "marketplace"
MICROSOFT = "Microsoft"
#: Where Azure's third-party products are bought: heads their statement lines.
AZURE_MARKETPLACE = "Azure Marketplace"

_warned: set[str] = set()


def charge_category(charge_type: str) -> tuple[ChargeCategory, str | None]:
    """FOCUS (ChargeCategory, ChargeClass) for an Azure charge type."""
    mapped = CHARGE_CATEGORIES.get(charge_type.strip().casefold())
    if mapped is not None:
        return mapped
    if charge_type not in _warned:
        _warned.add(charge_type)
        log.warning(
            "Azure ChargeType %r is unknown to this version; it is treated as an Adjustment "
            "(not priced, shown in reconciliation)",
            charge_type,
        )
    return UNKNOWN_CHARGE_TYPE


def publisher(publisher_type: str | None, publisher_name: str | None) -> tuple[str, bool]:
    """``(publisher, is_marketplace)``: Marketplace rows pass through with their publisher."""
    if (publisher_type or "").strip().casefold() == MARKETPLACE:
        return (publisher_name or "").strip() or AZURE_MARKETPLACE, True
    return MICROSOFT, False
