"""Tenant files: the example loads, and every mistake is reported with its line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from connector.config import ConfigError, SecretRef, TenantConfig, load_tenant
from connector.config.loader import load_tenants, tenant_json_schema
from connector.config.references import masked_references, resolve_references
from tests.config.tenant_files import MARKED_UP_AWS, issues_of, write

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "tenants" / "acme.yaml"

# A small valid tenant; tests append to it or edit it. Line numbers are 1-based.
BASE = MARKED_UP_AWS + 'tax_rates:\n  - name: Sales Tax\n    rate: "0.05"\n'


def one_customer(*keys: str) -> str:
    """BASE with customer "1" (lines 20-22) and its ``keys`` from line 23 on."""
    customer = 'customers:\n  - id: "1"\n    name: A\n    invoice_currency: USD\n'
    return BASE + customer + "".join(f"    {key}\n" for key in keys)


# --------------------------------------------------------------------------- example


def test_example_tenant_loads():
    tenant = load_tenant(EXAMPLE)

    assert tenant.tenant == "acme"
    assert tenant.profile.name == "Acme Cloud Partners"
    assert tenant.base_dir == EXAMPLE.parent
    assert tenant.invoice_options.invoice_number_format == "ACME-{number:05d}"
    assert tenant.invoice_options.add_rounding_adjustments is True
    assert tenant.invoice_options.notes.startswith("This Billing Statement is for Informational")
    assert tenant.providers["aws"].plugin == "aws"
    assert tenant.resolve_path(tenant.providers["aws"].settings["path"]).resolve() == (
        REPO / "connector" / "demo_data" / "aws"
    )
    assert tenant.tax_rate("US Sales Tax").rate == Decimal("0.0825")
    rules = tenant.pricebook("aws-standard").versions[0].rules
    assert [(r.service, r.adjust, r.percent) for r in rules] == [
        (None, "markup", Decimal("15")),
        ("AmazonS3", "discount", Decimal("5")),
    ]
    assert [c.id for c in tenant.customers] == ["1001", "1002", "1003"]
    assert tenant.customer_for_account("aws", "222222222222").id == "1001"
    assert tenant.customer_for_account("aws", "444444444444").id == "1003"
    assert tenant.customer_for_account("aws", "999999999999") is None
    assert tenant.customer("1003").tax_exempt is True
    assert tenant.customer("1002").tax == "US Sales Tax"
    assert tenant.erp.mappings == {"account_code": "200", "tax_type": "Tax on Sales"}


def test_example_directory_loads_with_load_tenants():
    assert [t.tenant for t in load_tenants(EXAMPLE.parent)] == ["acme"]


def test_json_schema_has_id_title_and_forbids_unknown_keys():
    schema = tenant_json_schema()
    assert schema["$id"].startswith("urn:")
    assert schema["title"] == "Billing Connector tenant file"
    assert schema["additionalProperties"] is False
    assert {"tenant", "profile", "providers", "erp"} <= set(schema["required"])


# ------------------------------------------------------------------ reporting problems


def test_three_mistakes_give_exactly_three_issues_with_their_lines(tmp_path):
    path = write(
        tmp_path,
        BASE
        + """\
invoice_options:
  term_value: thirty
customers:
  - id: 1
    name: First Customer
    invoice_currency: USD
    acounts:
      aws: ["111111111111"]
  - id: 2
    name: Second Customer
    invoice_currency: USD
    accounts:
      aws: ["222222222222"]
  - id: 3
    name: Third Customer
    invoice_currency: USD
    accounts:
      aws:
        - "333333333333"
        - "222222222222"
