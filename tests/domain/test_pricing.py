"""Pricebook rules: the most specific rule wins; markup or discount on cost or list price.

Every expected price is worked out by hand in the test's docstring.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from connector.domain.pricing import PricebookVersion, PriceRule, version_in_force

RULES = [
    PriceRule("markup", D(15)),  # specificity 0: every charge
    PriceRule("discount", D(5), service="AmazonS3"),  # 2: a service
    PriceRule("markup", D(2), service="AmazonS3", sku="TimedStorage"),  # 6: service + SKU
    PriceRule("markup", D(30), charge_category="Purchase"),  # 1: a charge category
    PriceRule("markup", D(10), basis="list", service="AmazonRDS"),  # 2: on list price
]
BOOK = PricebookVersion("b@1", dt.date(2026, 1, 1), RULES)


def test_most_specific_rule_wins() -> None:
    """Cost 100.00 each (list 100.00):
    S3 TimedStorage: service + SKU rule beats the service rule: 100 x 1.02 = 102
    S3 Requests:     only the service rule and the catch-all match: 100 x 0.95 = 95
    EC2 usage:       only the catch-all: 100 x 1.15 = 115
    EC2 Purchase:    the charge-category rule beats the catch-all: 100 x 1.30 = 130"""
    assert BOOK.price("AmazonS3", "S3", "Usage", "TimedStorage", D(100), D(100)) == D(102)
    assert BOOK.price("AmazonS3", "S3", "Usage", "Requests", D(100), D(100)) == D(95)
    assert BOOK.price("AmazonEC2", "EC2", "Usage", "Box", D(100), D(100)) == D(115)
    assert BOOK.price("AmazonEC2", "EC2", "Purchase", "RI", D(100), D(100)) == D(130)


def test_a_service_rule_beats_a_charge_category_rule() -> None:
    """An S3 Purchase matches the S3 rule (specificity 2) and the Purchase rule (1):
    the service rule wins, 200.00 x 0.95 = 190.00, not 200.00 x 1.30 = 260.00."""
    assert BOOK.price("AmazonS3", "S3", "Purchase", "Upfront", D(200), D(200)) == D(190)


def test_among_equally_specific_rules_the_first_listed_wins() -> None:
    """Two rules for EC2 (both specificity 2): the first, + 10 %, gives 50.00 x 1.10 =
    55.00; the second (- 10 %: 45.00) is not used."""
    book = PricebookVersion("b", dt.date(2026, 1, 1), [
        PriceRule("markup", D(10), service="AmazonEC2"),
        PriceRule("discount", D(10), service="AmazonEC2"),
    ])  # fmt: skip
    assert book.price("AmazonEC2", "EC2", "Usage", "Box", D(50), D(60)) == D("55.00")


def test_list_price_basis_uses_list_cost() -> None:
    """RDS is marked up 10 % on its list price: cost 80.00, list 100.00 gives
    100.00 x 1.10 = 110.00 (on cost it would have been 88.00)."""
    assert BOOK.price("AmazonRDS", "RDS", "Usage", "db", D(80), D(100)) == D(110)


def test_a_discount_off_list_price() -> None:
    """A reseller passing on part of a negotiated rate: list 250.00 less 20 % is
    250.00 x 0.80 = 200.00, whatever the reseller's own cost (180.00)."""
    book = PricebookVersion("b", dt.date(2026, 1, 1), [PriceRule("discount", D(20), basis="list")])
    assert book.price("AmazonEC2", "EC2", "Usage", "Box", D(180), D(250)) == D("200.00")


def test_prices_keep_full_precision() -> None:
    """Cost 0.1234567891 + 15 % = 0.1234567891 x 1.15 = 0.141975307465, unrounded
    (lines are rounded once, after summing)."""
    book = PricebookVersion("b", dt.date(2026, 1, 1), [PriceRule("markup", D(15))])
    price = book.price("AmazonEC2", "EC2", "Usage", "Box", D("0.1234567891"), D(1))
    assert price == D("0.141975307465")


def test_rule_matches_service_category_too() -> None:
    """A rule naming the service category matches: 10.00 - 50 % = 5.00."""
    book = PricebookVersion(
        "b",
        dt.date(2026, 1, 1),
        [PriceRule("discount", D(50), service="Amazon Simple Storage Service")],
    )
    assert book.price("AmazonS3", "Amazon Simple Storage Service", "Usage", "x", D(10), D(10)) == D(
        5
    )


def test_no_rule_keeps_cost() -> None:
    empty = PricebookVersion("e", dt.date(2026, 1, 1), [])
    assert empty.price("X", "X", "Usage", "s", D("1.23"), D(2)) == D("1.23")


def test_version_in_force_never_applies_a_change_made_mid_period() -> None:
    """A version applies to a period when effective on or before its first day."""
    old = PricebookVersion("b@jan", dt.date(2026, 1, 1), [])
    new = PricebookVersion("b@nov15", dt.date(2026, 11, 15), [])
    first = PricebookVersion("b@nov1", dt.date(2026, 11, 1), [])
    assert version_in_force([old, new], dt.date(2026, 11, 1)) is old
    assert version_in_force([old, new], dt.date(2026, 12, 1)) is new
    assert version_in_force([new], dt.date(2026, 11, 1)) is None
    assert version_in_force([old, first, new], dt.date(2026, 11, 1)) is first
