"""The softlayer provider: bad records, API failures, settings and plugin discovery."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest
from connector_softlayer import SoftLayerProvider, SoftLayerSettings, plugin
from connector_softlayer.records import amount

from connector.contracts import PluginError, Provider, SourceDataError
from connector.plugins import load_plugins
from connector.registries import ProviderRegistry
from tests.providers.softlayer_api import (
    API_KEY,
    BILLING_INFO,
    INVOICES,
    ITEMS,
    OCT_2026,
    SEP_2026,
    USERNAME,
    anniversary_account,
    answering,
    fetch,
    item,
    provider,
)


def source_error(tmp_path, change, period=SEP_2026) -> str:
    with pytest.raises(SourceDataError) as caught:
        fetch(tmp_path, anniversary_account(), period, change=change)
    return str(caught.value)


# ---------------------------------------------------------------------------
# Malformed API records
# ---------------------------------------------------------------------------


def test_a_malformed_amount_names_invoice_item_field_and_value(tmp_path):
    def comma(data):
        item(data, 5006, 9010)["recurringFee"] = "12,00"

    message = source_error(tmp_path, comma, OCT_2026)
    assert message == (
        "SoftLayer invoice 5006, item 9010: field 'recurringFee' is '12,00'; "
        'expected a decimal number such as "18.03"'
    )


def test_a_malformed_child_tax_amount_names_the_child(tmp_path):
    def bad_tax(data):
        item(data, 5005, 9007)["recurringTaxAmount"] = "n/a"

    message = source_error(tmp_path, bad_tax)
    assert "invoice 5005, item 9007" in message
    assert "'recurringTaxAmount' is 'n/a'" in message


def test_an_item_without_an_id_is_refused(tmp_path):
    def no_id(data):
        del item(data, 5001, 9001)["id"]

    message = source_error(tmp_path, no_id)
    assert message == (
        "SoftLayer invoice 5001, item at position 0: required field 'id' is missing or empty"
    )


def test_an_invoice_without_a_create_date_is_refused(tmp_path):
    def no_date(data):
        del data[INVOICES][2]["createDate"]

    assert source_error(tmp_path, no_date) == (
        "SoftLayer invoice 5002: required field 'createDate' is missing or empty"
    )


def test_an_invoice_with_an_unreadable_create_date_is_refused(tmp_path):
    def bad_date(data):
        data[INVOICES][2]["createDate"] = "10/01/2026"

    message = source_error(tmp_path, bad_date)
    assert message.startswith("SoftLayer invoice 5002: field 'createDate' is '10/01/2026'")


@pytest.mark.parametrize("value", [0.5, True, "", "1e", [], {"amount": 1}])
def test_amounts_that_are_not_exact_numbers_are_refused(value):
    with pytest.raises(SourceDataError, match="field 'recurringFee'"):
        amount(value, "SoftLayer invoice 1, item 2", "recurringFee")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("18.03", Decimal("18.03")), (" -7.5 ", Decimal("-7.5")), (3, Decimal(3)), (None, None)],
)
def test_amounts_in_strings_integers_or_absent_are_read_exactly(value, expected):
    assert amount(value, "SoftLayer invoice 1, item 2", "recurringFee") == expected


# ---------------------------------------------------------------------------
# API failures
# ---------------------------------------------------------------------------


def test_bad_credentials_give_a_plugin_error_naming_the_method_without_the_key(tmp_path):
    refused = {"error": "Invalid API token.", "code": "SoftLayer_Exception_Public"}
    with answering(BILLING_INFO, {"status": 401, "json": refused}) as rsps:
        with pytest.raises(PluginError) as caught:
            list(provider(tmp_path).fetch())
        sent = rsps.calls[0].request.headers["Authorization"]
    message = str(caught.value)
    assert not isinstance(caught.value, SourceDataError)
    assert message.startswith("SoftLayer_Account::getBillingInfo failed (HTTP 401): ")
    assert "Invalid API token." in message
    assert "username and api_key" in message
    assert API_KEY not in message
    # The real client sent the credentials, as HTTP basic auth.
    assert sent == "Basic " + base64.b64encode(f"{USERNAME}:{API_KEY}".encode()).decode()


def test_an_api_answer_echoing_the_key_is_scrubbed(tmp_path):
    denied = {"error": f"Access denied for key {API_KEY}"}
    with (
        answering(BILLING_INFO, {"status": 403, "json": denied}),
        pytest.raises(PluginError) as caught,
    ):
        list(provider(tmp_path).fetch())
    assert API_KEY not in str(caught.value)
    assert "Access denied for key ***" in str(caught.value)


def test_a_failing_item_call_names_the_item_method(tmp_path):
    data = anniversary_account()
    del data[ITEMS]["5006"]
    failed = {"error": "Internal Error", "code": "SoftLayer_Exception"}
    with (
        answering(ITEMS, {"status": 500, "json": failed}, data, 5006),
        pytest.raises(PluginError) as caught,
    ):
        list(provider(tmp_path).fetch(OCT_2026))
    assert str(caught.value) == (
        "SoftLayer_Billing_Invoice::getInvoiceTopLevelItems failed (HTTP 500): Internal Error"
    )


def test_credentials_of_another_account_are_refused(tmp_path):
    with pytest.raises(PluginError) as caught:
        fetch(tmp_path, anniversary_account(), OCT_2026, account_id="999")
    assert str(caught.value) == (
        "the SoftLayer credentials belong to account 424242, not the configured account_id "
        "999: fix the provider's api_key or account_id"
    )


def test_the_configured_account_id_is_accepted_when_it_matches(tmp_path):
    (batch,) = fetch(tmp_path, anniversary_account(), OCT_2026, account_id=424242)
    assert {c.billing_account_id for c in batch.charges} == {"424242"}


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------


def test_invalid_settings_name_every_key_but_never_echo_the_key(tmp_path):
    with pytest.raises(PluginError) as caught:
        SoftLayerProvider(
            {"api_key": API_KEY, "endpoint_url": "https://api.softlayer.com/xmlrpc/v3.1/",
             "billing_day": 32, "colour": "blue"},
            tmp_path,
        )  # fmt: skip
    message = str(caught.value)
    assert message.startswith("softlayer provider settings are invalid: ")
    for key in ("username", "endpoint_url", "billing_day", "colour"):
        assert key in message
    assert API_KEY not in message


def test_settings_defaults_use_the_public_rest_endpoint():
    settings = SoftLayerSettings.model_validate({"username": "apikey", "api_key": "x"})
    assert settings.endpoint_url == "https://api.softlayer.com/rest/v3.1/"
    assert settings.billing_day is None
    assert "x" not in repr(settings)


# ---------------------------------------------------------------------------
# Plugin surface
# ---------------------------------------------------------------------------


def test_plugin_registers_the_provider_as_softlayer():
    registry = ProviderRegistry()
    plugin.connector_register_providers(registry)
    assert registry.get("softlayer") is SoftLayerProvider


def test_the_provider_is_discovered_through_its_entry_point(monkeypatch):
    monkeypatch.delenv("CONNECTOR_BLOCK_PLUGINS", raising=False)
    host = load_plugins()
    record = {r.name: r for r in host.pm.records}["softlayer"]
    assert record.status == "loaded", record.error
    assert record.distribution == "billing-connector-softlayer"
    assert host.providers.get("softlayer") is SoftLayerProvider


def test_the_provider_satisfies_the_provider_protocol(tmp_path):
    assert isinstance(provider(tmp_path), Provider)
    assert SoftLayerProvider.settings_model is SoftLayerSettings
