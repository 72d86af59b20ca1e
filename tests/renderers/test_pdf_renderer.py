"""The pdf renderer: a real statement, readable back with pypdf."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal
from importlib.metadata import entry_points

import pytest
from connector_render_pdf.fonts import BOLD, REGULAR, register_fonts
from connector_render_pdf.plugin import PdfRenderer
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from connector.contracts import PluginError
from connector.plugin_kit.printed_text import format_amount
from tests.factories import (
    RESELLER,
    make_draft,
    make_long_statement,
    make_statement,
    write_logo,
)
from tests.renderers.factory_statement import PARTIES_AND_TERMS, TOTALS


def render(document) -> bytes:
    return PdfRenderer().render(document, "pdf")


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def squash(text: str) -> str:
    # Text extraction may break a long description over two table rows.
    return " ".join(text.split())


def test_statement_shows_number_parties_lines_totals_notes_and_dates():
    document = make_statement()
    data = render(document)
    assert data.startswith(b"%PDF-")
    text = squash(text_of(data))
    for expected in (*PARTIES_AND_TERMS, *TOTALS, "2025-04-08", "2025-05-08", "Page 1 of 1"):
        assert expected in text, expected
    for line in document.lines:
        assert squash(line.description) in text, line.description
        assert format_amount(line.amount) in text, line.description


def test_amounts_have_thousands_separators_and_their_own_places():
    assert format_amount(Decimal("1234567.85")) == "1,234,567.85"
    assert format_amount(Decimal("-50.00")) == "-50.00"
    assert format_amount(Decimal("-0.00")) == "0.00"
    assert format_amount(Decimal("1234")) == "1,234"
    assert format_amount(Decimal("1.250")) == "1.250"


def test_draft_is_watermarked_and_numbered_draft():
    text = text_of(render(make_draft()))
    assert "DRAFT" in text
    assert "Statement no. DRAFT" in squash(text)


def test_open_statement_has_no_draft_watermark():
    text = text_of(render(make_statement()))
    assert "DRAFT" not in text.upper()


def test_long_statement_spans_pages_with_the_header_repeated():
    document = make_long_statement(120)
    reader = PdfReader(io.BytesIO(render(document)))
    pages = len(reader.pages)
    assert pages >= 2
    second = reader.pages[1].extract_text()
    assert f"Page 2 of {pages}" in second
    assert "Description" in second and "Amount (USD)" in second
    assert format_amount(document.total) in reader.pages[-1].extract_text()


def test_same_document_renders_byte_identical():
    assert render(make_statement()) == render(make_statement())
    assert render(make_long_statement()) == render(make_long_statement())


def test_creation_date_is_the_issue_date():
    reader = PdfReader(io.BytesIO(render(make_statement())))
    assert reader.metadata["/CreationDate"].startswith("D:20250408")
    assert reader.metadata["/Title"] == "Statement NW-2025-0042"


def test_logo_is_drawn_when_the_file_exists(tmp_path):
    logo = write_logo(tmp_path / "logo.png")
    with_logo = render(make_statement(reseller=replace(RESELLER, logo_path=logo)))
    assert len(PdfReader(io.BytesIO(with_logo)).pages[0].images) == 1
    missing = replace(RESELLER, logo_path=tmp_path / "missing.png")
    assert len(PdfReader(io.BytesIO(render(make_statement(reseller=missing)))).pages[0].images) == 0


def test_unknown_format_is_refused():
    with pytest.raises(PluginError):
        PdfRenderer().render(make_statement(), "docx")


def test_pdf_renderer_is_discoverable():
    assert "pdf-renderer" in {ep.name for ep in entry_points(group="billing_connector")}
    from connector.plugins import load_plugins

    assert load_plugins().renderers.get("pdf") is PdfRenderer


def test_a_converted_statement_shows_its_exchange_rate_and_an_unconverted_one_none():
    converted = replace(make_statement(), currency="EUR", billing_currency="USD",
                        exchange_rate=Decimal("0.921500"))  # fmt: skip
    assert "Exchange rate 1 USD = 0.9215 EUR" in squash(text_of(render(converted)))
    same = replace(make_statement(), billing_currency="USD")
    assert "Exchange rate" not in text_of(render(same))


@pytest.mark.parametrize(
    "name",
    ["Αθηναϊκά Νέφη Α.Ε. & Συνεργάτες", "ООО «Облачные Системы Сибири»"],
    ids=["greek", "cyrillic"],
)
def test_a_customer_name_in_greek_or_cyrillic_prints_in_the_embedded_font(name):
    document = make_statement()
    document = replace(document, customer=replace(document.customer, name=name))
    text = squash(text_of(render(document)))
    assert text.count(name) == 2  # under "Bill to" and in the footer
    # DejaVu Sans has every glyph: printed as letters, not as the font's empty boxes.
    register_fonts()
    for font in (REGULAR, BOLD):
        glyphs = pdfmetrics.getFont(font).face.charToGlyph
        assert all(ord(character) in glyphs for character in name), font


def test_statements_rendered_in_threads_by_a_new_process_all_come_out() -> None:
    """Regression: the Xero sink renders the PDFs it attaches from a thread pool. In a
    new process the first threads raced to register the fonts; one that saw the regular
    face registered drew before the bold one was ("no afm found for
    faceName='DejaVuSans-Bold'"). A fresh interpreter, so registration is really first."""
    import subprocess
    import sys
    from pathlib import Path

    ROOT = Path(__file__).resolve().parents[2]  # noqa: N806
    script = """
import sys, threading
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from connector_render_pdf.plugin import PdfRenderer
from tests.factories import make_statement

slow = TTFont.__init__
def slower(self, *args, **kwargs):  # widen the window between the two faces
    slow(self, *args, **kwargs)
    threading.Event().wait(0.05)
TTFont.__init__ = slower

document = make_statement()
failures = []
def render(delay):
    threading.Event().wait(delay)  # the first registers, the others come in meanwhile
    try:
        assert PdfRenderer().render(document, "pdf").startswith(b"%PDF")
    except Exception as exc:
        failures.append(repr(exc))
threads = [threading.Thread(target=render, args=(0.02 * i,)) for i in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(failures)
sys.exit(1 if failures else 0)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
