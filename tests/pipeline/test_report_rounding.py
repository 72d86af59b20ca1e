"""The report view and the bill view, on amounts small enough to check by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connector.domain.report_rounding import UsageLine, bill_units, roll_up
from connector.pipeline.report.range import parse_range

D = Decimal


def line(
    price: str,
    cost: str = "0",
    *,
    account: str = "A1",
    category: str = "Compute",
    usage: str = "u1",
    currency: str = "USD",
    marketplace: bool = False,
) -> UsageLine:
    return UsageLine("2026-10", currency, "C1", account, marketplace, category, "svc", usage,
                     "Usage", D(1), D(cost), D(price))  # fmt: skip


# Two Compute usage types at 0.105 each and one Storage usage type at 1.004.
LINES = [
    line("0.105", "0.1", usage="u1"),
    line("0.105", "0.1", usage="u2"),
    line("1.004", "0.9", category="Storage", usage="u3"),
]


def test_report_and_bill_views_differ_by_a_cent() -> None:
    """Report view: 0.11 + 0.11 + 1.00 = 1.22 (each line rounded half-up, then added).
    Bill view: Compute 0.21 (0.105 + 0.105 rounded once) + Storage 1.00 = 1.21.
    Cost in the report view: 0.10 + 0.10 + 0.90 = 1.10; exact cost 1.1."""
    rows = roll_up(LINES, "customer", bill_units(LINES, group_by_account=False))
    (figures,) = rows.values()
    assert figures.price_report == D("1.22")
    assert figures.price_bill == D("1.21")
    assert figures.view_difference == D("0.01")
    assert figures.price == D("1.214")
    assert figures.cost_report == D("1.10") and figures.cost == D("1.1")
    assert figures.margin_report == D("0.12")  # 1.22 - 1.10
    assert figures.margin_bill == D("0.11")  # 1.21 - 1.1
    assert figures.quantity == 3 and figures.bill_rounded


def test_half_even_rounding_turns_the_difference_round() -> None:
    """Half-even: 0.105 -> 0.10, so the report view is 0.10 + 0.10 + 1.00 = 1.20, while
    the bill view is 0.21 (0.21 is exact) + 1.00 = 1.21: a cent the other way."""
    units = bill_units(LINES, group_by_account=False, mode="half_even")
    (figures,) = roll_up(LINES, "customer", units, mode="half_even").values()
    assert (figures.price_report, figures.price_bill) == (D("1.20"), D("1.21"))
    assert figures.view_difference == D("-0.01")


def test_service_rows_carry_both_views_of_each_category() -> None:
    """Grouped by account, the service row is a statement line: Compute report 0.22 vs
    bill 0.21; Storage 1.00 in both."""
    rows = roll_up(LINES, "service", bill_units(LINES, group_by_account=True))
    compute = rows[("2026-10", "USD", "C1", "A1", False, "Compute")]
    storage = rows[("2026-10", "USD", "C1", "A1", False, "Storage")]
    assert (compute.price_report, compute.price_bill) == (D("0.22"), D("0.21"))
    assert (storage.price_report, storage.price_bill) == (D("1.00"), D("1.00"))


def test_rows_finer_than_a_statement_line_show_the_bill_exact() -> None:
    """Not grouped by account, Compute spans accounts A1 and A2 (0.105 each): the bill
    rounds it once at the customer (0.21), so account rows have no rounded bill value
    and show the exact 0.105; their report view is 0.11 each. Grouped by account, each
    account is its own line: bill 0.11 each, 0.22 for the customer."""
    lines = [line("0.105", account="A1"), line("0.105", account="A2")]
    split = roll_up(lines, "account", bill_units(lines, group_by_account=False))
    for account in ("A1", "A2"):
        row = split[("2026-10", "USD", "C1", account)]
        assert not row.bill_rounded
        assert (row.price_report, row.price_bill) == (D("0.11"), D("0.105"))
    (customer,) = roll_up(lines, "customer", bill_units(lines, False)).values()
    assert customer.price_bill == D("0.21") and customer.price_report == D("0.22")

    grouped = roll_up(lines, "account", bill_units(lines, group_by_account=True))
    assert [r.price_bill for r in grouped.values()] == [D("0.11"), D("0.11")]
    assert all(r.bill_rounded for r in grouped.values())
    (customer,) = roll_up(lines, "customer", bill_units(lines, True)).values()
    assert customer.price_bill == D("0.22")


def test_usage_type_rows_round_each_line_and_keep_the_bill_exact() -> None:
    rows = roll_up(LINES, "usage-type", bill_units(LINES, False))
    first = rows[("2026-10", "USD", "C1", "A1", False, "Compute", "svc", "u1", "Usage")]
    assert first.price_report == D("0.11") and first.price_bill == D("0.105")
    assert not first.bill_rounded


def test_marketplace_is_its_own_statement_line() -> None:
    """Compute 0.105 and a marketplace product 0.105 in the same category name are two
    statement lines: bill 0.11 + 0.11 = 0.22 (one line would have been 0.21)."""
    lines = [line("0.105"), line("0.105", marketplace=True)]
    (figures,) = roll_up(lines, "customer", bill_units(lines, False)).values()
    assert figures.price_bill == D("0.22") and figures.view_difference == 0


def test_minor_units_follow_the_currency() -> None:
    """JPY has no minor unit: 10.5 + 10.5 in one category is 11 + 11 = 22 in the report
    view and 21 on the bill."""
    lines = [line("10.5", usage="u1", currency="JPY"), line("10.5", usage="u2", currency="JPY")]
    (figures,) = roll_up(lines, "customer", bill_units(lines, False)).values()
    assert (figures.price_report, figures.price_bill) == (D("22"), D("21"))


def test_a_statement_line_without_usage_still_counts_in_the_bill_view() -> None:
    """As billed, a stored line of 5.00 whose charges are gone is still on the bill."""
    unit = ("2026-10", "USD", "C1", None, False, "Gone")
    (figures,) = roll_up(LINES, "customer", {unit: D("5.00")}).values()
    assert figures.price_bill == D("5.00") and figures.price_report == D("1.22")


def test_an_unknown_level_is_refused() -> None:
    with pytest.raises(ValueError, match="use one of customer, account, service, usage-type"):
        roll_up(LINES, "region", {})


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        (None, dt.date(2026, 11, 1), dt.date(2026, 11, 20)),
        ("month-to-date", dt.date(2026, 11, 1), dt.date(2026, 11, 20)),
        ("last-month", dt.date(2026, 10, 1), dt.date(2026, 10, 31)),
        ("2026-02", dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        ("2026-10-05..2026-12-02", dt.date(2026, 10, 5), dt.date(2026, 12, 2)),
    ],
)
def test_date_ranges_are_relative_to_the_report_date(text, first, last) -> None:
    days = parse_range(text, dt.date(2026, 11, 20))
    assert (days.first, days.last) == (first, last)


def test_last_month_in_january_is_december() -> None:
    days = parse_range("last-month", dt.date(2027, 1, 3))
    assert (days.first, days.last) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))


@pytest.mark.parametrize("text", ["yesterday", "2026-13", "2026-10-09..2026-10-01", "x..y"])
def test_bad_ranges_say_what_is_valid(text) -> None:
    with pytest.raises(ValueError, match="range"):
        parse_range(text, dt.date(2026, 11, 20))
