"""Discount, support, credits and tax below the priced lines: worked examples by hand."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.contracts import StatementLine
from connector.domain.money import total
from connector.domain.totals import Adjustments, SupportTerms, apply_adjustments, support_fee

SERVICES = [StatementLine(1, "service", "EC2", D("600.00")),
            StatementLine(2, "service", "S3", D("400.00")),
            StatementLine(3, "marketplace", "AWS Marketplace: Foxit", D("50.00"))]  # fmt: skip
TAX = {"tax_name": "Sales", "tax_rate": D("0.10")}


def by_kind(lines: list[StatementLine]) -> dict[str, D]:
    return {line.kind: line.amount for line in lines}


def test_tiered_support_fee_then_minimum() -> None:
    """10% up to 10,000, 5% up to 50,000, 2% above; minimum 250.

    base 25,000: 1,000 + 750 = 1,750; base 60,000: 1,000 + 2,000 + 200 = 3,200;
    base 1,000: 100 < minimum -> 250.
    """
    terms = SupportTerms([(D(10000), D(10)), (D(50000), D(5)), (None, D(2))], D(250))
    assert support_fee(D(25000), terms) == D(1750)
    assert support_fee(D(60000), terms) == D(3200)
    assert support_fee(D(1000), terms) == D(250)


def test_discount_then_support_on_the_non_marketplace_subtotal() -> None:
    """S = 1,000.00; D = 10% of S = 100.00; P = 5% of (S - D) = 45.00;
    B = 945.00; M = 50.00 untouched; no tax, no credits: due 995.00."""
    out = apply_adjustments(SERVICES, Adjustments(D(10), SupportTerms([(None, D(5))])), "USD")
    assert by_kind(out.lines) == {"discount": D("-100.00"), "support": D("45.00")}
    assert total(line.amount for line in [*SERVICES, *out.lines]) == D("995.00")


def test_credits_before_tax_reduce_the_taxable_base() -> None:
    """B = 1,000.00, K = 300.00, r = 10%, M = 50.00, credits may not pay marketplace.

    C1 = min(300, 1000) = 300; tax = 10% of 700 = 70.00; C2 = 0;
    due = 1000 - 300 + 70 + 50 = 820.00.
    """
    out = apply_adjustments(
        SERVICES, Adjustments(credit_available=D(300), credits_before_tax=True, **TAX), "USD"
    )
    assert (out.credits, out.tax) == (D("300.00"), D("70.00"))
    assert total(line.amount for line in [*SERVICES, *out.lines]) == D("820.00")


def test_credits_after_tax_reduce_the_amount_due() -> None:
    """tax = 10% of 1,000 = 100.00; C = min(300, 1000 + 100) = 300;
    due = 1000 + 100 + 50 - 300 = 850.00."""
    out = apply_adjustments(SERVICES, Adjustments(credit_available=D(300), **TAX), "USD")
    assert (out.credits, out.tax) == (D("300.00"), D("100.00"))
    assert total(line.amount for line in [*SERVICES, *out.lines]) == D("850.00")


def test_a_credit_larger_than_the_bill_gives_a_zero_statement_and_keeps_the_rest() -> None:
    """K = 5,000: credits after tax, marketplace payable by credits:
    payable = 1000 + 100 + 50 = 1,150 -> C = 1,150, due 0.00, 3,850 stays."""
    out = apply_adjustments(
        SERVICES,
        Adjustments(credit_available=D(5000), credits_for_marketplace=True, **TAX),
        "USD",
    )
    assert out.credits == D("1150.00")
    assert total(line.amount for line in [*SERVICES, *out.lines]) == D("0.00")


def test_marketplace_is_paid_by_credits_only_when_allowed() -> None:
    """Before tax, K = 1,200: C1 = 1,000 (all of B), tax 0; C2 = min(200, 50) = 50
    only when allowed; otherwise due = 50.00 (the marketplace fee)."""
    allowed = apply_adjustments(
        SERVICES,
        Adjustments(credit_available=D(1200), credits_before_tax=True,
                    credits_for_marketplace=True, **TAX),
        "USD",
    )  # fmt: skip
    refused = apply_adjustments(
        SERVICES, Adjustments(credit_available=D(1200), credits_before_tax=True, **TAX), "USD"
    )
    assert allowed.credits == D("1050.00") and refused.credits == D("1000.00")
    assert total(line.amount for line in [*SERVICES, *refused.lines]) == D("50.00")


def test_tax_rounded_per_line_or_per_statement() -> None:
    """Three lines of 0.05 at 10%: per line 0.005 -> 0.01 each = 0.03; per statement
    10% of 0.15 = 0.015 -> 0.02."""
    lines = [StatementLine(i, "service", f"s{i}", D("0.05")) for i in (1, 2, 3)]
    per_line = apply_adjustments(lines, Adjustments(tax_rounding="line", **TAX), "USD")
    per_statement = apply_adjustments(lines, Adjustments(**TAX), "USD")
    assert (per_line.tax, per_statement.tax) == (D("0.03"), D("0.02"))


money = st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False)
# A grant takes up to 10 decimal places (credits.parse_amount), so a balance may too.
balance = money | st.decimals(min_value=0, max_value=1000, places=10, allow_nan=False)


@given(
    st.lists(money, min_size=1, max_size=8), money, balance,
    st.decimals(min_value=0, max_value=100, places=1), st.booleans(), st.booleans(),
    st.sampled_from([None, D("0.0825"), D("0.2")]), st.sampled_from(["line", "statement"]),
)  # fmt: skip
def test_totals_properties(amounts, marketplace, credit, discount, before, for_mp, rate,
                           rounding) -> None:  # fmt: skip
    """Lines add up to the total; credits never exceed the balance nor make it negative;
    the amount due is never negative."""
    priced = [StatementLine(i, "service", f"s{i}", a) for i, a in enumerate(amounts)]
    priced.append(StatementLine(99, "marketplace", "mp", marketplace))
    out = apply_adjustments(
        priced,
        Adjustments(discount, SupportTerms([(D(1000), D(10)), (None, D(3))], D(5)), credit,
                    before, for_mp, "Tax", rate, rounding),
        "USD",
    )  # fmt: skip
    due = total(line.amount for line in [*priced, *out.lines])
    assert D(0) <= out.credits <= credit
    assert due >= 0
    assert due == total(priced_line.amount for priced_line in priced) - out.discount + (
        out.support + out.tax - out.credits
    )
    assert all(line.amount == line.amount.quantize(D("0.01")) for line in out.lines)


@pytest.mark.parametrize("currency", ["JPY", "BHD"])
def test_adjustment_lines_use_the_currency_minor_unit(currency: str) -> None:
    out = apply_adjustments(SERVICES, Adjustments(D("3.3333"), **TAX), currency)
    places = {"JPY": 0, "BHD": 3}[currency]
    assert all(-line.amount.as_tuple().exponent == places for line in out.lines)


def test_credits_covering_the_base_leave_no_negative_tax_when_rounded_per_line() -> None:
    """Regression (found by the property test): two lines of 0.06 at 8.25%, tax per
    line, 0.12 of credit before tax: the lines' tax is 0.00495 -> 0.00 each, the
    credit's -0.0099 -> -0.01; the statement must not show -0.01 of tax and be due
    -0.01. Tax 0.00, due 0.00."""
    lines = [StatementLine(i, "service", f"s{i}", D("0.06")) for i in (1, 2)]
    out = apply_adjustments(
        lines,
        Adjustments(credit_available=D("0.12"), credits_before_tax=True, tax_name="Tax",
                    tax_rate=D("0.0825"), tax_rounding="line"),
        "USD",
    )  # fmt: skip
    assert (out.credits, out.tax) == (D("0.12"), D("0.00"))
    assert total(line.amount for line in [*lines, *out.lines]) == D("0.00")


def test_a_balance_finer_than_a_cent_is_applied_in_whole_cents_and_the_rest_kept() -> None:
    """Regression (found by the ERP-total property): a grant may carry up to 10 decimal
    places, and the whole balance used to become the credit line (-0.0000000001 on a
    0.01 statement: a total of 0.0099999999 no ERP can hold). Only whole cents are
    applied, rounded down so never more than the balance; the fraction stays.

    After tax, K = 10.125: tax 10% of 1,000 = 100.00; C = 10.12 (not 10.13);
    due = 1000 + 100 + 50 - 10.12 = 1,139.88.
    Before tax, K = 300.019: C1 = 300.01; tax = 10% of 699.99 = 69.999 -> 70.00;
    due = 1000 - 300.01 + 70.00 + 50 = 819.99.
    """
    after = apply_adjustments(SERVICES, Adjustments(credit_available=D("10.125"), **TAX), "USD")
    before = apply_adjustments(
        SERVICES,
        Adjustments(credit_available=D("300.019"), credits_before_tax=True, **TAX),
        "USD",
    )
    assert (after.credits, after.tax) == (D("10.12"), D("100.00"))
    assert total(line.amount for line in [*SERVICES, *after.lines]) == D("1139.88")
    assert (before.credits, before.tax) == (D("300.01"), D("70.00"))
    assert total(line.amount for line in [*SERVICES, *before.lines]) == D("819.99")


TEN_NICKELS = [StatementLine(i, "service", f"s{i}", D("0.05")) for i in range(1, 11)]
PER_LINE_BEFORE_TAX = {"credits_before_tax": True, "tax_rounding": "line", **TAX}


def test_a_fully_credited_statement_carries_no_tax_when_rounded_per_line() -> None:
    """Regression (issue 17, defect 1): ten lines of 0.05 at 10%, tax per line, credits
    before tax covering the whole 0.50. Each line's tax 0.005 rounds up to 0.01, the
    credit taxed as a line of its own took back only -0.05: tax 0.05 and 0.05 due on a
    fully credited bill. Seed 004: a $0.00 statement; DESIGN: tax = r(B - C1) = 0."""
    out = apply_adjustments(TEN_NICKELS, Adjustments(credit_available=D("5.00"),
                                                     **PER_LINE_BEFORE_TAX), "USD")  # fmt: skip
    assert (out.credits, out.tax) == (D("0.50"), D("0.00"))
    assert total(line.amount for line in [*TEN_NICKELS, *out.lines]) == D("0.00")


def test_a_fully_credited_statement_with_credits_for_marketplace_is_0_00_with_credit_left() -> None:
    """The same ten lines and 3.00 of marketplace; credits may pay marketplace fees and
    the balance is 10.00: C1 = 0.50, tax 0.00, C2 = 3.00, due 0.00 and 6.50 left (the
    statement was 0.01 with credit left over)."""
    lines = [*TEN_NICKELS, StatementLine(11, "marketplace", "AWS Marketplace: X", D("3.00"))]
    out = apply_adjustments(
        lines,
        Adjustments(credit_available=D("10.00"), credits_for_marketplace=True,
                    **PER_LINE_BEFORE_TAX),
        "USD",
    )  # fmt: skip
    assert (out.credits, out.tax) == (D("3.50"), D("0.00"))
    assert total(line.amount for line in [*lines, *out.lines]) == D("0.00")


def test_a_partial_credit_pays_lines_in_order_and_the_rest_is_taxed_per_line() -> None:
    """Ten lines of 0.05 at 10%, a 20% discount (-0.10, B = 0.40) and 0.33 of credit
    before tax. The discount and the credit are taken from the lines in order: 0.10 + 0.33 = 0.43
    pays lines 1-8 (0.40) and 0.03 of line 9; line 9 keeps 0.02 (tax 0.002 -> 0.00),
    line 10 keeps 0.05 (tax 0.005 -> 0.01): tax 0.01 on the 0.07 left, as r(B - C1) =
    0.007 -> 0.01 per statement."""
    out = apply_adjustments(
        TEN_NICKELS,
        Adjustments(discount_percent=D(20), credit_available=D("0.33"), **PER_LINE_BEFORE_TAX),
        "USD",
    )
    assert (out.discount, out.credits, out.tax) == (D("0.10"), D("0.33"), D("0.01"))
    assert total(line.amount for line in [*TEN_NICKELS, *out.lines]) == D("0.08")


@given(st.lists(money, min_size=1, max_size=12), balance, st.sampled_from(["USD", "JPY", "BHD"]),
       st.sampled_from([D("0.0825"), D("0.2"), D("0.05")]))  # fmt: skip
def test_per_line_tax_never_taxes_what_credits_paid(amounts, credit, currency, rate) -> None:
    """Per line, credits before tax: the tax is the sum of each line's rounded tax on
    what the credit left of it, so it is within half a minor unit per line of r(B - C1),
    and exactly zero when the credit covers the base."""
    cur = {"USD": D("0.01"), "JPY": D(1), "BHD": D("0.001")}[currency]
    lines = [StatementLine(i, "service", f"s{i}", a.quantize(cur)) for i, a in enumerate(amounts)]
    out = apply_adjustments(
        lines,
        Adjustments(credit_available=credit, credits_before_tax=True, tax_name="Tax",
                    tax_rate=rate, tax_rounding="line"),
        currency,
    )  # fmt: skip
    base = total(line.amount for line in lines)
    assert out.credits == min(credit.quantize(cur, rounding="ROUND_DOWN"), base)
    assert abs(out.tax - rate * (base - out.credits)) <= len(lines) * cur / 2
    if out.credits == base:
        assert out.tax == 0


def test_a_marketplace_refund_takes_no_negative_credit_before_tax() -> None:
    """Regression (found by the differential search): credits before tax and for
    marketplace, a -1.00 marketplace refund and no credit: C2 = min(K - C1, M) was -1.00,
    a negative credit the build refused, so nobody's statement was built."""
    lines = [StatementLine(1, "marketplace", "AWS Marketplace: Datadog Pro", D("-1.00"))]
    out = apply_adjustments(
        lines, Adjustments(credits_before_tax=True, credits_for_marketplace=True), "USD"
    )
    assert out.credits == D("0.00") and out.lines == []


def test_a_marketplace_refund_nets_against_credits_before_tax_as_after_tax() -> None:
    """10.00 of EC2, a -4.00 marketplace refund, 100.00 of credit that may pay
    marketplace fees: C1 = 10.00, C2 = min(90.00, -4.00) = -4.00, so 6.00 is applied
    and the statement is 10.00 - 4.00 - 6.00 = 0.00, as credits after tax give
    C = min(100.00, 10.00 - 4.00) = 6.00."""
    lines = [StatementLine(1, "service", "EC2", D("10.00")),
             StatementLine(2, "marketplace", "AWS Marketplace: X", D("-4.00"))]  # fmt: skip
    for before in (True, False):
        out = apply_adjustments(lines, Adjustments(
            credit_available=D(100), credits_before_tax=before, credits_for_marketplace=True,
        ), "USD")  # fmt: skip
        assert out.credits == D("6.00")
