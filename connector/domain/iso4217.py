"""The ISO 4217 currency codes money can be written in.

Hand-written rather than read from babel (a dependency of the pdf and html renderers,
not of the core) or pycountry: the core needs only the set of codes, and CLDR's list
also holds withdrawn currencies (DEM, FRF) that no statement may be in. Minor units live
in :mod:`connector.domain.money`, also by hand: babel's digits are CLDR's display
digits, which differ from ISO 4217's for 15 of these codes (see there).
"""

from __future__ import annotations

# Active codes of ISO 4217 list one (2024), with a minor unit: currencies and funds.
_ACTIVE = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL
    BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK
    DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR
    ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD
    LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK
    NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD
    SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD
    USN UYI UYU UYW UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
CURRENCIES = frozenset(_ACTIVE.split())

# ISO 4217 codes with no minor unit ("N.A."): metals, bond units, SDR, test and
# "no currency". Real codes, but no amount of credit or statement total is in them.
_NO_MINOR_UNIT = "XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX"
NOT_MONEY = frozenset(_NO_MINOR_UNIT.split())


def is_currency(code: str) -> bool:
    """Whether ``code`` is an active ISO 4217 currency an amount can be in."""
    return code in CURRENCIES
