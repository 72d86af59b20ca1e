"""The ubl renderer: each document validates against the OASIS UBL schemas, its totals
are the hand-computed ones, and EN 16931's sum rules (BR-CO-10..16) hold exactly.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from connector_render_ubl.document import DRAFT_REFUSAL
from connector_render_ubl.plugin import UblRenderer
from lxml import etree

from connector.contracts import PluginError, StatementDocument, StatementLine
from tests.factories import make_draft, make_statement

XSD_DIR = Path(__file__).resolve().parents[1] / "contracts" / "ubl" / "xsd" / "maindoc"
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
RATE = Decimal("0.0825")


@pytest.fixture(scope="session")
def schemas() -> dict[str, etree.XMLSchema]:
    """The Invoice and CreditNote schemas, parsed once (UBL 2.5 accepts 2.1 documents)."""
    return {
        root: etree.XMLSchema(etree.parse(str(XSD_DIR / f"UBL-{root}-2.5.xsd")))
        for root in ("Invoice", "CreditNote")
    }


def render(document: StatementDocument) -> bytes:
    return UblRenderer().render(document, "ubl")


def taxed(document: StatementDocument) -> StatementDocument:
    """The factory computes 8.25% tax but leaves the rate off the document: put it on."""
    return dataclasses.replace(document, tax_name="US Sales Tax", tax_rate=RATE)


def statement(lines: list[tuple[str, str, str]], **fields) -> StatementDocument:
    """The standard statement with ``lines`` (kind, description, amount) instead of its own.

    Tax is the sum of the tax lines and the total the sum of all lines: the input the
    core would hand over, not something the renderer computes.
    """
    built = [
        StatementLine(position, kind, description, Decimal(amount))
        for position, (kind, description, amount) in enumerate(lines, start=1)
    ]
    tax = sum((line.amount for line in built if line.kind == "tax"), Decimal(0))
    total = sum((line.amount for line in built), Decimal(0))
    values = dict(lines=built, subtotal=total - tax, tax=tax, total=total)
    return dataclasses.replace(make_statement(), **{**values, **fields})


def valid(data: bytes, schemas) -> etree._Element:
    """The parsed document, after asserting it validates against its UBL schema."""
    root = etree.fromstring(data)
    schema = schemas[etree.QName(root).localname]
    assert schema.validate(root), schema.error_log
    return root


def amount(root: etree._Element, path: str) -> Decimal:
    found = root.xpath(path, namespaces=NS)
    assert len(found) <= 1, path
    return Decimal(found[0].text) if found else Decimal(0)


def amounts(root: etree._Element, path: str) -> list[Decimal]:
    return [Decimal(node.text) for node in root.xpath(path, namespaces=NS)]


def totals(root: etree._Element) -> dict[str, Decimal]:
    names = (
        "LineExtensionAmount",
        "TaxExclusiveAmount",
        "TaxInclusiveAmount",
        "AllowanceTotalAmount",
        "ChargeTotalAmount",
        "PrepaidAmount",
        "PayableAmount",
    )
    result = {name: amount(root, f"cac:LegalMonetaryTotal/cbc:{name}") for name in names}
    result["TaxAmount"] = amount(root, "cac:TaxTotal/cbc:TaxAmount")
    return result


def check_sum_rules(root: etree._Element) -> None:
    """EN 16931 BR-CO-10..16, BR-S/E-08 and Peppol R120, by our own XPath arithmetic."""
    t = totals(root)
    lines = root.xpath("cac:InvoiceLine | cac:CreditNoteLine", namespaces=NS)
    line_amounts = amounts(root, "(cac:InvoiceLine | cac:CreditNoteLine)/cbc:LineExtensionAmount")
    assert sum(line_amounts) == t["LineExtensionAmount"]  # BR-CO-10
    allowances = amounts(root, "cac:AllowanceCharge[cbc:ChargeIndicator='false']/cbc:Amount")
    charges = amounts(root, "cac:AllowanceCharge[cbc:ChargeIndicator='true']/cbc:Amount")
    assert sum(allowances, Decimal(0)) == t["AllowanceTotalAmount"]  # BR-CO-11
    assert sum(charges, Decimal(0)) == t["ChargeTotalAmount"]  # BR-CO-12
    assert t["TaxExclusiveAmount"] == (
        t["LineExtensionAmount"] - t["AllowanceTotalAmount"] + t["ChargeTotalAmount"]
    )  # BR-CO-13
    assert t["TaxAmount"] == sum(amounts(root, "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxAmount"))
    assert t["TaxInclusiveAmount"] == t["TaxExclusiveAmount"] + t["TaxAmount"]  # BR-CO-15
    assert t["PayableAmount"] == t["TaxInclusiveAmount"] - t["PrepaidAmount"]  # BR-CO-16
    for sub in root.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=NS):
        code = sub.findtext("cac:TaxCategory/cbc:ID", namespaces=NS)
        in_lines = sum(
            Decimal(line.findtext("cbc:LineExtensionAmount", namespaces=NS))
            for line in lines
            if line.findtext("cac:Item/cac:ClassifiedTaxCategory/cbc:ID", namespaces=NS) == code
        )
        adjust = Decimal(0)
        for node in root.xpath(
            f"cac:AllowanceCharge[cac:TaxCategory/cbc:ID='{code}']", namespaces=NS
        ):
            value = Decimal(node.findtext("cbc:Amount", namespaces=NS))
            adjust += (
                value if node.findtext("cbc:ChargeIndicator", namespaces=NS) == "true" else -value
            )
        assert Decimal(sub.findtext("cbc:TaxableAmount", namespaces=NS)) == in_lines + adjust
    for line in lines:
        quantity = Decimal(
            line.xpath("cbc:InvoicedQuantity | cbc:CreditedQuantity", namespaces=NS)[0].text
        )
        price = Decimal(line.findtext("cac:Price/cbc:PriceAmount", namespaces=NS))
        assert price >= 0  # BR-27
        assert quantity * price == Decimal(line.findtext("cbc:LineExtensionAmount", namespaces=NS))
    currency = root.findtext("cbc:DocumentCurrencyCode", namespaces=NS)
    assert {node.get("currencyID") for node in root.xpath("//*[@currencyID]")} == {currency}


def test_statement_with_tax_credit_marketplace_and_rounding(schemas):
    """Services 141.81 + 77.02 + 24.14 + 71.41 = 314.38; marketplace 184.00 + 0.00;
    rounding -0.01; credit -50.00 before tax, so the 8.25% base is
    314.38 - 0.01 - 50.00 = 264.37 and tax 21.81 (21.8105). Lines 498.38; allowances
    0.01 + 50.00 = 50.01; without tax 448.37; with tax 470.18 = payable = total.
    """
    document = taxed(make_statement())
    root = valid(render(document), schemas)
    check_sum_rules(root)
    assert totals(root) == {
        "LineExtensionAmount": Decimal("498.38"),
        "TaxExclusiveAmount": Decimal("448.37"),
        "TaxInclusiveAmount": Decimal("470.18"),
        "AllowanceTotalAmount": Decimal("50.01"),
        "ChargeTotalAmount": Decimal(0),
        "PrepaidAmount": Decimal(0),
        "PayableAmount": Decimal("470.18"),
        "TaxAmount": Decimal("21.81"),
    }
    assert document.total == Decimal("470.18")
    subtotals = root.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=NS)
    assert [s.findtext("cac:TaxCategory/cbc:ID", namespaces=NS) for s in subtotals] == ["S", "E"]
    assert subtotals[0].findtext("cac:TaxCategory/cbc:Percent", namespaces=NS) == "8.25"
    assert subtotals[0].findtext("cbc:TaxableAmount", namespaces=NS) == "264.37"
    assert subtotals[1].findtext("cbc:TaxableAmount", namespaces=NS) == "184.00"
    assert "Marketplace" in subtotals[1].findtext(
        "cac:TaxCategory/cbc:TaxExemptionReason", namespaces=NS
    )
    assert root.findtext("cbc:CustomizationID", namespaces=NS).endswith("poacc:billing:3.0")
    assert root.findtext("cbc:ID", namespaces=NS) == "NW-2025-0042"
    assert root.findtext("cbc:InvoiceTypeCode", namespaces=NS) == "380"
    assert root.findtext("cbc:DueDate", namespaces=NS) == "2025-05-08"
    assert len(root.xpath("cac:InvoiceLine", namespaces=NS)) == 6


def test_credit_applied_after_tax_is_the_prepaid_amount(schemas):
    """Service 1,000.00 taxed in full: 82.50. The 300.00 credit then reduces what is due
    (tax 82.50 = 8.25% of 1,000.00, not of 700.00), so it is PrepaidAmount:
    1,082.50 - 300.00 = 782.50 payable, and no allowance.
    """
    document = statement(
        [
            ("service", "AWS Compute", "1000.00"),
            ("credit", "Credits applied", "-300.00"),
            ("tax", "US Sales Tax (8.25%)", "82.50"),
        ],
        tax_rate=RATE,
    )
    root = valid(render(document), schemas)
    check_sum_rules(root)
    t = totals(root)
    assert (t["TaxExclusiveAmount"], t["TaxInclusiveAmount"]) == (
        Decimal("1000.00"),
        Decimal("1082.50"),
    )
    assert (t["PrepaidAmount"], t["PayableAmount"]) == (Decimal("300.00"), Decimal("782.50"))
    assert root.xpath("cac:AllowanceCharge", namespaces=NS) == []


def test_credit_before_tax_that_also_pays_marketplace_is_split(schemas):
    """Service 100.00, marketplace 40.00, credit 120.00 before tax: 100.00 reduces the
    taxed base (tax 0.00 on 0.00) and 20.00 pays marketplace fees (category E).
    Payable 140.00 - 120.00 = 20.00.
    """
    document = statement(
        [
            ("service", "AWS Compute", "100.00"),
            ("marketplace", "Datadog", "40.00"),
            ("credit", "Credits applied", "-120.00"),
            ("tax", "Tax (8.25%)", "0.00"),
        ],
        tax_rate=RATE,
    )
    root = valid(render(document), schemas)
    check_sum_rules(root)
    categories = root.xpath("cac:AllowanceCharge/cac:TaxCategory/cbc:ID/text()", namespaces=NS)
    assert categories == ["S", "E"]
    assert amounts(root, "cac:AllowanceCharge/cbc:Amount") == [Decimal("100.00"), Decimal("20.00")]
    assert totals(root)["PayableAmount"] == Decimal("20.00")


def test_discount_support_and_positive_rounding(schemas):
    """Service 500.00, discount -25.00 (allowance), support 47.50 (a line), rounding
    +0.01 (a charge): base 522.51, 8.25% = 43.107 -> 43.11. Lines 547.50; without tax
    547.50 - 25.00 + 0.01 = 522.51; payable 565.62.
    """
    document = statement(
        [
            ("service", "AWS Compute", "500.00"),
            ("discount", "Discount (5%)", "-25.00"),
            ("support", "Support plan", "47.50"),
            ("rounding", "Rounding adjustment", "0.01"),
            ("tax", "Tax (8.25%)", "43.11"),
        ],
        tax_rate=RATE,
    )
    root = valid(render(document), schemas)
    check_sum_rules(root)
    t = totals(root)
    assert t["LineExtensionAmount"] == Decimal("547.50")
    assert (t["AllowanceTotalAmount"], t["ChargeTotalAmount"]) == (
        Decimal("25.00"),
        Decimal("0.01"),
    )
    assert (t["TaxExclusiveAmount"], t["PayableAmount"]) == (Decimal("522.51"), Decimal("565.62"))
    assert root.xpath("//cbc:PayableRoundingAmount", namespaces=NS) == []


def test_statement_without_tax_is_all_exempt_with_a_reason(schemas):
    """No tax rate: services 200.00 and marketplace 10.00 both in one E breakdown of
    210.00; the 30.00 credit is an allowance; payable 180.00.
    """
    document = statement(
        [
            ("service", "AWS Compute", "200.00"),
            ("marketplace", "Datadog", "10.00"),
            ("credit", "Credits applied", "-30.00"),
        ]
    )
    root = valid(render(document), schemas)
    check_sum_rules(root)
    (sub,) = root.xpath("cac:TaxTotal/cac:TaxSubtotal", namespaces=NS)
    assert sub.findtext("cac:TaxCategory/cbc:ID", namespaces=NS) == "E"
    assert sub.findtext("cbc:TaxableAmount", namespaces=NS) == "180.00"
    assert sub.findtext("cac:TaxCategory/cbc:TaxExemptionReason", namespaces=NS)
    assert totals(root)["PayableAmount"] == Decimal("180.00")


def test_negative_total_is_a_credit_note_with_positive_amounts(schemas):
    """A correction of -120.00 with its -9.90 tax (8.25% of 120.00) totals -129.90: a
    CreditNote (381) crediting 120.00 + 9.90 = 129.90, without a due date.
    """
    document = statement(
        [("service", "AWS Compute correction", "-120.00"), ("tax", "Tax (8.25%)", "-9.90")],
        tax_rate=RATE,
    )
    root = valid(render(document), schemas)
    assert etree.QName(root).localname == "CreditNote"
    check_sum_rules(root)
    assert root.findtext("cbc:CreditNoteTypeCode", namespaces=NS) == "381"
    assert root.find("cbc:DueDate", namespaces=NS) is None
    assert root.findtext("cac:CreditNoteLine/cbc:CreditedQuantity", namespaces=NS) == "1"
    t = totals(root)
    assert (t["TaxAmount"], t["PayableAmount"]) == (Decimal("9.90"), Decimal("129.90"))


def test_negative_line_on_an_invoice_has_negative_quantity_and_positive_price(schemas):
    """Service 300.00 and a correction -50.00: tax 8.25% of 250.00 = 20.63 (20.625);
    payable 270.63. The correction is quantity -1 at price 50.00 (BR-27).
    """
    document = statement(
        [
            ("service", "AWS Compute", "300.00"),
            ("service", "Correction", "-50.00"),
            ("tax", "Tax (8.25%)", "20.63"),
        ],
        tax_rate=RATE,
    )
    root = valid(render(document), schemas)
    check_sum_rules(root)
    line = root.xpath("cac:InvoiceLine[cbc:ID='2']", namespaces=NS)[0]
    assert line.findtext("cbc:InvoicedQuantity", namespaces=NS) == "-1"
    assert line.findtext("cac:Price/cbc:PriceAmount", namespaces=NS) == "50.00"
    assert totals(root)["PayableAmount"] == Decimal("270.63")


def test_jpy_amounts_have_no_decimals(schemas):
    """JPY 120,000 + 8,500, 10% tax 12,850: payable 141,350, written without decimals."""
    document = statement(
        [
            ("service", "AWS Compute", "120000"),
            ("service", "AWS Storage", "8500"),
            ("tax", "Consumption tax (10%)", "12850"),
        ],
        currency="JPY",
        tax_rate=Decimal("0.10"),
    )
    root = valid(render(document), schemas)
    check_sum_rules(root)
    assert root.findtext("cac:LegalMonetaryTotal/cbc:PayableAmount", namespaces=NS) == "141350"
    assert (
        root.findtext("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent", namespaces=NS)
        == "10"
    )
    assert root.xpath("//@currencyID") and set(root.xpath("//@currencyID")) == {"JPY"}


def test_foreign_billing_currency_is_noted_and_document_currency_kept(schemas):
    document = dataclasses.replace(
        taxed(make_statement()),
        currency="EUR",
        billing_currency="USD",
        exchange_rate=Decimal("0.9216"),
    )
    root = valid(render(document), schemas)
    check_sum_rules(root)
    assert root.findtext("cbc:DocumentCurrencyCode", namespaces=NS) == "EUR"
    assert root.find("cbc:TaxCurrencyCode", namespaces=NS) is None
    notes = root.findall("cbc:Note", namespaces=NS)
    assert len(notes) == 1  # Peppol allows one
    assert "converted from USD at 1 USD = 0.9216 EUR" in notes[0].text


def test_same_currency_has_no_exchange_note(schemas):
    document = dataclasses.replace(taxed(make_statement()), billing_currency="USD")
    assert b"converted from" not in render(document)


def test_custom_fields_join_the_single_note_and_payment_method_is_payment_means(schemas):
    document = dataclasses.replace(
        taxed(make_statement()), custom_fields={"PO number": "PO-77"}, payment_method="Credit card"
    )
    root = valid(render(document), schemas)
    (note,) = root.findall("cbc:Note", namespaces=NS)
    assert note.text.startswith("Payment by ACH") and note.text.endswith("PO number: PO-77")
    code = root.find("cac:PaymentMeans/cbc:PaymentMeansCode", namespaces=NS)
    assert (code.text, code.get("name")) == ("54", "Credit card")


def test_no_payment_means_without_a_payment_method(schemas):
    root = valid(render(taxed(make_statement())), schemas)
    assert root.find("cac:PaymentMeans", namespaces=NS) is None


def test_same_document_renders_byte_identical():
    first, second = render(taxed(make_statement())), render(taxed(make_statement()))
    assert first == second
    assert first.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_draft_is_refused():
    with pytest.raises(PluginError) as caught:
        render(taxed(make_draft()))
    assert str(caught.value) == DRAFT_REFUSAL == "a draft has no invoice number; approve it first"


def test_tax_without_a_rate_is_refused():
    with pytest.raises(PluginError, match="no tax_rate"):
        render(make_statement())  # the factory charges 21.81 tax but sets no rate


def test_lines_that_do_not_add_up_to_the_total_are_refused():
    document = dataclasses.replace(taxed(make_statement()), total=Decimal("470.19"))
    with pytest.raises(PluginError, match="lines add up to 470.18 but its total is 470.19"):
        render(document)


def test_amount_finer_than_the_currency_is_refused():
    document = statement([("service", "AWS Compute", "10.005")])
    with pytest.raises(PluginError, match="not rounded to the currency's 2 decimal places"):
        render(document)


def test_unknown_format_is_refused():
    with pytest.raises(PluginError, match="no format 'pdf'"):
        UblRenderer().render(taxed(make_statement()), "pdf")


def test_ubl_renderer_is_discoverable():
    assert "ubl-renderer" in {ep.name for ep in entry_points(group="billing_connector")}
    from connector.plugins import load_plugins

    registry = load_plugins().renderers
    assert registry.get("ubl") is UblRenderer
    assert registry.suffix("ubl") == ".xml"


def test_every_conformance_kit_sample_that_renders_is_valid_ubl(schemas):
    from connector.testing.samples import sample_documents

    rendered = 0
    for name, document in sample_documents().items():
        if document.number is None:
            continue  # the draft sample is refused (see test_draft_is_refused)
        root = valid(render(document), schemas)
        check_sum_rules(root)
        assert totals(root)["PayableAmount"] == abs(document.total), name
        rendered += 1
    assert rendered >= 3
