"""Issue 18: check-config refuses what the build or approval would refuse later.

A customer with accounts for a provider but no pricebook for it passed check-config
and was then refused by every build; an invoice number format that prints several
numbers alike passed, and every approval after the first failed on a duplicate.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from connector.config import ConfigError, load_tenant, load_tenants
from tests.config.tenant_files import MARKED_UP_AWS
from tests.core.conftest import run, settings_file

# The small tenant with invoice numbering and azure added, as a str.format template.
NUMBERING = """\
invoice_options:
  next_invoice_number: {next_number}
  invoice_number_format: "{number_format}"
providers:
  azure: {{}}
"""
PRICED = MARKED_UP_AWS.replace("{}", "{{}}").replace("providers:\n", NUMBERING)
CUSTOMERS = """\
customers:
  - id: "1001"
    name: Priced
    invoice_currency: USD
    pricebooks: {{aws: aws-std}}
    accounts: {{aws: ["111111111111"]}}
  - id: "1002"
    name: Unpriced
{currency}    pricebooks: {{}}
    accounts: {{aws: ["222222222222"], azure: []}}
"""
TENANT = PRICED + CUSTOMERS
UNPRICED_LINE = 26  # "  - id: "1002""


def write(
    folder: Path,
    *,
    currency: str = "    invoice_currency: USD\n",
    number_format: str = "INV-{number:05d}",
    next_number: int = 1,
) -> Path:
    path = folder / "demo.yaml"
    text = TENANT.format(currency=currency, number_format=number_format, next_number=next_number)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(folder: Path) -> list:  # type: ignore[type-arg]
    with pytest.raises(ConfigError) as caught:
        load_tenants(folder)
    return caught.value.issues


def test_accounts_without_a_pricebook_are_reported_at_the_customer_with_the_key_to_add(
    tmp_path: Path,
) -> None:
    write(tmp_path)
    [issue] = problems(tmp_path)  # azure has no settings model here: no plugin lookup
    assert (issue.line, issue.key) == (UNPRICED_LINE, "customers[1]")
    assert "no pricebook for 'aws'" in issue.message
    assert "customers[1].pricebooks.aws: aws-std" in issue.message  # the key that fixes it
    assert "azure" not in issue.message  # no azure accounts: no azure pricebook needed


def test_check_config_exits_1_on_a_customer_the_build_could_not_price(tmp_path: Path) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    write(tenants)
    result = run("--config", str(settings_file(tmp_path, tenants)), "check-config")
    text = " ".join(result.output.split())
    assert result.exit_code == 1, text
    assert f"demo.yaml:{UNPRICED_LINE}: customers[1]: customer 1002 has aws accounts" in text


def test_the_tenant_still_loads_for_the_build_to_serve_the_other_customers(
    tmp_path: Path,
) -> None:
    """The build reports 1002 with the seeds' error and builds 1001 (issue 18's first
    part); only check-config, which asks for a complete file, refuses it."""
    tenant = load_tenant(write(tmp_path))
    assert [c.id for c in tenant.customers] == ["1001", "1002"]
    with pytest.raises(ConfigError):
        load_tenant(tmp_path / "demo.yaml", complete=True)


@pytest.mark.parametrize(
    ("currency", "expected"),
    [("", "required key is missing"), ('    invoice_currency: ""\n', "ISO 4217")],
    ids=["missing", "empty"],
)
def test_a_customer_without_an_invoice_currency_is_reported(
    tmp_path: Path, currency: str, expected: str
) -> None:
    write(tmp_path, currency=currency)
    found = {i.key: i for i in problems(tmp_path)}
    issue = found["customers[1].invoice_currency"]
    assert issue.line is not None and issue.line >= UNPRICED_LINE
    assert expected in issue.message


# ------------------------------------------------------------------ invoice numbers


@pytest.mark.parametrize("number_format", ["{number}", "INV-{number:05d}", "N{number:d}",
                                           "{number:,}", "#{number:>6}"])  # fmt: skip
def test_integer_number_formats_are_accepted(tmp_path: Path, number_format: str) -> None:
    tenant = load_tenant(write(tmp_path, number_format=number_format))
    assert tenant.invoice_options.invoice_number_format == number_format


@pytest.mark.parametrize(
    ("number_format", "expected"),
    [
        ("N{number:.0e}", "not a decimal integer format"),
        ("N{number:.1f}", "not a decimal integer format"),
        ("N{number:%}", "not a decimal integer format"),
        ("N{number!r}", "not a decimal integer format"),
        ("N{number:0<4}", "for both"),  # 1 and 1000 both print 1000
        ("INV-{year}", "only the {number} placeholder"),
        ("INV-{{number}}", "must contain {number}"),  # braces doubled: literal text
        ("INV-{number", "not a valid format"),
    ],
)
def test_a_number_format_that_could_repeat_a_number_is_refused_at_its_line(
    tmp_path: Path, number_format: str, expected: str
) -> None:
    write(tmp_path, number_format=number_format)
    with pytest.raises(ConfigError) as caught:
        load_tenant(tmp_path / "demo.yaml")
    [issue] = caught.value.issues
    assert (issue.line, issue.key) == (6, "invoice_options.invoice_number_format")
    assert expected in issue.message


def test_the_numbers_of_the_next_thousand_invoices_must_fit_the_column(tmp_path: Path) -> None:
    # 21 characters for 99,999; the next thousand invoices would need 22.
    write(tmp_path, number_format="STATEMENT-ACMES-{number}", next_number=99_500)
    with pytest.raises(ConfigError) as caught:
        load_tenant(tmp_path / "demo.yaml")
    [issue] = caught.value.issues
    assert "'STATEMENT-ACMES-100499' (22 characters)" in issue.message
    assert "at most 21" in issue.message
