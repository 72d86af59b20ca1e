"""check-config on tenant files carrying each hostile input in each kind of field."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.security.corpus import PATHS, TEXT, YAML_BOMBS, ids
from tests.security.harness import (
    assert_refused_or_ok,
    base_tenant,
    cli,
    make_workspace,
    write_tenant,
)


def _customer_name(t: dict, v: str) -> None:
    t["customers"][0]["name"] = v


def _customer_id(t: dict, v: str) -> None:
    t["customers"][0]["id"] = v


def _product_name(t: dict, v: str) -> None:
    t["pricebooks"][0]["versions"][0]["rules"][1]["service"] = v


def _notes(t: dict, v: str) -> None:
    t["invoice_options"]["notes"] = v


def _provider_key(t: dict, v: str) -> None:
    t["providers"] = {v: {**t["providers"]["aws"], "plugin": "aws"}}
    t["pricebooks"][0]["provider"] = v
    customer = t["customers"][0]
    customer["pricebooks"] = {v: "aws-standard"}
    customer["accounts"] = {v: customer["accounts"]["aws"]}


def _erp_output_dir(t: dict, v: str) -> None:
    t["erp"]["settings"]["output_dir"] = v


def _erp_account_code(t: dict, v: str) -> None:
    t["erp"]["mappings"]["account_code"] = v


def _provider_path(t: dict, v: str) -> None:
    t["providers"]["aws"]["settings"]["path"] = v


def _logo(t: dict, v: str) -> None:
    t["profile"]["logo"] = v


def _exchange_rates(t: dict, v: str) -> None:
    t["exchange_rates"] = v


TEXT_FIELDS: dict[str, Callable[[dict, str], None]] = {
    "customer-name": _customer_name,
    "customer-id": _customer_id,
    "product-name": _product_name,
    "notes": _notes,
    "provider-key": _provider_key,
    "erp-output-dir": _erp_output_dir,
    "erp-account-code": _erp_account_code,
}
PATH_FIELDS: dict[str, Callable[[dict, str], None]] = {
    "provider-path": _provider_path,
    "logo": _logo,
    "exchange-rates": _exchange_rates,
}


# Every hostile text in every text field, every hostile path in every path field.
HOSTILE = [
    pytest.param(put, value, id=f"{name}-{field}")
    for fields, corpus in ((TEXT_FIELDS, TEXT), (PATH_FIELDS, PATHS))
    for field, put in fields.items()
    for name, value in corpus
]


@pytest.mark.parametrize(("put", "value"), HOSTILE)
def test_check_config_refuses_or_accepts_hostile_input_cleanly(tmp_path, put, value):
    ws = make_workspace(tmp_path)
    tenant = base_tenant()
    put(tenant, value)
    write_tenant(ws, tenant)
    assert_refused_or_ok(cli(ws, "check-config", stage="check-config"))


@pytest.mark.parametrize(("name", "fragment"), YAML_BOMBS, ids=ids(YAML_BOMBS))
def test_check_config_refuses_a_yaml_bomb_quickly_with_exit_1(tmp_path, name, fragment):
    ws = make_workspace(tmp_path)
    tenant = base_tenant()
    section = fragment.split(":", 1)[0]
    del tenant[section]
    write_tenant(ws, tenant, extra_yaml=fragment)
    started = time.monotonic()
    result = cli(ws, "check-config", stage="check-config")
    assert time.monotonic() - started < 10
    assert result.exit_code == 1, result.output[-2000:]
    assert "acme.yaml" in result.output
