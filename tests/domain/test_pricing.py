from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from connector.domain.pricing import PricebookVersion, PriceRule, version_in_force

RULES = [
    PriceRule("markup", D(15)),
    PriceRule("discount", D(5), service="AmazonS3"),
    PriceRule("markup", D(2), service="AmazonS3", sku="TimedStorage"),
    PriceRule("markup", D(30), charge_category="Purchase"),
    PriceRule("markup", D(10), basis="list", service="AmazonRDS"),
]
BOOK = PricebookVersion("b@1", dt.date(2026, 1, 1), RULES)


def test_most_specific_rule_wins() -> None:
    assert BOOK.price("AmazonS3", "S3", "Usage", "TimedStorage", D(100), D(100)) == D(102)
    assert BOOK.price("AmazonS3", "S3", "Usage", "Requests", D(100), D(100)) == D(95)
    assert BOOK.price("AmazonEC2", "EC2", "Usage", "Box", D(100), D(100)) == D(115)
    assert BOOK.price("AmazonEC2", "EC2", "Purchase", "RI", D(100), D(100)) == D(130)


def test_list_price_basis_uses_list_cost() -> None:
    assert BOOK.price("AmazonRDS", "RDS", "Usage", "db", D(80), D(100)) == D(110)


def test_rule_matches_service_category_too() -> None:
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
    old = PricebookVersion("b@jan", dt.date(2026, 1, 1), [])
    new = PricebookVersion("b@nov15", dt.date(2026, 11, 15), [])
    assert version_in_force([old, new], dt.date(2026, 11, 1)) is old
    assert version_in_force([old, new], dt.date(2026, 12, 1)) is new
    assert version_in_force([new], dt.date(2026, 11, 1)) is None
