"""Values on a bad day, as the outside testers feed them: amounts written for people, in
E-notation or missing, line ends and byte order marks from Windows tools, and one
account billed in two currencies. Derived from the real EA sample and the FOCUS fixture.

An amount is either read exactly or refused naming file, line, column and what is valid;
two currencies are never added together.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from connector_azure import AzureCostProvider
from connector_focus import FocusProvider

from tests.providers.azure_files import EA_SAMPLE, mca_row
from tests.providers.azure_files import write_csv as write_azure
from tests.providers.fetching import FolderFetch
from tests.providers.focus_files import FOCUS_12, read_rows, write_csv

azure = FolderFetch(AzureCostProvider)
focus = FolderFetch(FocusProvider)


def focus_file(tmp_path, **first_row: str):
    header, rows = read_rows(FOCUS_12)
    rows[0].update(first_row)
    return write_csv(tmp_path / "focus.csv", header, rows)


PEOPLES_AMOUNTS = [("1,234.50", "'1,234.50'"), ("", "empty"), ("NaN", "'NaN'"),
                   ("$12.00", "'$12.00'")]  # fmt: skip


@pytest.mark.parametrize(("amount", "shown"), PEOPLES_AMOUNTS)
def test_an_amount_written_for_people_is_refused_naming_file_line_and_column(
    tmp_path, amount, shown
):
    write_azure(tmp_path / "a.csv", [mca_row(), mca_row(costInBillingCurrency=amount)])
    assert azure.refusal(tmp_path) == (
        f"{tmp_path / 'a.csv'}: line 3, column costInBillingCurrency is {shown}; it must be a "
        f"decimal number like 12.3456"
    )
    focus_file(tmp_path / "f", BilledCost=amount)
    assert focus.refusal(tmp_path / "f") == (
        f"{tmp_path / 'f' / 'focus.csv'}: line 2, column BilledCost is {shown}; it must be a "
        f"decimal number like 12.3456"
    )


def test_an_amount_in_e_notation_is_read_exactly(tmp_path):
    write_azure(tmp_path / "a.csv", [mca_row(costInBillingCurrency="1.2E-5")])
    [charge] = azure.only_batch(tmp_path).charges
    assert charge.billed_cost == Decimal("0.000012")
    focus_file(tmp_path / "f", BilledCost="-4.5e+2")
    costs = [c.billed_cost for c in focus.only_batch(tmp_path / "f").charges]
    assert Decimal("-450") in costs


def test_crlf_line_ends_and_a_byte_order_mark_read_as_the_plain_export(tmp_path):
    plain = EA_SAMPLE.read_bytes().removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
    (tmp_path / "lf" / "a.csv").parent.mkdir()
    (tmp_path / "lf" / "a.csv").write_bytes(plain)
    (tmp_path / "crlf" / "a.csv").parent.mkdir()
    (tmp_path / "crlf" / "a.csv").write_bytes(b"\xef\xbb\xbf" + plain.replace(b"\n", b"\r\n"))
    assert azure.only_batch(tmp_path / "crlf").charges == azure.only_batch(tmp_path / "lf").charges


def test_two_currencies_in_one_account_stay_apart(tmp_path):
    rows = [
        mca_row(billingCurrency=currency, costInBillingCurrency=cost)
        for currency, cost in (("EUR", "1"), ("USD", "2"), ("EUR", "4"))
    ]
    write_azure(tmp_path / "a.csv", rows)
    charges = azure.only_batch(tmp_path).charges
    assert sorted((c.billing_currency, c.billed_cost) for c in charges) == [
        ("EUR", Decimal(5)),
        ("USD", Decimal(2)),
    ]


@pytest.mark.parametrize("date", ["31.10.2026", "13/10/2026", "Oct 3, 2026"])
def test_a_date_in_another_format_names_the_formats_that_are_valid(tmp_path, date):
    write_azure(tmp_path / "a.csv", [mca_row(date=date)])
    assert azure.refusal(tmp_path) == (
        f"{tmp_path / 'a.csv'}: line 2, column date is {date!r}; it must be a date like "
        f"09/21/2023 (EA, MM/DD/YYYY) or 2023-09-21 (MCA, ISO 8601)"
    )
