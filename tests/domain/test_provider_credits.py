"""Provider credits passed on as the tenant chooses: who gets what (hand-computed)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from connector.domain.provider_credits import (
    CreditCharge,
    PassedCredit,
    allocate,
    largest_remainder,
)
from connector.domain.statement import (
    CustomerCharge,
    MarketplaceTerms,
    StatementOptions,
    build_statement,
)
from connector.domain.totals import Adjustments

OWNERS = {"111": "A", "222": "B", "333": "C"}
# Billable charges of each account: A 200.00, B 100.00, C 50.00 (350.00 in all).
WEIGHTS = {("111", "USD"): D("200"), ("222", "USD"): D("100"), ("333", "USD"): D("50")}
PROMO = CreditCharge("111", D("-100.00"), "USD", refund=False)
REFUND = CreditCharge("222", D("-10.00"), "USD", refund=True, service_category="Amazon EC2")


def shares(allocation) -> dict[str, D]:
    return {customer: allocation.passed_to(customer) for customer in allocation.passed}


def test_the_remainder_cent_goes_to_the_largest_remainder_not_the_first_customer() -> None:
    """-100.00 shared by 200 : 100 : 50 (of 350), in cents:
      A 10000 x 200/350 = 5714.2857...   -> 5714
      B 10000 x 100/350 = 2857.1428...   -> 2857
      C 10000 x  50/350 = 1428.5714...   -> 1428      Σ 9999, 1 cent left
    the largest remainder is C's (.5714 > .2857 > .1428): C gets it.
      A -57.14, B -28.57, C -14.29; Σ -100.00 exactly, nothing kept."""
    allocation = allocate("proportional", [PROMO], OWNERS, WEIGHTS)
    assert shares(allocation) == {"A": D("-57.14"), "B": D("-28.57"), "C": D("-14.29")}
    assert sum(shares(allocation).values()) == D("-100.00")
    assert allocation.kept_total() == 0


def test_equal_remainders_go_in_key_order() -> None:
    """10.00 in thirds: 333.33... cents each, 333 each, 1 cent left, remainders equal:
    the first key in sorted order ("a") gets it: 334, 333, 333."""
    assert largest_remainder(1000, {"c": D(1), "a": D(1), "b": D(1)}) == {
        "c": 333, "a": 334, "b": 333,
    }  # fmt: skip


def test_unassigned_spend_keeps_its_share_and_a_sub_cent_fraction_stays() -> None:
    """-10.005 shared by A 30.00 and the unclaimed account 999 10.00 (of 40.00):
    whole cents 1000 (the 0.005 stays with the reseller): A 750, account 999 250 (kept).
      A -7.50; kept -2.50 - 0.005 = -2.505; Σ -10.005 exactly."""
    pool = CreditCharge("111", D("-10.005"), "USD", refund=False)
    weights = {("111", "USD"): D("30.00"), ("999", "USD"): D("10.00")}
    allocation = allocate("proportional", [pool], OWNERS, weights)
    assert shares(allocation) == {"A": D("-7.50")}
    assert allocation.kept == {"USD": D("-2.505")}


def test_a_customer_whose_charges_net_below_zero_gets_no_share() -> None:
    """B's account nets -5.00 (a discount larger than its usage): weight 0. -3.00 goes
    to A (20.00) alone."""
    weights = {("111", "USD"): D("20"), ("222", "USD"): D("-5")}
    allocation = allocate("proportional", [CreditCharge("9", D("-3"), "USD", False)],
                          OWNERS, weights)  # fmt: skip
    assert shares(allocation) == {"A": D("-3.00")}


@pytest.mark.parametrize(
    ("mode", "expected", "kept"),
    [
        # none: every credit is the reseller's: -100.00 - 10.00 = -110.00 kept.
        ("none", {}, D("-110.00")),
        # refunds: B's -10.00 refund goes to B; the -100.00 promotional credit is kept.
        ("refunds", {"B": D("-10.00")}, D("-100.00")),
        # proportional: the refund to B, and -100.00 shared as above:
        # A -57.14, B -10.00 - 28.57 = -38.57, C -14.29; nothing kept.
        ("proportional", {"A": D("-57.14"), "B": D("-38.57"), "C": D("-14.29")}, D("0")),
    ],
)
def test_each_mode_passes_its_credits_and_the_parts_add_up(mode, expected, kept) -> None:
    allocation = allocate(mode, [PROMO, REFUND], OWNERS, WEIGHTS)
    assert shares(allocation) == expected
    assert allocation.kept_total() == kept
    assert sum(shares(allocation).values(), D(0)) + allocation.kept_total() == D("-110.00")


def test_a_refund_on_an_unclaimed_account_stays_with_the_reseller() -> None:
    stray = CreditCharge("999", D("-4.00"), "USD", refund=True)
    allocation = allocate("refunds", [stray], OWNERS, {})
    assert allocation.passed == {} and allocation.kept == {"USD": D("-4.00")}


def test_an_unknown_mode_is_refused_naming_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="none, refunds, proportional"):
        allocate("all", [], OWNERS, {})


def charge(cost: str, category: str = "Amazon EC2", marketplace: bool = False) -> CustomerCharge:
    return CustomerCharge("222", category, category, "sku", "Usage", "Usage", marketplace,
                          D(cost), D(cost), D(1))  # fmt: skip


def test_passed_credits_are_lines_at_cost_taxed_with_the_services() -> None:
    """Customer B, no pricebook (at cost), tax 8.25 %: EC2 115.00; its refund -10.00 and
    its share -28.57 pass at cost:
      lines 115.00 - 10.00 - 28.57 = 76.43; tax 8.25 % x 76.43 = 6.305475 -> 6.31
      total 76.43 + 6.31 = 82.74"""
    passed = (
        PassedCredit(D("-10.00"), "USD", True, "222", "Amazon EC2"),
        PassedCredit(D("-28.57"), "USD", False),
    )
    options = StatementOptions(
        "USD",
        adjustments=Adjustments(tax_name="Sales", tax_rate=D("0.0825")),
        provider_credits=passed,
    )
    built = build_statement([charge("115")], None, options)
    assert [(x.kind, x.description, x.amount) for x in built.lines] == [
        ("service", "Amazon EC2", D("115.00")),
        ("service", "Amazon EC2 (refund)", D("-10.00")),
        ("service", "Provider credits", D("-28.57")),
        ("tax", "Sales (8.25%)", D("6.31")),
    ]
    assert built.total == D("82.74")
    # The detailed CSV lists what was passed, told apart by its line item type.
    assert [(d.line_item_type, d.price) for d in built.details[1:]] == [
        ("Provider refund", D("-10.00")),
        ("Provider credit share", D("-28.57")),
    ]


def test_a_refunded_marketplace_fee_passes_as_a_marketplace_line() -> None:
    """AWS Marketplace fee 30.00 at cost, refunded -30.00: both marketplace lines, untaxed.
    Tax 10 % x EC2 10.00 = 1.00; total 10.00 + 30.00 - 30.00 + 1.00 = 11.00."""
    refund = PassedCredit(D("-30"), "USD", True, "222", "Datadog Pro", is_marketplace=True)
    options = StatementOptions(
        "USD",
        marketplace=MarketplaceTerms("AWS Marketplace"),
        adjustments=Adjustments(tax_name="Tax", tax_rate=D("0.10")),
        provider_credits=(refund,),
    )
    built = build_statement([charge("10"), charge("30", "Datadog Pro", True)], None, options)
    assert [(x.kind, x.description, x.amount) for x in built.lines] == [
        ("service", "Amazon EC2", D("10.00")),
        ("marketplace", "AWS Marketplace: Datadog Pro", D("30.00")),
        ("marketplace", "AWS Marketplace: Datadog Pro (refund)", D("-30.00")),
        ("tax", "Tax (10%)", D("1.00")),
    ]
    assert built.total == D("11.00")


def test_a_marketplace_the_pricebook_prices_is_a_service_line_named_for_its_cloud() -> None:
    """Azure terms (priced by the pricebook): no pricebook here, so at cost 50.00, but a
    service line in the taxed base, kept without "include marketplace fees":
      tax 5 % x (36.00 + 50.00) = 4.30; total 90.30"""
    options = StatementOptions(
        "USD",
        include_marketplace=False,
        marketplace=MarketplaceTerms("Azure Marketplace", at_cost=False),
        adjustments=Adjustments(tax_name="Tax", tax_rate=D("0.05")),
    )
    built = build_statement(
        [charge("36", "Microsoft 365 E3"), charge("50", "Contoso Backup Pro", True)], None, options
    )
    assert [(x.kind, x.description, x.amount) for x in built.lines] == [
        ("service", "Microsoft 365 E3", D("36.00")),
        ("service", "Azure Marketplace: Contoso Backup Pro", D("50.00")),
        ("tax", "Tax (5%)", D("4.30")),
    ]
    assert built.total == D("90.30")