""",
    )
    issues = issues_of(path)

    assert [(i.line, i.key) for i in issues] == [
        (20, "invoice_options.term_value"),
        (25, "customers[0].acounts"),
        (38, "customers[2].accounts.aws[1]"),
    ]
    assert "whole number" in issues[0].message and "'thirty'" in issues[0].message
    assert "did you mean 'accounts'" in issues[1].message
    assert "valid keys here:" in issues[1].message and "invoice_currency" in issues[1].message
    assert "customer 2 (Second Customer)" in issues[2].message
    assert "customer 3 (Third Customer)" in issues[2].message
    assert all(i.file == str(path) for i in issues)


def test_error_text_lists_issues_as_file_line_key_message(tmp_path):
    path = write(tmp_path, BASE.replace("name: Demo Reseller", "name: Demo\n  colour: red"))
    with pytest.raises(ConfigError) as caught:
        load_tenant(path)
    assert str(caught.value).startswith(f"{path}:4: profile.colour: unknown key")
    assert len(str(caught.value).splitlines()) == 1


@pytest.mark.parametrize(
    ("customers", "key", "message"),
    [
        (
            "  - id: 1001\n    name: A\n    invoice_currency: USD\n"
            '  - id: "1001"\n    name: B\n    invoice_currency: USD\n',
            "customers[1].id",
            "already used by customers[0]",
        ),
        # A repeated YAML key is reported, not silently dropped.
        (
            '  - id: "1001"\n    name: A\n    invoice_currency: USD\n    name: B\n',
            "customers[0].name",
            "duplicate key (first on line 21)",
        ),
    ],
    ids=["customer-id", "yaml-key"],
)
def test_a_repeated_customer_id_or_yaml_key_is_reported_at_the_second(
    tmp_path, customers, key, message
):
    [issue] = issues_of(write(tmp_path, BASE + "customers:\n" + customers))
    assert (issue.line, issue.key) == (23, key)
    assert message in issue.message


def test_yaml_syntax_error_names_its_line(tmp_path):
    path = write(tmp_path, BASE + "customers:\n  - id: [1001\n    name: A\n")
    [issue] = issues_of(path)
    assert issue.message.startswith("YAML syntax error")
    # The parser notices on the line after the unclosed "[", and names where it opened.
    assert issue.line == 21
    assert "flow sequence on line 20" in issue.message


def test_missing_key_is_reported_at_its_parent(tmp_path):
    path = write(tmp_path, BASE + "customers:\n  - id: '7'\n    invoice_currency: USD\n")
    [issue] = issues_of(path)
    assert (issue.line, issue.key, issue.message) == (
        20,
        "customers[0].name",
        "required key is missing",
    )


def test_cross_references_are_checked(tmp_path):
    path = write(
        tmp_path, one_customer("pricebooks: {aws: missing-book, azure: aws-std}", "tax: VAT")
    )
    messages = {(i.line, i.key): i.message for i in issues_of(path)}
    assert "no pricebook with id 'missing-book'" in messages[(23, "customers[0].pricebooks.aws")]
    assert (
        "'azure' is not one of this tenant's providers"
        in messages[(23, "customers[0].pricebooks.azure")]
    )
    assert "no tax rate named 'VAT'" in messages[(24, "customers[0].tax")]
    assert len(messages) == 3


def test_unquoted_account_ids_are_refused(tmp_path):
    path = write(tmp_path, one_customer("accounts: {aws: [111111111111]}"))
    [issue] = issues_of(path)
    assert (issue.line, issue.key) == (23, "customers[0].accounts.aws[0]")
    assert "must be quoted" in issue.message


def test_invoice_number_format_longer_than_quickbooks_allows(tmp_path):
    path = write(
        tmp_path,
        BASE
        + """\
invoice_options:
  next_invoice_number: 1001
  invoice_number_format: "ACME-CLOUD-STATEMENT-{number:06d}"
""",
    )
    [issue] = issues_of(path)
    assert (issue.line, issue.key) == (21, "invoice_options.invoice_number_format")
    assert "QuickBooks" in issue.message and "21 characters" in issue.message


def test_invoice_number_format_needs_the_number_placeholder(tmp_path):
    path = write(tmp_path, BASE + "invoice_options:\n  invoice_number_format: INV-{year}\n")
    [issue] = issues_of(path)
    assert "{number}" in issue.message


# ----------------------------------------------------------------------------- secrets


class XeroSettings(BaseModel):
    """A plugin's model: secrets are plain strings, resolved by the core before use."""

    model_config = ConfigDict(extra="forbid")
    client_id: str
    client_secret: str


def xero_lookup(kind, name):
    return XeroSettings if (kind, name) == ("sink", "xero") else None


