"""Issue 18: exact money is written as a whole number or quoted, never as a YAML float.

An unquoted ``rate: 0.2`` is a binary fraction that only looks exact; it was read
through ``str()`` and accepted, so whether an amount was exact depended on how Python
printed a float. Now it is refused at its line with the quoted form to write.
"""

from __future__ import annotations

import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest
from pydantic import BaseModel, BeforeValidator

from connector.config import ConfigError, TenantConfig, load_tenant
from connector.config.tenant import _decimal_input
from tests.config.tenant_files import MARKED_UP_AWS

# The small tenant with every exact amount of a tenant file, each a str.format placeholder.
MARKUP = MARKED_UP_AWS.replace("{}", "{{}}").replace("percent: 10", "percent: {percent}")
AMOUNTS = """\
tax_rates:
  - name: Sales Tax
    rate: {rate}
support_plans:
  - id: business
    tiers:
      - up_to: {up_to}
        percent: {tier_percent}
      - percent: 5
    minimum_fee: {minimum_fee}
customers:
  - id: "1"
    name: One
    invoice_currency: USD
    pricebooks: {{aws: aws-std}}
    support_plan: business
    global_discount: {global_discount}
daemon:
  auto_approve: true
  auto_approve_max_total: {auto_approve_max_total}
"""
TENANT = MARKUP + AMOUNTS
# Every DecimalValue field of the tenant file: (placeholder, key path, line).
FIELDS = [
    ("percent", "pricebooks[0].versions[0].rules[0].percent", 15),
    ("rate", "tax_rates[0].rate", 18),
    ("up_to", "support_plans[0].tiers[0].up_to", 22),
    ("tier_percent", "support_plans[0].tiers[0].percent", 23),
    ("minimum_fee", "support_plans[0].minimum_fee", 25),
    ("global_discount", "customers[0].global_discount", 32),
    ("auto_approve_max_total", "daemon.auto_approve_max_total", 35),
]
WHOLE = {
    "percent": "15", "rate": "0", "up_to": "10000", "tier_percent": "10",
    "minimum_fee": "100", "global_discount": "5", "auto_approve_max_total": "500",
}  # fmt: skip
FLOATS = {
    "percent": "12.5", "rate": "0.2", "up_to": "10000.5", "tier_percent": "7.5",
    "minimum_fee": "99.99", "global_discount": "2.5", "auto_approve_max_total": "500.25",
}  # fmt: skip


def write(tmp_path: Path, **values: str) -> Path:
    path = tmp_path / "tenant.yaml"
    path.write_text(textwrap.dedent(TENANT.format(**{**WHOLE, **values})), encoding="utf-8")
    return path


def _decimal_fields(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Names of the fields validated by DecimalValue, through nested models."""
    found: set[str] = set()
    for name, info in model.model_fields.items():
        stack: list[Any] = [info.annotation, *info.metadata]
        while stack:
            tp = stack.pop()
            if isinstance(tp, BeforeValidator) and tp.func is _decimal_input:
                found.add(f"{prefix}{name}")
            elif isinstance(tp, type) and issubclass(tp, BaseModel):
                found |= _decimal_fields(tp, f"{prefix}{name}.")
            elif get_origin(tp) is not None:
                stack.extend(get_args(tp))
    return found


def test_the_cases_below_cover_every_exact_amount_of_the_tenant_file() -> None:
    covered = {key.replace("[0]", "") for _, key, _ in FIELDS}
    assert _decimal_fields(TenantConfig) == covered


def test_whole_numbers_stay_accepted_without_quotes(tmp_path: Path) -> None:
    tenant = load_tenant(write(tmp_path))
    assert tenant.pricebooks[0].versions[0].rules[0].percent == Decimal(15)
    assert tenant.support_plans[0].minimum_fee == Decimal(100)
    assert tenant.customers[0].global_discount == Decimal(5)


def test_quoted_amounts_stay_exact(tmp_path: Path) -> None:
    quoted = {placeholder: f'"{value}"' for placeholder, value in FLOATS.items()}
    tenant = load_tenant(write(tmp_path, **quoted))
    assert tenant.tax_rates[0].rate == Decimal("0.2")
    assert str(tenant.support_plans[0].minimum_fee) == "99.99"
    assert tenant.daemon.auto_approve_max_total == Decimal("500.25")


@pytest.mark.parametrize(("placeholder", "key", "line"), FIELDS, ids=[f[0] for f in FIELDS])
def test_an_unquoted_float_amount_is_refused_at_its_line_with_the_quoted_form(
    tmp_path: Path, placeholder: str, key: str, line: int
) -> None:
    value = FLOATS[placeholder]
    with pytest.raises(ConfigError) as caught:
        load_tenant(write(tmp_path, **{placeholder: value}))
    [issue] = caught.value.issues
    assert (issue.line, issue.key) == (line, key)
    field = key.rsplit(".", 1)[-1]
    assert f'{field}: "{value}"' in issue.message
    assert "quotes" in issue.message


def test_every_unquoted_float_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_tenant(write(tmp_path, **FLOATS))
    assert sorted((i.line, i.key) for i in caught.value.issues) == sorted(
        (line, key) for _, key, line in FIELDS
    )
