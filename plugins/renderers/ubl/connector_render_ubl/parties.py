"""A :class:`Party`'s free-form address lines read as a UBL postal address.

Tenant files give an address as lines ("500 Congress Ave", "Austin, TX 78701",
"United States"); EN 16931 wants street, city, postal code, region and an ISO 3166
country code (BT-40/BT-55, mandatory in Peppol). The reading is best effort and
documented in the README: the last line is the country when it names one; the first
line is the street, the second (of three or more) the additional street line, the
last remaining one "City, Region Postcode" (US style) or "Postcode City" (European
style), and any line in between an address line (BT-162/BT-163).
"""

from __future__ import annotations

# The reading lives in the plugin kit (the csv sink's Xero file needs it too); these
# names stay importable from here.
from connector.plugin_kit.addresses import (
    COUNTRY_NAMES,
    ISO_CODES,
    PostalAddress,
    country_code,
    postal_address,
    tax_id_country,
)

__all__ = [
    "COUNTRY_NAMES",
    "ISO_CODES",
    "PostalAddress",
    "country_code",
    "is_vat_identifier",
    "postal_address",
    "tax_id_country",
]


def is_vat_identifier(tax_id: str | None) -> bool:
    """True when ``tax_id`` has the country prefix BR-CO-09 asks of a VAT identifier."""
    return tax_id_country(tax_id) is not None