def test_inline_secret_in_plugin_settings_is_refused(tmp_path):
    text = BASE.replace(
        "sink: csv", "sink: xero\n  settings:\n    client_id: abc\n    client_secret: s3cr3t"
    )
    issues = issues_of(write(tmp_path, text), plugin_settings_model=xero_lookup)
    assert [(i.line, i.key, i.message) for i in issues] == [
        (
            10,
            "erp.settings.client_secret",
            "secrets must be references: {secret_env: NAME} or {secret_file: PATH}, never inline",
        )
    ]
    assert "s3cr3t" not in str(issues[0])


def test_secret_looking_setting_is_refused_without_a_settings_model(tmp_path):
    text = BASE.replace("sink: csv", "sink: csv\n  settings:\n    api_token: s3cr3t")
    [issue] = issues_of(write(tmp_path, text))
    assert (issue.line, issue.key) == (9, "erp.settings.api_token")
    assert "never inline" in issue.message


def test_secret_reference_in_plugin_settings_is_accepted(tmp_path):
    text = BASE.replace(
        "sink: csv",
        "sink: xero\n  settings:\n    client_id: abc\n    client_secret: {secret_env: XERO_SECRET}",
    )
    tenant = load_tenant(write(tmp_path, text), plugin_settings_model=xero_lookup)
    assert tenant.erp.settings["client_secret"] == {"secret_env": "XERO_SECRET"}


def test_plugins_receive_secrets_resolved_and_check_config_needs_none_set(tmp_path, monkeypatch):
    """The variable is unset while checking (a placeholder stands in); when the plugin is
    made, the reference, nested or in a list, becomes the value."""
    (tmp_path / "key.txt").write_text("file-secret\n")
    settings = {"client_id": "abc", "client_secret": {"secret_env": "XERO_SECRET"},
                "extra": [{"token": {"secret_file": "key.txt"}}],
                "plain": {"secret_env": 3}}  # fmt: skip
    assert masked_references(settings)["client_secret"] == "<secret>"
    monkeypatch.setenv("XERO_SECRET", "env-secret")
    resolved = resolve_references(settings, tmp_path)
    assert resolved == {"client_id": "abc", "client_secret": "env-secret",
                        "extra": [{"token": "file-secret"}],
                        "plain": {"secret_env": 3}}  # fmt: skip
    monkeypatch.delenv("XERO_SECRET")
    with pytest.raises(LookupError, match="XERO_SECRET is not set"):
        resolve_references(settings, tmp_path)


def test_plugin_settings_errors_and_unknown_plugins_are_reported(tmp_path):
    def lookup(kind, name):
        if kind == "provider":
            raise LookupError(f"no provider named {name!r} is installed")
        return XeroSettings

    text = BASE.replace("sink: csv", "sink: xero\n  settings:\n    client_secret: {secret_env: X}")
    issues = issues_of(write(tmp_path, text), plugin_settings_model=lookup)
    assert [(i.line, i.key) for i in issues] == [
        (5, "providers.aws"),
        (8, "erp.settings.client_id"),
    ]
    assert "no provider named 'aws'" in issues[0].message
    assert issues[1].message == "required key is missing"


def test_secret_ref_refuses_plain_strings_and_needs_exactly_one_source():
    with pytest.raises(ValidationError, match="never inline"):
        SecretRef.model_validate("hunter2")
    with pytest.raises(ValidationError, match="exactly one"):
        SecretRef.model_validate({"env": "A", "file": "b"})
    with pytest.raises(ValidationError, match="exactly one"):
        SecretRef.model_validate({})


def test_secret_ref_resolves_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("CONNECTOR_TEST_SECRET", "  token-123\n")
    assert SecretRef(env="CONNECTOR_TEST_SECRET").resolve(tmp_path) == "token-123"
    monkeypatch.delenv("CONNECTOR_TEST_SECRET")
    with pytest.raises(LookupError, match="CONNECTOR_TEST_SECRET"):
        SecretRef(env="CONNECTOR_TEST_SECRET").resolve(tmp_path)


