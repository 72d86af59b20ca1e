"""Invoice bodies, exact money JSON, and the sink's settings."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import pytest
from connector_erp_quickbooks import money_json
from connector_erp_quickbooks.payloads import (
    customer_payload,
    exchange_rate,
    invoice_lines,
    invoice_payload,
    taxed_lines,
)
from connector_erp_quickbooks.settings import QuickBooksSettings, resolve_mapping
from hypothesis import given
from hypothesis import strategies as st
from quickbooks.objects.detailline import SalesItemLine

from connector.contracts import Party, PluginError
from tests.erp.quickbooks_xml import validate
from tests.factories import TAX_RATE, make_statement

BASE = {
    "client_id": "app",
    "client_secret": "app-client-secret",
    "realm_id": "123",
    "item_ref": "1",
    "tax_code": "5",
}


def settings(**values) -> QuickBooksSettings:
    return QuickBooksSettings.model_validate({**BASE, **values})


# -- money ---------------------------------------------------------------------------


def test_the_sdk_would_send_a_decimal_as_a_string():
    """Why money_json exists: python-quickbooks' to_json quotes Decimals."""
    line = SalesItemLine()
    line.Amount = Decimal("123.45")
    assert '"Amount": "123.45"' in line.to_json()


def test_decimals_are_written_as_exact_numbers():
    text = money_json.dumps(
        {"Amount": Decimal("123.45"), "Qty": Decimal(1), "Rate": Decimal("1E-7")}
    )
    assert text == '{"Amount":123.45,"Qty":1,"Rate":0.0000001}'


def test_negative_zero_is_written_as_zero():
    assert money_json.dumps(Decimal("-0.00")) == "0.00"


def test_a_float_in_a_payload_is_refused():
    with pytest.raises(TypeError, match="must be Decimal"):
        money_json.dumps({"Amount": 0.1})


def test_a_non_finite_amount_is_refused():
    with pytest.raises(ValueError):
        money_json.dumps(Decimal("NaN"))


@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=2, min_value=-(10**9), max_value=10**9
    )
)
def test_any_amount_reads_back_exactly(amount):
    assert json.loads(money_json.dumps({"A": amount}), parse_float=Decimal)["A"] == amount


def test_text_and_flags_are_json():
    assert money_json.dumps({"a": 'say "hi"', "b": True, "c": None, "d": [1]}) == (
        '{"a":"say \\"hi\\"","b":true,"c":null,"d":[1]}'
    )


# -- tax -----------------------------------------------------------------------------


def rated(document):
    return dataclasses.replace(document, tax_rate=TAX_RATE)


def test_the_credit_is_taxed_when_our_tax_included_it():
    """Services 314.38, rounding -0.01, credit -50: 264.37 x 8.25% = 21.81 (factory's tax)."""
    document = rated(make_statement())
    lines = invoice_lines(document)
    taxed, exact = taxed_lines(document, lines)
    assert exact
    assert sorted(lines[i].kind for i in taxed) == ["credit", "rounding"] + ["service"] * 4


def test_the_credit_is_untaxed_when_our_tax_left_it_out():
    """Without the credit: 314.37 x 8.25% = 25.935525 -> 25.94."""
    lines = invoice_lines(make_statement())
    net = sum((line.amount for line in lines), Decimal(0))
    document = rated(make_statement(tax=Decimal("25.94"), total=net + Decimal("25.94")))
    taxed, exact = taxed_lines(document, invoice_lines(document))
    assert exact and "credit" not in {lines[i].kind for i in taxed}


def test_no_tax_means_no_taxed_line():
    document = make_statement(tax=Decimal("0.00"), total=Decimal("448.37"))
    assert taxed_lines(document, invoice_lines(document)) == (set(), True)


def test_a_us_statement_without_tax_sends_no_tax_detail():
    lines = invoice_lines(make_statement())
    net = sum((line.amount for line in lines), Decimal(0))
    document = make_statement(tax=Decimal("0.00"), total=net)
    payload = invoice_payload(document, resolve_mapping(settings(), document), settings())
    assert "TxnTaxDetail" not in payload
    assert {line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in payload["Line"]} == {
        "NON"
    }


