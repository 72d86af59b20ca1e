"""How the ubl renderer reads free-form address lines and payment methods."""

from __future__ import annotations

import dataclasses

import pytest
from connector_render_ubl.document import build_tree
from connector_render_ubl.parties import PostalAddress, country_code, postal_address
from connector_render_ubl.payment import payment_means_code

from connector.contracts import Party
from tests.factories import make_statement

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}


def test_us_address_with_country_line():
    lines = ("88 Market Street", "Floor 3", "Suite 12", "San Francisco, CA 94105", "United States")
    assert postal_address(lines) == PostalAddress(
        street="88 Market Street",
        additional_street="Floor 3",
        address_lines=("Suite 12",),
        city="San Francisco",
        postal_zone="94105",
        region="CA",
        country="US",
    )


def test_european_address_postcode_before_city():
    assert postal_address(("Unter den Linden 5", "10117 Berlin", "Germany")) == PostalAddress(
        street="Unter den Linden 5", city="Berlin", postal_zone="10117", country="DE"
    )


def test_country_falls_back_to_the_tax_id_prefix():
    address = postal_address(("1 Rue de Rivoli", "75001 Paris"), tax_id="FR40303265045")
    assert (address.city, address.country) == ("Paris", "FR")


def test_unknown_country_is_left_out():
    assert postal_address(("1 Main St", "Springfield"), tax_id="74-1234567").country is None


@pytest.mark.parametrize(
    ("line", "code"),
    [("United States", "US"), ("USA", "US"), ("GB", "GB"), ("Deutschland", "DE"), ("Narnia", None)],
)
def test_country_line(line, code):
    assert country_code(line) == code


@pytest.mark.parametrize(
    ("method", "code"),
    [
        ("ACH", "3"),
        ("Credit card", "54"),
        ("Wire transfer", "30"),
        ("SEPA direct debit", "59"),
        ("Cheque", "20"),
        ("Barter", "ZZZ"),
    ],
)
def test_payment_means_code(method, code):
    assert payment_means_code(method) == code


def test_buyer_tax_id_without_country_prefix_is_a_legal_registration_id():
    """BR-CO-09 wants a country prefix on a VAT identifier; the buyer's unprefixed ID
    goes to PartyLegalEntity/CompanyID instead, the seller's to the "TAX" scheme (BT-32).
    """
    document = dataclasses.replace(
        make_statement(tax_rate=0),
        customer=Party(
            name="Acme", address=("1 Main St", "Austin, TX 78701", "USA"), tax_id="94-1"
        ),
        reseller=Party(name="Northwind", tax_id="74-2"),
    )
    root = build_tree(document)
    buyer = root.find("cac:AccountingCustomerParty/cac:Party", namespaces=NS)
    assert buyer.find("cac:PartyTaxScheme", namespaces=NS) is None
    assert buyer.findtext("cac:PartyLegalEntity/cbc:CompanyID", namespaces=NS) == "94-1"
    seller = root.find("cac:AccountingSupplierParty/cac:Party", namespaces=NS)
    scheme = seller.find("cac:PartyTaxScheme", namespaces=NS)
    assert scheme.findtext("cbc:CompanyID", namespaces=NS) == "74-2"
    assert scheme.findtext("cac:TaxScheme/cbc:ID", namespaces=NS) == "TAX"
    assert seller.find("cac:PostalAddress/cac:Country", namespaces=NS) is None
