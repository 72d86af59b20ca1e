"""A party's free-form address lines read as a structured postal address.

Tenant files give an address as lines ("500 Congress Ave", "Austin, TX 78701",
"United States"); UBL (EN 16931) and Xero's import want street, city, postal code,
region and country apart. The reading is best effort: the last line is the country when
it names one; the first line is the street, the second (of three or more) the
additional street line, the last remaining one "City, Region Postcode" (US style) or
"Postcode City" (European style), and any line in between an address line.

Shared by the ubl renderer and the csv sink, which may not import each other.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Every ISO 3166-1 alpha-2 code currently assigned, to recognise a country line or a
# tax ID's country prefix. A country-data package would be one more dependency for
# a table this size; the names below cover the spellings tenant files commonly use.
_ISO_CODES_TEXT = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN
    BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE
    DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN
    GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE
    KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK
    ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA
    PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK
    SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG
    UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"""
ISO_CODES = frozenset(_ISO_CODES_TEXT.split())
# EN 16931 uses "EL" for Greece in VAT identifiers; it is not an ISO 3166 code.
VAT_PREFIXES = ISO_CODES | {"EL", "XI"}
COUNTRY_NAMES = {
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "u.s.a.": "US",
    "u.s.": "US",
    "canada": "CA",
    "mexico": "MX",
    "brazil": "BR",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "ireland": "IE",
    "germany": "DE",
    "deutschland": "DE",
    "france": "FR",
    "spain": "ES",
    "españa": "ES",
    "portugal": "PT",
    "italy": "IT",
    "italia": "IT",
    "netherlands": "NL",
    "the netherlands": "NL",
    "belgium": "BE",
    "luxembourg": "LU",
    "switzerland": "CH",
    "austria": "AT",
    "österreich": "AT",
    "denmark": "DK",
    "sweden": "SE",
    "norway": "NO",
    "finland": "FI",
    "iceland": "IS",
    "poland": "PL",
    "czech republic": "CZ",
    "czechia": "CZ",
    "greece": "GR",
    "turkey": "TR",
    "israel": "IL",
    "united arab emirates": "AE",
    "saudi arabia": "SA",
    "bahrain": "BH",
    "india": "IN",
    "singapore": "SG",
    "hong kong": "HK",
    "japan": "JP",
    "south korea": "KR",
    "korea": "KR",
    "china": "CN",
    "taiwan": "TW",
    "australia": "AU",
    "new zealand": "NZ",
    "south africa": "ZA",
}
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class PostalAddress:
    """An address in parts; None where the lines did not say."""

    street: str | None = None
    additional_street: str | None = None
    address_lines: tuple[str, ...] = ()
    city: str | None = None
    postal_zone: str | None = None
    region: str | None = None
    country: str | None = None


def country_code(line: str) -> str | None:
    """The ISO 3166 code a line names (``United States``, ``USA``, ``US``), else None."""
    text = line.strip().rstrip(".")
    if text.upper() == text and text in ISO_CODES:
        return text
    return COUNTRY_NAMES.get(text.casefold()) or COUNTRY_NAMES.get(line.strip().casefold())


def tax_id_country(tax_id: str | None) -> str | None:
    """The country prefix of a tax ID (``DE123456789``, ``US 74-1234567``), else None."""
    if not tax_id or len(tax_id) < 3 or not tax_id[:2].isalpha() or not tax_id[:2].isupper():
        return None
    prefix = tax_id[:2]
    return prefix if prefix in VAT_PREFIXES else None


def _city_parts(line: str) -> tuple[str | None, str | None, str | None]:
    """(city, postal zone, region) from "Austin, TX 78701" or "10115 Berlin"."""
    if "," in line:
        city, _, rest = (part.strip() for part in line.rpartition(","))
        # "Austin, TX 78701": the tokens with digits are the ZIP, the others the state.
        tokens = rest.split()
        cut = next((i for i, token in enumerate(tokens) if _DIGIT.search(token)), len(tokens))
        region, postal = " ".join(tokens[:cut]), " ".join(tokens[cut:])
        return city or None, postal or None, region or None
    tokens = line.split()
    cut = next((i for i, token in enumerate(tokens) if not _DIGIT.search(token)), len(tokens))
    postal, city = " ".join(tokens[:cut]), " ".join(tokens[cut:])
    return city or line.strip() or None, postal or None, None


def postal_address(lines: Sequence[str], tax_id: str | None = None) -> PostalAddress:
    """Best-effort structure for ``lines``; the country falls back to the tax ID's prefix."""
    rest = [line.strip() for line in lines if line and line.strip()]
    country = country_code(rest[-1]) if rest else None
    if country:
        rest.pop()
    country = country or tax_id_country(tax_id)
    if not rest:
        return PostalAddress(country=country)
    if len(rest) == 1:
        return PostalAddress(street=rest[0], country=country)
    city, postal, region = _city_parts(rest[-1])
    middle = rest[1:-1]
    return PostalAddress(
        street=rest[0],
        additional_street=middle[0] if middle else None,
        address_lines=tuple(middle[1:]),
        city=city,
        postal_zone=postal,
        region=region,
        country=country,
    )