def test_a_us_statement_with_tax_needs_a_tax_code():
    document = make_statement()
    model = settings(tax_code=None)
    with pytest.raises(PluginError, match="set tax_code"):
        invoice_payload(document, resolve_mapping(model, document), model)


def test_a_non_us_company_needs_an_exempt_code_for_untaxed_lines():
    document = rated(make_statement())
    model = settings(company_country="GB", home_currency="GBP", tax_code="20")
    with pytest.raises(PluginError, match="exempt_tax_code"):
        invoice_payload(document, resolve_mapping(model, document), model)


def test_lines_that_do_not_add_up_to_the_total_are_refused():
    document = make_statement(total=Decimal("470.19"))
    with pytest.raises(PluginError, match="not the total 470.19"):
        invoice_payload(document, resolve_mapping(settings(), document), settings())


# -- currency ------------------------------------------------------------------------


def test_the_home_currency_has_rate_one():
    assert exchange_rate(make_statement(), "USD") == 1


def test_the_rate_is_inverted_when_billed_in_the_home_currency():
    """1 USD = 0.92 EUR, so 1 EUR = 1/0.92 = 1.0869565217... USD, kept to 7 places."""
    document = make_statement(currency="EUR", billing_currency="USD", exchange_rate=Decimal("0.92"))
    assert exchange_rate(document, "USD") == Decimal("1.0869565")


def test_no_rate_to_the_home_currency_is_refused():
    document = make_statement(currency="EUR", billing_currency="GBP", exchange_rate=Decimal("1.17"))
    with pytest.raises(PluginError, match="no rate from EUR to USD"):
        exchange_rate(document, "USD")


# -- bodies against the schema -------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        {},
        {
            "company_country": "GB",
            "home_currency": "USD",
            "exempt_tax_code": "6",
            "tax_rate_ref": "9",
        },
    ],
)
def test_the_invoice_body_validates_against_intuits_schema(values):
    document = rated(make_statement())
    model = settings(terms_ref="3", **values)
    payload = invoice_payload(document, resolve_mapping(model, document), model)
    validate("Invoice", {**payload, "CustomerRef": {"value": "7"}})


def test_a_body_with_a_field_the_schema_lacks_is_caught_by_the_converter():
    with pytest.raises(KeyError, match="Colour is not an element of Invoice"):
        validate("Invoice", {"DocNumber": "1", "Colour": "red"})


def test_a_customer_with_more_than_five_address_lines_keeps_them_all():
    customer = Party(name="Contoso", address=("a", "b", "c", "d", "e", "f"))
    payload = customer_payload("Contoso", make_statement(customer=customer))
    assert payload["BillAddr"] == {
        "Line1": "a",
        "Line2": "b",
        "Line3": "c",
        "Line4": "d",
        "Line5": "e, f",
    }
    validate("Customer", payload)


def test_a_customer_name_quickbooks_cannot_hold_is_refused():
    with pytest.raises(PluginError, match="customer_ref"):
        customer_payload("Contoso: EMEA", make_statement())


# -- settings ------------------------------------------------------------------------


def test_a_client_secret_resolved_by_the_core_is_a_plain_string_never_shown():
    """The core resolves {secret_env:}/{secret_file:} references (and refuses inline secrets in the
    tenant file) before the sink sees its settings."""
    model = settings(client_secret="hunter2")
    assert model.secret() == "hunter2"
    assert "hunter2" not in repr(model)


def test_unknown_settings_are_refused():
    with pytest.raises(ValueError, match="extra"):
        settings(colour="red")


def test_a_company_outside_the_us_must_name_its_home_currency():
    with pytest.raises(ValueError, match="home_currency is required"):
        settings(company_country="GB")


def test_a_us_company_defaults_to_usd():
    assert settings().home_currency == "USD"


def test_mappings_override_settings_and_empty_values_are_ignored():
    document = make_statement(
        erp_mappings={"tax_code": "77", "terms_ref": "", "customer_name": "C"}
    )
    mapping = resolve_mapping(settings(terms_ref="3"), document)
    assert (mapping.tax_code, mapping.terms_ref, mapping.customer_name) == ("77", "3", "C")
