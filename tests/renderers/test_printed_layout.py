"""What printed statements (PDF and HTML) list: tax once, credits in the totals block,
zero-amount and rounding lines as the tenant chooses, the exemption note."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from connector_render_html.plugin import HtmlRenderer
from connector_render_pdf.plugin import PdfRenderer
from lxml import html as lxml_html
from pypdf import PdfReader

from connector.contracts import StatementLine
from connector.plugin_kit.printed import EXEMPT_NOTE, table_lines, totals_rows
from tests.factories import make_statement


def pdf_text(document) -> str:
    reader = PdfReader(io.BytesIO(PdfRenderer().render(document, "pdf")))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def html_text(document) -> str:
    body = lxml_html.fromstring(HtmlRenderer().render(document, "html")).find("body")
    return " ".join(" ".join(body.itertext()).split())


def pdf_line_table(document) -> str:
    """The PDF text from the table header to the totals block."""
    text = pdf_text(document)
    return text[text.index("Description") : text.index("Subtotal")]


RENDERED = pytest.mark.parametrize("text_of", [pdf_text, html_text], ids=["pdf", "html"])


@RENDERED
def test_tax_is_printed_once_in_the_totals_not_in_the_line_table(text_of):
    document = make_statement()
    text = text_of(document)
    assert text.count("Sales tax 8.25%") == 1
    assert text.count("21.81") == 1
    assert "Sales tax" not in pdf_line_table(document)


@RENDERED
def test_credit_is_in_the_totals_block_which_adds_up_on_its_own(text_of):
    document = make_statement()
    text = text_of(document)
    block = text[text.index("Subtotal") :]
    assert "Subtotal 498.37 Credit applied (promotional credit) -50.00" in block
    assert "Credit applied" not in pdf_line_table(document)
    # 498.37 - 50.00 + 21.81
    assert "Total (USD) 470.18" in block


def test_totals_rows_sum_to_the_total():
    document = make_statement()
    *rows, total = totals_rows(document)
    assert [row.kind for row in rows] == ["subtotal", "credit", "tax"]
    assert sum(row.amount for row in rows) == total.amount == document.total
    # The line table's own lines sum to the subtotal row.
    assert sum(line.amount for line in table_lines(document)) == rows[0].amount


@RENDERED
def test_zero_and_rounding_lines_can_be_hidden(text_of):
    # Shown by default, as before the options existed.
    table = pdf_line_table(make_statement())
    assert "Alert Logic Threat Manager (AWS Marketplace Free Trial) 0.00" in table
    assert "Rounding adjustment -0.01" in table
    hidden = make_statement(show_zero_lines=False, show_rounding_lines=False)
    text = text_of(hidden)
    assert "Free Trial" not in text
    assert "Rounding adjustment" not in text
    assert "AWS Compute" in text
    only_zero = text_of(make_statement(show_zero_lines=False))
    assert "Rounding adjustment" in only_zero and "Free Trial" not in only_zero


@RENDERED
def test_the_marketplace_fees_rounding_line_is_hidden_with_the_other_rounding(text_of):
    """The fees' own rounding is a marketplace line (untaxed) of no category: hiding
    rounding lines hides it too, and it still counts in the subtotal."""
    lines = [
        StatementLine(1, "service", "AWS Compute", Decimal("0.05"), service_category="Compute"),
        StatementLine(2, "marketplace", "AWS Marketplace: Datadog Pro", Decimal("0.01"),
                      service_category="Datadog Pro"),
        StatementLine(3, "marketplace", "AWS Marketplace: Rounding adjustment", Decimal("-0.01")),
    ]  # fmt: skip
    shown = make_statement(lines=lines, subtotal=Decimal("0.05"), tax=Decimal(0),
                           total=Decimal("0.05"))  # fmt: skip
    assert "AWS Marketplace: Rounding adjustment" in text_of(shown)
    hidden = make_statement(lines=lines, subtotal=Decimal("0.05"), tax=Decimal(0),
                            total=Decimal("0.05"), show_rounding_lines=False)  # fmt: skip
    text = text_of(hidden)
    assert "Rounding adjustment" not in text
    assert "Datadog Pro" in text and "0.05" in text


@RENDERED
def test_exempt_customer_statement_carries_the_exemption_note(text_of):
    exempt = make_statement(tax_rate=Decimal(0), tax_exempt=True)
    assert EXEMPT_NOTE in text_of(exempt)
    assert EXEMPT_NOTE not in text_of(make_statement())


@RENDERED
def test_provider_is_named_by_its_display_name(text_of):
    text = text_of(make_statement(provider_name="Amazon Web Services"))
    assert "Amazon Web Services" in text


@RENDERED
def test_gb_statement_is_printed_in_en_gb(text_of):
    text = text_of(make_statement(currency="GBP", country="GB"))
    assert "Total (GBP) £470.18" in text
    assert "Due date 8 May 2025" in text
    assert "Amount due £470.18 by 8 May 2025" in text


def test_html_print_page_size_is_the_documents():
    a4 = HtmlRenderer().render(make_statement(page_size="A4"), "html").decode()
    letter = HtmlRenderer().render(make_statement(), "html").decode()
    assert "@page { size: A4;" in a4
    assert "@page { size: letter;" in letter
