"""What a Partner Center ``ChargeType`` means in FOCUS terms.

Partner Center spells charge types differently by file and era: new commerce uses
``new``, ``cycleCharge``, ``addQuantity``, ``cancelImmediate``; legacy license files use
``Cycle fee``, ``Cancel fee``, ``Activation fee``. They are compared with case, spaces,
hyphens and underscores removed, so ``Cycle Charge`` and ``cycleCharge`` are one type.
"""

from __future__ import annotations

import logging
import re

from connector.contracts import ChargeCategory
from connector.plugin_kit.charge_types import CORRECTION, ChargeTypes

log = logging.getLogger(__name__)

ONE_TIME, RECURRING, USAGE_BASED = "One-Time", "Recurring", "Usage-Based"

# Charges that buy or extend something: Purchase (Usage when the row is metered).
PURCHASES = frozenset(
    {
        "new",
        "purchase",
        "renew",
        "cyclecharge",
        "cyclefee",
        "addquantity",
        "activationfee",
        "cycleinstanceprorate",
        "convert",
        "proratefeeswhenconverttoanewoffering",
        "usage",
        "usagefees",
    }
)
# Money given back for something billed before: a correcting credit (FOCUS ChargeClass
# "Correction"). Credits are the reseller's to pass on, so they reach reconciliation,
# not the customer's statement, unless the tenant says so.
CORRECTIONS = frozenset(
    {
        "refund",
        "removequantity",
        "cancelimmediate",
        "cancel",
        "cancelfee",
        "cancelinstanceprorate",
        "proratefeeswhencancel",
        "cancelusagefees",
        "offsetalineitem",
        "onetimerefund",
        "proratefeeswhenconvertawayfromcurrentoffering",
    }
)
CREDITS = frozenset({"credit", "customercredit"})
TAXES = frozenset({"tax"})

_SEPARATORS = re.compile(r"[\s_\-]+")
# The sets above decide; a type in none of them is an Adjustment, with a warning.
UNKNOWN_TYPES = ChargeTypes("Partner Center ChargeType", {}, log, effect="shown in reconciliation")


def normalise(charge_type: str) -> str:
    """``Cycle Charge`` / ``cycle_charge`` / ``cycleCharge`` -> ``cyclecharge``."""
    return _SEPARATORS.sub("", charge_type).casefold()


def charge_category(charge_type: str, metered: bool) -> tuple[ChargeCategory, str | None]:
    """FOCUS (ChargeCategory, ChargeClass) for a charge type; ``metered``: usage row."""
    key = normalise(charge_type)
    if key in PURCHASES:
        return (ChargeCategory.USAGE if metered or key.startswith("usage") else
                ChargeCategory.PURCHASE), None  # fmt: skip
    if key in CORRECTIONS:
        return ChargeCategory.CREDIT, CORRECTION
    if key in CREDITS:
        return ChargeCategory.CREDIT, None
    if key in TAXES:
        return ChargeCategory.TAX, None
    return UNKNOWN_TYPES.unknown(charge_type, warn_key=key)


def charge_frequency(billing_frequency: str, metered: bool) -> str:
    """FOCUS ChargeFrequency: metered rows are usage-based, ``OneTime`` billing one-time."""
    if metered:
        return USAGE_BASED
    if normalise(billing_frequency) in {"onetime", "none"}:
        return ONE_TIME
    return RECURRING


MICROSOFT = "Microsoft"
_FIRST_PARTY = frozenset({"", "microsoft", "microsoftcorporation", "microsoftcorp"})


def publisher(publisher_name: str) -> tuple[str, bool]:
    """``(publisher, is_marketplace)``: anyone but Microsoft publishes through the marketplace."""
    name = publisher_name.strip()
    if normalise(name).rstrip(".") in _FIRST_PARTY:
        return MICROSOFT, False
    return name, True
