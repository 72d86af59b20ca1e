"""The UBL 2.1 Invoice or CreditNote of an approved statement, element by element.

Elements are written in the order the UBL schema's sequences require and only those
Peppol BIS Billing 3.0 uses; the business term each carries (BT-/BG- of EN 16931) is
named where it is not obvious. The same document always gives the same bytes: no
clock, no generated UUID, and every list in the statement's own order.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from lxml import etree

from connector.contracts import Party, PluginError, StatementDocument
from connector_render_ubl.breakdown import Breakdown, Item, TaxCategory, breakdown
from connector_render_ubl.money import amount_text, percent_text
from connector_render_ubl.parties import is_vat_identifier, postal_address
from connector_render_ubl.payment import payment_means_code

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE_TYPE_CODE = "380"  # UNCL1001: commercial invoice
CREDIT_NOTE_TYPE_CODE = "381"  # UNCL1001: credit note
UNIT_CODE = "C62"  # UN/ECE Rec 20 "one": a statement line is one unit of its amount
DRAFT_REFUSAL = "a draft has no invoice number; approve it first"
# Peppol requires the tax scheme "VAT" on every tax category, also for US sales tax.
TAX_SCHEME = "VAT"
# BT-32, the seller's tax registration identifier, is any scheme other than VAT.
TAX_REGISTRATION_SCHEME = "TAX"


def _cac(name: str) -> str:
    return f"{{{NS_CAC}}}{name}"


def _cbc(name: str) -> str:
    return f"{{{NS_CBC}}}{name}"


class _Writer:
    """Appends UBL elements; amounts get the document currency and its decimal places."""

    def __init__(self, currency: str) -> None:
        self.currency = currency

    def agg(self, parent: etree._Element, name: str) -> etree._Element:
        return etree.SubElement(parent, _cac(name))

    def text(self, parent: etree._Element, tag: str, value: object, /, **attrs: str) -> None:
        if value is None or value == "":
            return
        element = etree.SubElement(parent, _cbc(tag), attrs)
        element.text = value.isoformat() if isinstance(value, dt.date) else str(value)

    def amount(self, parent: etree._Element, name: str, value: Decimal, what: str) -> None:
        self.text(parent, name, amount_text(value, self.currency, what), currencyID=self.currency)

    def category(self, parent: etree._Element, name: str, category: TaxCategory) -> None:
        element = self.agg(parent, name)
        self.text(element, "ID", category.code)
        self.text(element, "Percent", percent_text(category.percent))
        if name == "TaxCategory":  # an item's ClassifiedTaxCategory carries no reason
            self.text(element, "TaxExemptionReason", category.exemption_reason)
        self.text(self.agg(element, "TaxScheme"), "ID", TAX_SCHEME)


def _note(document: StatementDocument) -> str | None:
    """BT-22. Peppol allows one note (PEPPOL-EN16931-R002), so every remark goes in it."""
    parts = []
    if document.notes and document.notes.strip():
        parts.append(document.notes.strip())
    parts += [f"{label}: {value}" for label, value in document.custom_fields.items()]
    billing = document.billing_currency
    if billing and billing.upper() != document.currency.upper():
        rate = format(document.exchange_rate.normalize(), "f")
        parts.append(
            f"Amounts converted from {billing} at 1 {billing} = {rate} {document.currency}."
        )
    return "\n".join(parts) or None


def _billing_reference(w: _Writer, root: etree._Element, document: StatementDocument) -> None:
    """BG-3, the preceding invoice: the invoice a credit note credits, by its number
    (BT-25) and issue date (BT-26). Peppol asks a credit note to name it (BR-55 makes
    the number mandatory once the group is there); an invoice has none."""
    credited = document.credited_invoice
    if credited is None:
        return
    reference = w.agg(w.agg(root, "BillingReference"), "InvoiceDocumentReference")
    w.text(reference, "ID", credited.number)
    w.text(reference, "IssueDate", credited.issue_date)


def _party(w: _Writer, parent: etree._Element, party: Party, *, seller: bool, ref: str) -> None:
    node = w.agg(
        w.agg(parent, "AccountingSupplierParty" if seller else "AccountingCustomerParty"), "Party"
    )
    if party.email:  # BT-34/BT-49; EAS scheme "EM" is an e-mail address
        w.text(node, "EndpointID", party.email, schemeID="EM")
    if not seller:
        w.text(w.agg(node, "PartyIdentification"), "ID", ref)  # BT-46: the customer ID
    w.text(w.agg(node, "PartyName"), "Name", party.name)
    address = postal_address(party.address, party.tax_id)
    postal = w.agg(node, "PostalAddress")
    w.text(postal, "StreetName", address.street)
    w.text(postal, "AdditionalStreetName", address.additional_street)
    w.text(postal, "CityName", address.city)
    w.text(postal, "PostalZone", address.postal_zone)
    w.text(postal, "CountrySubentity", address.region)
    for line in address.address_lines:
        w.text(w.agg(postal, "AddressLine"), "Line", line)
    if address.country:
        w.text(w.agg(postal, "Country"), "IdentificationCode", address.country)
    vat = is_vat_identifier(party.tax_id)
    if party.tax_id and (vat or seller):
        scheme = w.agg(node, "PartyTaxScheme")
        w.text(scheme, "CompanyID", party.tax_id)
        w.text(w.agg(scheme, "TaxScheme"), "ID", TAX_SCHEME if vat else TAX_REGISTRATION_SCHEME)
    legal = w.agg(node, "PartyLegalEntity")
    w.text(legal, "RegistrationName", party.name)
    if party.tax_id and not vat and not seller:
        # A buyer has no tax registration term: BT-47 (legal registration) holds it.
        w.text(legal, "CompanyID", party.tax_id)
    if party.phone or party.email:
        contact = w.agg(node, "Contact")
        w.text(contact, "Telephone", party.phone)
        w.text(contact, "ElectronicMail", party.email)


def _line(w: _Writer, root: etree._Element, item: Item, credit_note: bool) -> None:
    line = w.agg(root, "CreditNoteLine" if credit_note else "InvoiceLine")
    w.text(line, "ID", item.position)
    quantity = format(item.quantity, "f")
    w.text(
        line,
        "CreditedQuantity" if credit_note else "InvoicedQuantity",
        quantity,
        unitCode=UNIT_CODE,
    )
    w.amount(line, "LineExtensionAmount", item.amount, f"line {item.position}")
    product = w.agg(line, "Item")
    if item.account_id:
        w.text(product, "Description", f"Cloud account {item.account_id}")
    w.text(product, "Name", item.name)
    if item.service_category:
        w.text(w.agg(product, "SellersItemIdentification"), "ID", item.service_category)
    w.category(product, "ClassifiedTaxCategory", item.category)
    w.amount(w.agg(line, "Price"), "PriceAmount", item.price, f"line {item.position}")


def _totals(w: _Writer, root: etree._Element, money: Breakdown) -> None:
    for adj in money.adjustments:
        node = w.agg(root, "AllowanceCharge")
        w.text(node, "ChargeIndicator", "true" if adj.charge else "false")
        w.text(node, "AllowanceChargeReason", adj.reason)
        w.amount(node, "Amount", adj.amount, adj.reason)
        w.category(node, "TaxCategory", adj.category)
    tax_total = w.agg(root, "TaxTotal")
    w.amount(tax_total, "TaxAmount", money.tax, "tax")
    for sub in money.subtotals:
        node = w.agg(tax_total, "TaxSubtotal")
        w.amount(node, "TaxableAmount", sub.taxable, f"{sub.category.code} taxable amount")
        w.amount(node, "TaxAmount", sub.tax, f"{sub.category.code} tax")
        w.category(node, "TaxCategory", sub.category)
    total = w.agg(root, "LegalMonetaryTotal")
    w.amount(total, "LineExtensionAmount", money.line_total, "line total")
    w.amount(total, "TaxExclusiveAmount", money.tax_exclusive, "total without tax")
    w.amount(total, "TaxInclusiveAmount", money.tax_inclusive, "total with tax")
    if money.allowance_total:
        w.amount(total, "AllowanceTotalAmount", money.allowance_total, "allowances")
    if money.charge_total:
        w.amount(total, "ChargeTotalAmount", money.charge_total, "charges")
    if money.prepaid:
        w.amount(total, "PrepaidAmount", money.prepaid, "credits after tax")
    w.amount(total, "PayableAmount", money.payable, "amount due")


def build_tree(document: StatementDocument) -> etree._Element:
    """The root element: an Invoice, or a CreditNote when the total is negative."""
    if document.number is None or document.status.strip().lower() == "draft":
        raise PluginError(DRAFT_REFUSAL)
    money = breakdown(document)
    if money.payable != money.sign * document.total:  # cannot happen: the lines were checked
        raise PluginError(f"statement {document.number}: UBL totals do not add up")
    credit_note = money.sign < 0
    namespace = NS_CREDIT_NOTE if credit_note else NS_INVOICE
    root = etree.Element(
        f"{{{namespace}}}{'CreditNote' if credit_note else 'Invoice'}",
        nsmap={None: namespace, "cac": NS_CAC, "cbc": NS_CBC},
    )
    w = _Writer(document.currency)
    w.text(root, "CustomizationID", CUSTOMIZATION_ID)
    w.text(root, "ProfileID", PROFILE_ID)
    w.text(root, "ID", document.number)
    w.text(root, "IssueDate", document.issue_date)
    if credit_note:
        # UBL 2.1 has no DueDate on a credit note, and nothing is due from the customer.
        w.text(root, "CreditNoteTypeCode", CREDIT_NOTE_TYPE_CODE)
    else:
        w.text(root, "DueDate", document.due_date)
        w.text(root, "InvoiceTypeCode", INVOICE_TYPE_CODE)
    w.text(root, "Note", _note(document))
    w.text(root, "DocumentCurrencyCode", document.currency)
    w.text(root, "BuyerReference", document.customer_id)  # Peppol R003: buyer reference
    period = w.agg(root, "InvoicePeriod")  # BG-14: the last day the half-open period covers
    w.text(period, "StartDate", document.period.start)
    w.text(period, "EndDate", document.period.end - dt.timedelta(days=1))
    _billing_reference(w, root, document)
    _party(w, root, document.reseller, seller=True, ref=document.tenant)
    _party(w, root, document.customer, seller=False, ref=document.customer_id)
    if document.payment_method:
        means = w.agg(root, "PaymentMeans")  # BG-16; BT-82 is the method as the tenant wrote it
        w.text(
            means,
            "PaymentMeansCode",
            payment_means_code(document.payment_method),
            name=document.payment_method,
        )
        w.text(means, "PaymentID", document.number)  # BT-83: remittance information
    _totals(w, root, money)
    for item in money.items:
        _line(w, root, item, credit_note)
    return root


def render_ubl(document: StatementDocument) -> bytes:
    """The statement as UTF-8 UBL XML bytes; the same document gives the same bytes."""
    return etree.tostring(
        build_tree(document), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
