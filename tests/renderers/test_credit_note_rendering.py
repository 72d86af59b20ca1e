"""A credit note's UBL, PDF and HTML name the invoice it credits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from connector_render_html.plugin import HtmlRenderer
from connector_render_pdf.plugin import PdfRenderer
from connector_render_ubl.plugin import UblRenderer
from lxml import etree

from connector.contracts import CreditedInvoice, StatementDocument
from connector.testing.samples import credit_note
from tests.factories import make_statement
from tests.renderers.test_pdf_renderer import squash, text_of
from tests.renderers.test_ubl_renderer import NS, RATE, check_sum_rules, taxed, valid
from tests.renderers.test_ubl_renderer import schemas as schemas  # noqa: F401 (fixture)

CREDITED = CreditedInvoice("NW-2025-0042", dt.date(2025, 4, 8), "st-0001")
REFERENCE = "Credit note for NW-2025-0042, issued 2025-04-08"


def crediting() -> StatementDocument:
    """The kit's credit note (-27.60), dated after the invoice, naming it as voiding does."""
    day = dt.date(2025, 4, 20)
    return dataclasses.replace(
        credit_note(), issue_date=day, due_date=day, tax_rate=RATE, credited_invoice=CREDITED,
        notes=None,
    )  # fmt: skip


def test_the_ubl_credit_note_carries_its_billing_reference_and_validates(schemas):
    """Peppol BIS 3 BG-3: BillingReference/InvoiceDocumentReference with the invoice's
    number (BT-25) and issue date (BT-26), in a CreditNote the UBL 2.5 XSD accepts."""
    root = valid(UblRenderer().render(crediting(), "ubl"), schemas)

    assert etree.QName(root).localname == "CreditNote"
    [reference] = root.xpath("cac:BillingReference/cac:InvoiceDocumentReference", namespaces=NS)
    assert reference.findtext("cbc:ID", namespaces=NS) == "NW-2025-0042"
    assert reference.findtext("cbc:IssueDate", namespaces=NS) == "2025-04-08"
    check_sum_rules(root)
    invoice = valid(UblRenderer().render(taxed(make_statement()), "ubl"), schemas)
    assert invoice.xpath("cac:BillingReference", namespaces=NS) == []


def test_the_pdf_says_credit_note_for_the_invoice_and_owes_nothing():
    text = squash(text_of(PdfRenderer().render(crediting(), "pdf")))

    assert text.count(REFERENCE) == 2  # under the title, and where an invoice's amount due is
    assert "Credit note NW-CN-2025-0007" in text  # the footer
    assert "Credits invoice NW-2025-0042" in text and "Invoice date 2025-04-08" in text
    assert "Amount due" not in text and "Due date" not in text
    invoice = squash(text_of(PdfRenderer().render(make_statement(), "pdf")))
    assert "Credit note" not in invoice and "Amount due" in invoice


def test_the_html_says_credit_note_for_the_invoice_and_owes_nothing():
    page = HtmlRenderer().render(crediting(), "html").decode()
    visible = " ".join(re.sub(r"<[^>]+>", " ", page).split())

    assert "<h1>Credit note</h1>" in page
    assert "<title>Credit note NW-CN-2025-0007" in page
    assert visible.count(REFERENCE) == 2
    assert "Amount due" not in visible and "Due date" not in visible
    invoice = HtmlRenderer().render(make_statement(), "html").decode()
    assert "<h1>Statement</h1>" in invoice and "Amount due" in invoice
    assert "Credit note" not in invoice
