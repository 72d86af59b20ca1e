"""Building a statement: pricing, grouping, rounding, marketplace, tax (hand-computed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from connector.domain.pricing import PricebookVersion, PriceRule
from connector.domain.statement import (
    CustomerCharge,
    MarketplaceTerms,
    StatementOptions,
    build_statement,
)
from connector.domain.totals import Adjustments, SupportTerms


def charge(
    cost: str,
    service: str = "AmazonEC2",
    category: str = "Amazon EC2",
    sku: str = "BoxUsage",
    account: str = "111",
    marketplace: bool = False,
    kind: str = "Usage",
    list_cost: str | None = None,
) -> CustomerCharge:
    return CustomerCharge(
        account_id=account,
        service_name=service,
        service_category=category,
        sku=sku,
        line_item_type=kind,
        charge_category=kind,
        is_marketplace=marketplace,
        cost=D(cost),
        list_cost=D(list_cost or cost),
        quantity=D(1),
    )


MARKUP_15 = PricebookVersion("book@2026-01-01", dt.date(2026, 1, 1), [PriceRule("markup", D(15))])


def test_lines_are_rounded_once_per_service_category_from_full_precision() -> None:
    # 0.004 + 0.004 = 0.008 -> 0.01 on the line; rounding each row would give 0.00.
    built = build_statement(
        [charge("0.004"), charge("0.004", sku="EBS")], None, StatementOptions("USD")
    )
    assert [line.amount for line in built.lines] == [D("0.01")]
    assert built.total == D("0.01")


def test_rounding_adjustment_makes_lines_add_up_to_the_rounded_exact_total() -> None:
    charges = [
        charge("1.005", category="A"),
        charge("1.005", category="B"),
        charge("1.005", category="C"),
    ]
    # lines: 1.01 each (half-up) = 3.03; exact 3.015 -> 3.02; adjustment -0.01
    with_adj = build_statement(
        charges, None, StatementOptions("USD", add_rounding_adjustments=True)
    )
    assert [(line.kind, line.amount) for line in with_adj.lines][-1] == ("rounding", D("-0.01"))
    assert with_adj.total == D("3.02") == sum(line.amount for line in with_adj.lines)
    without = build_statement(charges, None, StatementOptions("USD"))
    assert without.total == D("3.03") == sum(line.amount for line in without.lines)


def test_markup_applies_to_services_and_marketplace_passes_through_at_cost() -> None:
    """Pricebook: + 15 % on everything.
    EC2 cost 100.00            -> 100.00 x 1.15 = 115.00
    Marketplace Foxit 40.00    -> at cost, 40.00 (not 40.00 x 1.15 = 46.00)
    Marketplace Alert Logic 0  -> a free trial, still shown at 0.00
    total 115.00 + 40.00 + 0.00 = 155.00 (no tax configured)"""
    built = build_statement(
        [
            charge("100"),
            charge("40", service="prod-x", category="Foxit", marketplace=True),
            charge("0", service="prod-y", category="Alert Logic", marketplace=True),
        ],
        MARKUP_15,
        # The marketplace is the provider plugin's to name (the aws plugin's here).
        StatementOptions("USD", marketplace=MarketplaceTerms("AWS Marketplace")),
    )
    amounts = {(line.kind, line.description): line.amount for line in built.lines}
    assert amounts[("service", "Amazon EC2")] == D("115.00")
    assert amounts[("marketplace", "AWS Marketplace: Foxit")] == D("40.00")
    # a free-trial marketplace line stays visible at 0.00
    assert amounts[("marketplace", "AWS Marketplace: Alert Logic")] == D("0.00")
    assert built.total == D("155.00")


def test_tax_is_on_non_marketplace_lines_only() -> None:
    """No pricebook (at cost): EC2 100.00, Marketplace Foxit 40.00.
    tax = 8.25 % x 100.00 = 8.25 (on 140.00 it would be 11.55)
    subtotal = 100.00 + 40.00 = 140.00; total = 140.00 + 8.25 = 148.25"""
    built = build_statement(
        [charge("100"), charge("40", category="Foxit", marketplace=True)],
        None,
        StatementOptions("USD", adjustments=Adjustments(tax_name="Sales", tax_rate=D("0.0825"))),
    )
    assert built.tax == D("8.25")
    assert built.subtotal == D("140.00")
    assert built.total == D("148.25")
    assert built.lines[-1].description == "Sales (8.25%)"


def test_marketplace_stays_outside_markup_discount_support_and_tax() -> None:
    """Pricebook + 15 %, global discount 10 %, support 5 % (minimum 20.00), tax 8.25 %;
    EC2 cost 1,000.00 and Marketplace Foxit 40.00.
      S = 1,000.00 x 1.15 = 1,150.00
      D = 10 % x 1,150.00 = 115.00
      P = max(5 % x (1,150.00 - 115.00) = 51.75, 20.00) = 51.75
      B = 1,150.00 - 115.00 + 51.75 = 1,086.75
      tax = 8.25 % x 1,086.75 = 89.656875 -> 89.66
      M = 40.00 at cost, in none of the above
      total = 1,086.75 + 89.66 + 40.00 = 1,216.41"""
    adjustments = Adjustments(
        discount_percent=D(10),
        support=SupportTerms([(None, D(5))], minimum_fee=D(20)),
        tax_name="Sales",
        tax_rate=D("0.0825"),
    )
    built = build_statement(
        [charge("1000"), charge("40", service="prod-x", category="Foxit", marketplace=True)],
        MARKUP_15,
        StatementOptions("USD", adjustments=adjustments),
    )
    assert [(line.kind, line.amount) for line in built.lines] == [
        ("service", D("1150.00")),
        ("marketplace", D("40.00")),
        ("discount", D("-115.00")),
        ("support", D("51.75")),
        ("tax", D("89.66")),
    ]
    assert built.tax == D("89.66")
    assert built.total == D("1216.41") == sum(line.amount for line in built.lines)


def test_marketplace_left_out_when_not_included() -> None:
    built = build_statement(
        [charge("100"), charge("40", category="Foxit", marketplace=True)],
        None,
        StatementOptions("USD", include_marketplace=False),
    )
    assert [line.kind for line in built.lines] == ["service"]
    assert built.total == D("100.00")


def test_provider_tax_and_credits_are_not_copied_onto_statements() -> None:
    built = build_statement(
        [charge("100"), charge("8", kind="Tax"), charge("-25", kind="Credit")],
        None,
        StatementOptions("USD"),
    )
    assert built.total == D("100.00")
    assert {d.line_item_type for d in built.details} == {"Usage"}


def test_grouping_by_cloud_account_gives_account_lines() -> None:
    """No pricebook: account 111 ran 1.00, account 222 ran 2.00 of EC2: one line each."""
    built = build_statement(
        [charge("1", account="111"), charge("2", account="222")],
        None,
        StatementOptions("USD", group_by_account=True),
    )
    assert [(line.account_id, line.amount) for line in built.lines] == [
        ("111", D("1.00")),
        ("222", D("2.00")),
    ]


def test_grouping_by_cloud_account_rounds_each_account_and_category_once() -> None:
    """Pricebook + 15 %. Account 111: EC2 1.004 + 1.004 (two SKUs), Marketplace Foxit
    3.00; account 222: EC2 2.00, S3 0.50.
    Grouped by account (services first, by account then category; marketplace last):
      111 · Amazon EC2   (1.004 + 1.004) x 1.15 = 2.3092 -> 2.31
      222 · Amazon EC2   2.00 x 1.15            = 2.30
      222 · Amazon S3    0.50 x 1.15 = 0.575    -> 0.58
      111 · AWS Marketplace: Foxit at cost        3.00      total 8.19
    By product type instead: Amazon EC2 (2.008 + 2.00) x 1.15 = 4.6092 -> 4.61,
    Amazon S3 0.58, Foxit 3.00: total 8.19 as well."""
    charges = [
        charge("1.004", account="111"),
        charge("1.004", account="111", sku="EBS"),
        charge("3", account="111", service="prod-x", category="Foxit", marketplace=True),
        charge("2", account="222"),
        charge("0.5", account="222", service="AmazonS3", category="Amazon S3"),
    ]
    aws = MarketplaceTerms("AWS Marketplace")
    grouped = build_statement(
        charges, MARKUP_15, StatementOptions("USD", group_by_account=True, marketplace=aws)
    )
    assert [(line.description, line.account_id, line.amount) for line in grouped.lines] == [
        ("111 · Amazon EC2", "111", D("2.31")),
        ("222 · Amazon EC2", "222", D("2.30")),
        ("222 · Amazon S3", "222", D("0.58")),
        ("111 · AWS Marketplace: Foxit", "111", D("3.00")),
    ]
    assert grouped.total == D("8.19")
    by_type = build_statement(charges, MARKUP_15, StatementOptions("USD", marketplace=aws))
    assert [(line.description, line.amount) for line in by_type.lines] == [
        ("Amazon EC2", D("4.61")),
        ("Amazon S3", D("0.58")),
        ("AWS Marketplace: Foxit", D("3.00")),
    ]
    assert by_type.total == D("8.19")


@pytest.mark.parametrize(("currency", "expected"), [("JPY", D("1235")), ("BHD", D("1234.568"))])
def test_lines_round_to_the_currency_minor_unit(currency: str, expected: D) -> None:
    built = build_statement([charge("1234.5675")], None, StatementOptions(currency))
    assert built.lines[0].amount == expected


def test_detail_rows_keep_full_precision_and_sum_to_the_line() -> None:
    built = build_statement(
        [charge("0.1234567891"), charge("0.0000000009", sku="EBS")],
        MARKUP_15,
        StatementOptions("USD"),
    )
    prices = [d.price for d in built.details]
    assert sum(prices) == D("0.1234567900") * D("1.15")
    assert built.lines[0].amount == D("0.14")


def test_an_untaxed_statement_shows_tax_in_the_currency_minor_unit() -> None:
    built = build_statement([charge("1")], None, StatementOptions("USD"))
    assert str(built.tax) == "0.00"