def test_secret_ref_resolves_a_file_relative_to_the_base_dir(tmp_path):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "xero").write_text("abc-def\n", encoding="utf-8")
    assert SecretRef(file="secrets/xero").resolve(tmp_path) == "abc-def"
    assert SecretRef(file=str(tmp_path / "secrets" / "xero")).resolve(Path("/")) == "abc-def"
    with pytest.raises(LookupError, match="missing-file"):
        SecretRef(file="secrets/missing-file").resolve(tmp_path)


# ----------------------------------------------------------------------------- decimals


def test_percent_stays_exact(tmp_path):
    path = write(tmp_path, BASE.replace("percent: 10", 'percent: "0.1"'))
    percent = load_tenant(path).pricebook("aws-std").versions[0].rules[0].percent
    assert isinstance(percent, Decimal)
    assert percent == Decimal("0.1")  # Decimal(0.1) would be 0.1000000000000000055...
    assert str(percent) == "0.1"


def test_yaml_float_tax_rate_is_refused_with_the_quoted_form(tmp_path):
    """Issue 18 reversed the old reading of YAML floats through str(): see
    tests/config/test_tenant_file_money.py."""
    path = write(tmp_path, BASE.replace('rate: "0.05"', "rate: 0.0825"))
    [issue] = issues_of(path)
    assert (issue.line, issue.key) == (18, "tax_rates[0].rate")
    assert 'rate: "0.0825"' in issue.message


def test_boolean_is_not_a_percentage(tmp_path):
    path = write(tmp_path, BASE.replace("percent: 10", "percent: yes"))
    [issue] = issues_of(path)
    assert issue.key == "pricebooks[0].versions[0].rules[0].percent"
    assert "expected a number" in issue.message


# ------------------------------------------------------------------ model and several files


def test_model_validate_applies_cross_reference_checks_too():
    data = {
        "tenant": "t",
        "profile": {"name": "T"},
        "providers": {"aws": {}},
        "erp": {"sink": "csv"},
        "customers": [
            {"id": 1, "name": "A", "invoice_currency": "USD", "accounts": {"aws": ["1"]}},
            {"id": 2, "name": "B", "invoice_currency": "USD", "accounts": {"aws": ["1"]}},
        ],
    }
    with pytest.raises(ValidationError, match="mapped to both customer 1"):
        TenantConfig.model_validate(data)
    data["customers"][1]["accounts"] = {"aws": ["2"]}
    assert TenantConfig.model_validate(data).customer_for_account("aws", "2").id == "2"


def test_load_tenants_reports_every_file_and_duplicate_slugs(tmp_path):
    write(tmp_path, BASE, "a.yaml")
    write(tmp_path, BASE, "b.yaml")
    write(tmp_path, BASE.replace("tenant: demo", "tenant: Other!"), "c.yaml")
    with pytest.raises(ConfigError) as caught:
        load_tenants(tmp_path)
    assert [(Path(i.file).name, i.line, i.key) for i in caught.value.issues] == [
        ("b.yaml", 1, "tenant"),
        ("c.yaml", 1, "tenant"),
    ]
    assert "also defined in" in caught.value.issues[0].message


def test_a_country_without_a_holiday_calendar_is_refused_where_it_is_written(tmp_path):
    text = BASE.replace("  name: Demo Reseller\n", "  name: Demo Reseller\n  country: UK-ish\n")
    text = text.replace("  aws: {}\n", "  aws: {close: {country: XX}}\n")
    issues = issues_of(write(tmp_path, text))
    assert [(i.line, i.key) for i in issues] == [
        (4, "profile.country"),
        (6, "providers.aws.close.country"),
    ]
    assert "'XX' is not a country with a holiday calendar" in issues[1].message
    assert "ISO 3166 code such as US, GB, DE" in issues[0].message


def test_the_close_country_defaults_to_the_profiles(tmp_path):
    text = BASE.replace("  name: Demo Reseller\n", "  name: Demo Reseller\n  country: DE\n")
    tenant = load_tenant(write(tmp_path, text))
    assert tenant.close_country("aws") == "DE"
    assert load_tenant(write(tmp_path, BASE, "plain.yaml")).close_country("aws") == "US"
