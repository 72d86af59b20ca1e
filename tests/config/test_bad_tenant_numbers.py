"""Bad numbers and duplicates in a tenant file, tried the way outside testers try them:
each is refused at its file, line and key, saying what would be valid, and
``check-config`` exits 1 (README "Exit codes": 1 configuration error)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from connector.config import load_tenant
from tests.config.tenant_files import MARKED_UP_AWS, issues_of, write
from tests.core.conftest import run, settings_file

PERCENT_LINE = 15
PERCENT_KEY = "pricebooks[0].versions[0].rules[0].percent"

CUSTOMERS = """\
customers:
  - id: "1001"
    name: First
    invoice_currency: USD
    pricebooks: {aws: aws-std}
    accounts: {aws: ["111111111111"]}
  - id: "1001"
    name: Second
    invoice_currency: USD
    pricebooks: {aws: aws-std}
    accounts: {aws: ["222222222222"]}
"""


def percent_issue(tmp_path: Path, value: str) -> str:
    path = write(tmp_path, MARKED_UP_AWS.replace("percent: 10", f"percent: {value}"))
    [issue] = issues_of(path)
    assert (issue.line, issue.key) == (PERCENT_LINE, PERCENT_KEY)
    return issue.message


@pytest.mark.parametrize("value", [".nan", ".NaN", ".inf", "-.inf"])
def test_an_unquoted_nan_or_infinite_percent_is_not_told_to_be_quoted(
    tmp_path: Path, value: str
) -> None:
    """Was: 'write it in quotes, e.g. percent: "nan"', which is refused in turn."""
    message = percent_issue(tmp_path, value)
    assert '"nan"' not in message and '"inf"' not in message, message
    assert "finite" in message and "15" in message, message


@pytest.mark.parametrize("value", ['"NaN"', '"Infinity"', '"-inf"', '"sNaN"'])
def test_a_quoted_nan_or_infinite_percent_says_what_would_be_valid(
    tmp_path: Path, value: str
) -> None:
    """Was pydantic's bare 'Input should be a finite number'."""
    message = percent_issue(tmp_path, value)
    assert "finite number like 15" in message, message
    assert value.strip('"') in message, message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("-5", "must be at least 0"),
        ('"0.1.2"', "expected a number like 15"),
        ('"15%"', "expected a number like 15"),
        ('"1e4"', "must be at most 1000"),
    ],
)
def test_a_bad_markup_percent_is_refused_at_its_line(
    tmp_path: Path, value: str, expected: str
) -> None:
    assert expected in percent_issue(tmp_path, value)


def test_an_exponent_percent_within_bounds_is_the_exact_number_it_writes(tmp_path: Path) -> None:
    """ "1e3" is 1,000 %: exact, and within the markup's bound of 1,000."""
    path = write(tmp_path, MARKED_UP_AWS.replace("percent: 10", 'percent: "1e3"'))
    assert load_tenant(path).pricebooks[0].versions[0].rules[0].percent == Decimal(1000)


def test_check_config_names_file_line_and_key_of_each_bad_entry_and_exits_1(
    tmp_path: Path,
) -> None:
    """A NaN markup, a duplicated customer id, a customer of an unknown provider and a
    support plan with overlapping tiers, in one file: all reported at once."""
    text = MARKED_UP_AWS.replace("percent: 10", "percent: .nan") + CUSTOMERS
    text = text.replace('accounts: {aws: ["222222222222"]}', 'accounts: {gcp: ["2"]}')
    text += """\
support_plans:
  - id: business
    tiers:
      - {up_to: 10000, percent: 10}
      - {up_to: 5000, percent: 7}
      - {percent: 5}
"""
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    write(tenants, text, "bad.yaml")
    result = run("--config", str(settings_file(tmp_path, tenants)), "check-config")
    out = " ".join(result.output.split())
    assert result.exit_code == 1, out
    assert f"bad.yaml:{PERCENT_LINE}: {PERCENT_KEY}: " in out
    assert "bad.yaml:22: customers[1].id: customer id 1001 is already used by customers[0]" in out
    assert "bad.yaml:26: customers[1].accounts.gcp: 'gcp' is not one of this tenant's" in out
    assert "bad.yaml:29: support_plans[0].tiers: tier up_to values must increase" in out


PLANS = """\
support_plans:
  - id: business
    tiers: [{percent: 10}]
  - id: business
    tiers: [{percent: 1}]
"""


def test_a_duplicated_support_plan_id_is_refused_at_its_line(tmp_path: Path) -> None:
    """Was loaded: customers naming "business" got one of the two plans silently."""
    [issue] = issues_of(write(tmp_path, MARKED_UP_AWS + PLANS))
    assert (issue.line, issue.key) == (19, "support_plans[1].id")
    assert "support plan id 'business' is already used by support_plans[0]" in issue.message


@pytest.mark.parametrize("code", ["XAU", "XXX", "ABC", "DEM"])
def test_an_invoice_currency_that_is_not_iso_4217_money_is_refused(
    tmp_path: Path, code: str
) -> None:
    """Was loaded: statements in gold (XAU), "no currency" (XXX) or a made-up code were
    built with two decimals, and no credit could ever be granted in them."""
    customers = CUSTOMERS.replace("invoice_currency: USD", f"invoice_currency: {code}", 1)
    text = MARKED_UP_AWS + customers.replace('"1001"\n    name: Second', '"1002"\n    name: Second')
    [issue] = issues_of(write(tmp_path, text))
    assert (issue.line, issue.key) == (19, "customers[0].invoice_currency")
    message = issue.message
    assert code in message and "ISO 4217" in message and "USD" in message, message
