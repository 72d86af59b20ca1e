"""Statements where several options combine, each figure worked out by hand from the
rules of DESIGN.md ("Order of calculation", "Rounding", "Marketplace fees"), the way
outside testers check a landed version: never by calling the code under test."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from connector.domain.pricing import PricebookVersion, PriceRule
from connector.domain.statement import CustomerCharge, StatementOptions, build_statement
from connector.domain.totals import TAXED_KINDS, Adjustments, SupportTerms


def charge(
    cost: str, category: str = "Amazon EC2", *, marketplace: bool = False, kind: str = "Usage"
) -> CustomerCharge:
    return CustomerCharge(
        account_id="111111111111",
        service_name=category,
        service_category=category,
        sku="sku",
        line_item_type=kind,
        charge_category=kind,
        is_marketplace=marketplace,
        cost=D(cost),
        list_cost=D(cost),
        quantity=D(1),
    )


def kinds_and_amounts(built) -> list[tuple[str, D]]:
    return [(line.kind, line.amount) for line in built.lines]


def test_marketplace_rounding_is_not_taxed() -> None:
    """EC2 0.05; two marketplace fees of 0.005 each; tax 10 %; rounding adjustments on.
      S = 0.05 (the only non-marketplace line)
      tax = 10 % x 0.05 = 0.005 -> 0.01 (half-up)
      M: lines 0.01 + 0.01 = 0.02, exact 0.010 -> 0.01: a -0.01 adjustment that is
         the marketplace's own, so it must stay out of the taxed base
      total = 0.05 + 0.01 (M) + 0.01 (tax) = 0.07
    Before the fix the -0.01 went into the taxed base: tax on 0.04 = 0.00, total 0.06."""
    built = build_statement(
        [
            charge("0.05"),
            charge("0.005", "Foxit", marketplace=True),
            charge("0.005", "Alert Logic", marketplace=True),
        ],  # fmt: skip
        None,
        StatementOptions(
            "USD", add_rounding_adjustments=True, adjustments=Adjustments(tax_rate=D("0.10"))
        ),
    )
    taxed = sum(line.amount for line in built.lines if line.kind in TAXED_KINDS)
    assert taxed == D("0.05")
    assert built.tax == D("0.01")
    assert built.total == D("0.07") == sum(line.amount for line in built.lines)


def test_marketplace_rounding_is_not_discounted() -> None:
    """EC2 1.01; marketplace 0.005 + 0.005; global discount 50 %; rounding adjustments on.
      S = 1.01; D = 50 % x 1.01 = 0.505 -> 0.51 (half-up)
      M = 0.01 (lines 0.01 + 0.01, adjusted by -0.01)
      total = 1.01 - 0.51 + 0.01 = 0.51 (exact: 1.01 x 0.5 + 0.01 = 0.515; the discount
      line rounds up on its own)
    Before the fix D was 50 % of 1.00 = 0.50 and the total 0.52."""
    built = build_statement(
        [
            charge("1.01"),
            charge("0.005", "Foxit", marketplace=True),
            charge("0.005", "Alert Logic", marketplace=True),
        ],  # fmt: skip
        None,
        StatementOptions(
            "USD", add_rounding_adjustments=True, adjustments=Adjustments(discount_percent=D(50))
        ),
    )
    assert ("discount", D("-0.51")) in kinds_and_amounts(built)
    assert built.total == D("0.51") == sum(line.amount for line in built.lines)


def test_first_party_and_marketplace_rounding_still_add_up_to_the_exact_total() -> None:
    """EC2 1.005 and S3 1.005 (first-party), marketplace 0.005 + 0.005; no tax.
    first-party lines 1.01 + 1.01 = 2.02, exact 2.010 -> 2.01: adjustment -0.01
    marketplace lines 0.01 + 0.01 = 0.02, exact 0.010 -> 0.01: adjustment -0.01
    all exact 2.020 -> 2.02 = 2.02 + 0.02 - 0.01 - 0.01: the lines add up to it."""
    built = build_statement(
        [
            charge("1.005"),
            charge("1.005", "Amazon S3"),
            charge("0.005", "Foxit", marketplace=True),
            charge("0.005", "Alert Logic", marketplace=True),
        ],  # fmt: skip
        None,
        StatementOptions("USD", add_rounding_adjustments=True),
    )
    assert built.total == D("2.02") == sum(line.amount for line in built.lines)
    taxed = sum(line.amount for line in built.lines if line.kind in TAXED_KINDS)
    assert taxed == D("2.01")


def test_support_tier_boundary_reached_exactly_after_discount_with_a_credit_above_the_bill() -> (
    None
):
    """EC2 at cost 10,526.32; discount 5 %; support 10 % up to 10,000 then 5 %, minimum
    100; tax 8.25 % after credits (credits before tax off); credit 20,000.00.
      S = 10,526.32; D = 5 % x 10,526.32 = 526.316 -> 526.32
      S - D = 10,000.00: exactly the first tier's bound, nothing in the 5 % tier
      P = 10 % x 10,000.00 = 1,000.00 (above the 100.00 minimum)
      B = 10,000.00 + 1,000.00 = 11,000.00
      tax = 8.25 % x 11,000.00 = 907.50
      C = min(20,000.00, 11,000.00 + 907.50) = 11,907.50 -> due 0.00, 8,092.50 kept"""
    adjustments = Adjustments(
        discount_percent=D(5),
        support=SupportTerms([(D(10000), D(10)), (None, D(5))], D(100)),
        credit_available=D("20000.00"),
        tax_rate=D("0.0825"),
    )
    built = build_statement(
        [charge("10526.32")], None, StatementOptions("USD", adjustments=adjustments)
    )
    assert kinds_and_amounts(built) == [
        ("service", D("10526.32")),
        ("discount", D("-526.32")),
        ("support", D("1000.00")),
        ("credit", D("-11907.50")),
        ("tax", D("907.50")),
    ]
    assert built.total == D("0.00")
    assert D("20000.00") - built.credits == D("8092.50")


def test_credit_above_the_bill_before_tax_leaves_no_tax_and_a_zero_statement() -> None:
    """As above with "include credits for tax calculations" on:
    C1 = min(20,000.00, B = 11,000.00) = 11,000.00; tax = 8.25 % x 0 = 0.00
    due = 11,000.00 - 11,000.00 + 0.00 = 0.00; 9,000.00 kept"""
    adjustments = Adjustments(
        discount_percent=D(5),
        support=SupportTerms([(D(10000), D(10)), (None, D(5))], D(100)),
        credit_available=D("20000.00"),
        credits_before_tax=True,
        tax_rate=D("0.0825"),
        tax_rounding="line",
    )
    built = build_statement(
        [charge("10526.32")], None, StatementOptions("USD", adjustments=adjustments)
    )
    assert built.tax == D("0.00")
    assert built.credits == D("11000.00")
    assert built.total == D("0.00")


def test_zero_markup_rule_marketplace_refund_and_credits_for_marketplace() -> None:
    """Pricebook: markup 0 % on everything. EC2 200.00 usage and a -50.00 adjustment
    (refund); marketplace Foxit 30.00 and a -10.00 marketplace refund; tax 10 %; credits
    before tax, may pay marketplace fees; balance 160.00.
      S = 200.00 x 1.00 - 50.00 = 150.00; M = 30.00 - 10.00 = 20.00 (at cost)
      C1 = min(160.00, 150.00) = 150.00; tax = 10 % x (150.00 - 150.00) = 0.00
      C2 = min(160.00 - 150.00, 20.00) = 10.00
      due = 150.00 - 150.00 + 0.00 + 20.00 - 10.00 = 10.00; credits applied 160.00"""
    zero = PricebookVersion("zero@2026-01-01", dt.date(2026, 1, 1), [PriceRule("markup", D(0))])
    built = build_statement(
        [
            charge("200.00"),
            charge("-50.00", kind="Adjustment"),
            charge("30.00", "Foxit", marketplace=True),
            charge("-10.00", "Foxit", marketplace=True, kind="Adjustment"),
        ],  # fmt: skip
        zero,
        StatementOptions(
            "USD",
            adjustments=Adjustments(
                credit_available=D("160.00"),
                credits_before_tax=True,
                credits_for_marketplace=True,
                tax_rate=D("0.10"),
            ),
        ),
    )
    assert kinds_and_amounts(built) == [
        ("service", D("150.00")),
        ("marketplace", D("20.00")),
        ("credit", D("-160.00")),
        ("tax", D("0.00")),
    ]
    assert built.total == D("10.00")


def test_three_half_way_lines_with_tax_rounded_per_line() -> None:
    """EC2, S3, RDS at 2.005 each; tax 10 % rounded per line; rounding adjustments on.
    each line 2.005 -> 2.01 (half-up): 6.03; exact 6.015 -> 6.02: adjustment -0.01
    tax per line: 0.201 -> 0.20 three times, -0.001 -> -0.00: 0.60
    total = 6.02 + 0.60 = 6.62"""
    built = build_statement(
        [charge("2.005"), charge("2.005", "Amazon S3"), charge("2.005", "Amazon RDS")],
        None,
        StatementOptions(
            "USD",
            add_rounding_adjustments=True,
            adjustments=Adjustments(tax_rate=D("0.10"), tax_rounding="line"),
        ),
    )
    assert [line.amount for line in built.lines] == [
        D("2.01"), D("2.01"), D("2.01"), D("-0.01"), D("0.60")
    ]  # fmt: skip
    assert built.total == D("6.62")


def test_half_even_rounds_each_half_way_line_to_the_even_cent() -> None:
    """half_even: 1.005 -> 1.00, 1.015 -> 1.02, 1.025 -> 1.02, 1.035 -> 1.04 = 4.08;
    exact 4.080 -> 4.08: no adjustment line."""
    built = build_statement(
        [charge("1.005", "A"), charge("1.015", "B"), charge("1.025", "C"), charge("1.035", "D")],
        None,
        StatementOptions("USD", rounding="half_even", add_rounding_adjustments=True),
    )
    assert [line.amount for line in built.lines] == [D("1.00"), D("1.02"), D("1.02"), D("1.04")]
    assert built.total == D("4.08")


def test_yen_statement_with_discount_tiers_credit_and_tax() -> None:
    """JPY (no minor unit). EC2 1,234.5 and S3 1,000.5 at cost; discount 3 %; support
    10 % up to 1,000 then 5 %; tax 10 % after credits; credit 500; rounding adjustments.
      lines 1,235 + 1,001 = 2,236; exact 2,235.0 -> 2,235: adjustment -1; S = 2,235
      D = 3 % x 2,235 = 67.05 -> 67; S - D = 2,168
      P = 10 % x 1,000 + 5 % x 1,168 = 100 + 58.4 = 158.4 -> 158
      B = 2,168 + 158 = 2,326; tax = 10 % x 2,326 = 232.6 -> 233
      C = min(500, 2,326 + 233) = 500; due = 2,326 + 233 - 500 = 2,059"""
    built = build_statement(
        [charge("1234.5"), charge("1000.5", "Amazon S3")],
        None,
        StatementOptions(
            "JPY",
            add_rounding_adjustments=True,
            adjustments=Adjustments(
                discount_percent=D(3),
                support=SupportTerms([(D(1000), D(10)), (None, D(5))]),
                credit_available=D(500),
                tax_rate=D("0.10"),
            ),
        ),
    )
    assert kinds_and_amounts(built) == [
        ("service", D("1235")),
        ("service", D("1001")),
        ("rounding", D("-1")),
        ("discount", D("-67")),
        ("support", D("158")),
        ("credit", D("-500")),
        ("tax", D("233")),
    ]
    assert built.total == D("2059")


def test_dinar_statement_keeps_three_decimals_through_tax_per_line() -> None:
    """KWD (3 decimals). EC2, S3, RDS at 1.0005 each; tax 5 % per line; adjustments on.
    lines 1.001 x 3 = 3.003; exact 3.0015 -> 3.002: adjustment -0.001
    tax: 0.05005 -> 0.050 three times; -0.00005 -> -0.000: 0.150
    total = 3.002 + 0.150 = 3.152"""
    built = build_statement(
        [charge("1.0005"), charge("1.0005", "Amazon S3"), charge("1.0005", "Amazon RDS")],
        None,
        StatementOptions(
            "KWD",
            add_rounding_adjustments=True,
            adjustments=Adjustments(tax_rate=D("0.05"), tax_rounding="line"),
        ),
    )
    assert built.tax == D("0.150")
    assert built.total == D("3.152")
    assert str(built.total) == "3.152"


def test_marketplace_lines_that_round_right_get_no_rounding_line_of_their_own() -> None:
    """JPY, rounding adjustments on, tax 10 %: EC2 1,513.7 and S3 504.56661621 (10.00 and
    3.333333 USD at 151.37), marketplace Datadog 151.37 (1.00 USD).
      lines 1,514 + 505 + 151 = 2,170; exact 2,169.63661621 -> 2,170: no adjustment
      the marketplace line is its exact 151.37 rounded: nothing of its own to adjust
      (the services' exact 2,018.27 rounds to 2,018, but their -1 and the +1 of
      rounding the total once cancel: they stay together in S, as the lines show)
      S = 2,019; tax = 10 % x 2,019 = 201.9 -> 202; total = 2,170 + 202 = 2,372"""
    built = build_statement(
        [
            charge("1513.7"),
            charge("504.56661621", "Amazon S3"),
            charge("151.37", "Datadog Pro", marketplace=True),
        ],  # fmt: skip
        None,
        StatementOptions(
            "JPY", add_rounding_adjustments=True, adjustments=Adjustments(tax_rate=D("0.10"))
        ),
    )
    assert kinds_and_amounts(built) == [
        ("service", D("1514")),
        ("service", D("505")),
        ("marketplace", D("151")),
        ("tax", D("202")),
    ]
    assert built.total == D("2372")
