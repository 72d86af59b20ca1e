"""Viewing a statement in another currency: each line converted and rounded once."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connector.api.conversion import convert_document
from connector.contracts import BillingPeriod, DetailRow, Party, StatementDocument, StatementLine

D = Decimal


def document(lines: list[StatementLine], subtotal: str, tax: str, total: str) -> StatementDocument:
    return StatementDocument(
        statement_id="s-1",
        revision=1,
        tenant="acme",
        provider="aws",
        period=BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1)),
        status="Open",
        number="ACME-01001",
        issue_date=dt.date(2026, 11, 6),
        due_date=dt.date(2026, 12, 6),
        currency="USD",
        reseller=Party("Acme"),
        customer=Party("Blue Harbor"),
        customer_id="1001",
        lines=lines,
        details=[
            DetailRow(
                "111111111111",
                "Compute",
                "Amazon EC2",
                "BoxUsage",
                "Usage",
                False,
                D("10"),
                D("80.123456789"),
                D("92.0000004"),
                D("92.00"),
            ),
        ],  # fmt: skip
        subtotal=D(subtotal),
        tax=D(tax),
        total=D(total),
        notes="Informational only.",
        billing_currency="USD",
    )


USD_STATEMENT = document(
    [
        StatementLine(1, "service", "Amazon EC2", D("100.00"), cost=D("86.5")),
        StatementLine(2, "service", "Amazon S3", D("45.55")),
        StatementLine(3, "credit", "Credits applied", D("-20.00")),
        StatementLine(4, "tax", "US Sales Tax (8.25%)", D("10.41")),
    ],
    subtotal="145.55",
    tax="10.41",
    total="135.96",
)


def test_each_line_is_converted_and_rounded_and_the_totals_are_their_sums() -> None:
    """At 1 USD = 0.9215 EUR:
    100.00 -> 92.15; 45.55 -> 41.974325 -> 41.97; -20.00 -> -18.43; 10.41 -> 9.592815 -> 9.59.
    subtotal 92.15 + 41.97 = 134.12; tax 9.59; total 134.12 - 18.43 + 9.59 = 125.28
    (converting the total alone, 135.96 x 0.9215 = 125.28714, would give 125.29 and the
    lines would not add up to it).
    """
    eur = convert_document(USD_STATEMENT, "EUR", D("0.9215"))
    assert [line.amount for line in eur.lines] == [D("92.15"), D("41.97"), D("-18.43"), D("9.59")]
    assert (eur.subtotal, eur.tax, eur.total) == (D("134.12"), D("9.59"), D("125.28"))
    assert eur.currency == "EUR"
    assert [line.description for line in eur.lines] == [
        line.description for line in USD_STATEMENT.lines
    ]


def test_costs_and_detail_rows_keep_full_precision() -> None:
    """86.5 x 0.9215 = 79.70975; 80.123456789 x 0.9215 = 73.8337654310635;
    92.0000004 x 0.9215 = 84.77800036860; the rounded detail price 92.00 -> 84.778 -> 84.78."""
    eur = convert_document(USD_STATEMENT, "EUR", D("0.9215"))
    assert eur.lines[0].cost == D("79.70975")
    (row,) = eur.details
    assert row.cost == D("73.8337654310635")
    assert row.price == D("84.77800036860")
    assert row.price_rounded == D("84.78")
    assert row.quantity == D("10")  # quantities are not money


def test_the_copy_names_the_rate_and_the_original_currency() -> None:
    eur = convert_document(USD_STATEMENT, "EUR", D("0.9215"))
    assert eur.billing_currency == "USD" and eur.exchange_rate == D("0.9215")
    assert "1 USD = 0.9215 EUR" in eur.notes and "2026-10" in eur.notes
    assert "issued in USD (total 135.96 USD)" in eur.notes
    assert eur.notes.endswith("Informational only.")  # the tenant's notes are kept
    assert USD_STATEMENT.total == D("135.96")  # the original is untouched


def test_a_currency_without_minor_units_rounds_to_whole_units_in_the_tenants_mode() -> None:
    """At 1 USD = 150 JPY, 0.03 USD is 4.5 JPY: half-up gives 5, half-even gives 4."""
    small = document([StatementLine(1, "service", "S3", D("0.03"))], "0.03", "0", "0.03")
    assert convert_document(small, "JPY", D("150")).total == D("5")
    assert convert_document(small, "JPY", D("150"), mode="half_even").total == D("4")


def test_the_same_currency_is_the_statement_itself() -> None:
    assert convert_document(USD_STATEMENT, "USD", D("1")) is USD_STATEMENT


def test_a_rate_that_is_not_positive_is_refused() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        convert_document(USD_STATEMENT, "EUR", D("0"))
