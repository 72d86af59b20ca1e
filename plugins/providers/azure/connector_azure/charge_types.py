"""What an Azure ``ChargeType`` means in FOCUS terms, and who published a charge."""

from __future__ import annotations

import logging

from connector.contracts import ChargeCategory
from connector.plugin_kit.charge_types import ChargeTypes

log = logging.getLogger(__name__)

# ChargeType by FOCUS ChargeCategory, matched case-insensitively. A refund gives back
# money billed before: a correcting credit, for reconciliation. Unknown types are
# Adjustments (not priced), with a warning asking to extend the table.
CHARGE_TYPES = ChargeTypes.by_category(
    "Azure ChargeType",
    {
        ChargeCategory.USAGE: ("usage",),
        ChargeCategory.PURCHASE: ("purchase",),
        ChargeCategory.TAX: ("tax",),
        ChargeCategory.ADJUSTMENT: ("roundingadjustment", "unusedreservation", "unusedsavingsplan"),
    },
    log,
    corrections=("refund",),
    key=lambda name: name.strip().casefold(),
)

MARKETPLACE = "marketplace"
MICROSOFT = "Microsoft"
#: Where Azure's third-party products are bought: heads their statement lines.
AZURE_MARKETPLACE = "Azure Marketplace"


def charge_category(charge_type: str) -> tuple[ChargeCategory, str | None]:
    """FOCUS (ChargeCategory, ChargeClass) for an Azure charge type."""
    return CHARGE_TYPES.category(charge_type)


def publisher(publisher_type: str | None, publisher_name: str | None) -> tuple[str, bool]:
    """``(publisher, is_marketplace)``: Marketplace rows pass through with their publisher."""
    if (publisher_type or "").strip().casefold() == MARKETPLACE:
        return (publisher_name or "").strip() or AZURE_MARKETPLACE, True
    return MICROSOFT, False
