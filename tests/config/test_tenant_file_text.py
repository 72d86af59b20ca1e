"""Issue 18: names and ids fit their columns and hold no control characters.

A customer name longer than ``customers.name``, or one with a NUL, passed
``check-config`` and then failed every command at the tenant's sync on PostgreSQL
(SQLite stores either). Now the file is refused at the line, the same on both engines.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from connector.config import ConfigError, load_tenant
from connector.config import tenant as limits
from connector.runtime.tenants import sync_tenant
from connector.storage import models as m
from connector.storage.db import Database

TENANT = """\
tenant: demo
profile:
  name: {profile_name}
  address: [{profile_address}]
invoice_options:
  notes: {notes}
providers:
  {provider}: {{plugin: aws}}
erp:
  sink: csv
pricebooks:
  - id: {pricebook}
    provider: {provider}
    versions:
      - effective: 2026-01-01
tax_rates:
  - name: {tax_name}
    rate: "0.05"
customers:
  - id: {customer_id}
    name: {customer_name}
    invoice_currency: USD
    pricebooks: {{{provider}: {pricebook}}}
    accounts: {{{provider}: [{account}]}}
    tax: {tax_name}
"""
GOOD = {
    "profile_name": "Demo Reseller",
    "profile_address": '"1 Main St", "Austin, TX"',
    "notes": '"Thank you.\\nPayable within 30 days."',
    "provider": "aws",
    "pricebook": "std",
    "tax_name": "Sales Tax",
    "customer_id": '"1001"',
    "customer_name": "Blue Harbor",
    "account": '"111111111111"',
}


def write(tmp_path: Path, **values: str) -> Path:
    path = tmp_path / "tenant.yaml"
    path.write_text(textwrap.dedent(TENANT.format(**{**GOOD, **values})), encoding="utf-8")
    return path


def one_issue(path: Path):  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as caught:
        load_tenant(path)
    [issue] = caught.value.issues
    return issue


def test_the_limits_are_the_storage_column_lengths() -> None:
    def length(column) -> int:  # type: ignore[no-untyped-def]
        return column.property.columns[0].type.length

    assert length(m.Tenant.name) == limits.TENANT_NAME_LENGTH
    assert limits.CUSTOMER_ID_LENGTH == length(m.Customer.id) == length(m.Statement.customer_id)
    assert length(m.CreditEntry.customer_id) == limits.CUSTOMER_ID_LENGTH
    assert length(m.Customer.name) == limits.CUSTOMER_NAME_LENGTH
    assert length(m.ProviderAccount.provider) == limits.PROVIDER_KEY_LENGTH
    assert length(m.Statement.provider) == limits.PROVIDER_KEY_LENGTH
    assert length(m.PeriodClose.provider) == limits.PROVIDER_KEY_LENGTH
    assert length(m.ProviderAccount.account_id) == limits.ACCOUNT_ID_LENGTH
    assert length(m.Statement.tax_name) == limits.TAX_NAME_LENGTH
    assert length(m.Statement.pricebook_version) == limits.PRICEBOOK_LABEL_LENGTH


LONG = [
    ("profile_name", "x" * 201, 3, "profile.name", 200),
    ("customer_id", '"' + "9" * 65 + '"', 20, "customers[0].id", 64),
    ("customer_name", "N" * 201, 21, "customers[0].name", 200),
    ("account", '"' + "1" * 129 + '"', 24, "customers[0].accounts.aws[0]", 128),
    ("tax_name", "T" * 101, 17, "tax_rates[0].name", 100),
]


@pytest.mark.parametrize(
    ("placeholder", "value", "line", "key", "limit"), LONG, ids=[c[0] for c in LONG]
)
def test_text_longer_than_its_column_is_refused_at_its_line(
    tmp_path: Path, placeholder: str, value: str, line: int, key: str, limit: int
) -> None:
    values = {placeholder: value}
    if placeholder == "tax_name":  # named twice: only the definition is checked for length
        values["tax_name"] = value
    with pytest.raises(ConfigError) as caught:
        load_tenant(write(tmp_path, **values))
    found = {(i.line, i.key): i.message for i in caught.value.issues}
    assert f"at most {limit} fit" in found[(line, key)]


def test_a_provider_key_or_pricebook_id_too_long_to_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_tenant(write(tmp_path, provider="p" * 65, pricebook="b" * 90))
    messages = {i.key: i.message for i in caught.value.issues}
    assert "at most 64 fit" in messages[f"providers.{'p' * 65}"]
    assert "at most 89 fit" in messages["pricebooks[0].id"]


CONTROL = [
    ("customer_name", '"Blue\\0Harbor"', 21, "customers[0].name", "U+0000"),
    ("customer_name", '"Blue\\x07Harbor"', 21, "customers[0].name", "U+0007"),
    ("customer_name", '"Blue\\nHarbor"', 21, "customers[0].name", "U+000A"),
    ("customer_id", '"10\\x0001"', 20, "customers[0].id", "U+0000"),
    ("profile_name", '"Demo\\tReseller"', 3, "profile.name", "U+0009"),
    ("profile_address", '"1 Main St\\r"', 4, "profile.address[0]", "U+000D"),
    ("notes", '"Thanks\\x1b[31m"', 6, "invoice_options.notes", "U+001B"),
    ("account", '"1111\\x00"', 24, "customers[0].accounts.aws[0]", "U+0000"),
]


@pytest.mark.parametrize(
    ("placeholder", "value", "line", "key", "code"),
    CONTROL,
    ids=["nul", "bell", "newline-in-name", "nul-in-id", "tab", "cr", "escape-in-notes", "acct"],
)
def test_a_control_character_in_stored_or_printed_text_is_refused_at_its_line(
    tmp_path: Path, placeholder: str, value: str, line: int, key: str, code: str
) -> None:
    issue = one_issue(write(tmp_path, **{placeholder: value}))
    assert (issue.line, issue.key) == (line, key)
    assert f"control character {code}" in issue.message


def test_notes_may_span_lines(tmp_path: Path) -> None:
    notes = load_tenant(write(tmp_path)).invoice_options.notes
    assert notes == "Thank you.\nPayable within 30 days."


def test_the_longest_names_and_ids_a_file_may_hold_sync_on_both_engines(
    tmp_path: Path, db_url: str
) -> None:
    """What check-config accepts is what the database stores, whichever the engine."""
    tenant = load_tenant(
        write(
            tmp_path,
            profile_name="P" * 200,
            customer_id='"' + "7" * 64 + '"',
            customer_name="Ünïcode " + "n" * 192,
            account='"' + "1" * 128 + '"',
            provider="p" * 64,
        )
    )
    db = Database(db_url)
    try:
        with db.transaction() as session:
            sync_tenant(session, tenant)
        with db.transaction() as session:
            customer = session.get(m.Customer, ("demo", "7" * 64))
            assert customer is not None and customer.name == "Ünïcode " + "n" * 192
            assert session.get(m.Tenant, "demo").name == "P" * 200
    finally:
        db.dispose()
