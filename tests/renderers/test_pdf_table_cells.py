"""The pdf renderer's table cells: one-line text drawn as plain strings, exactly where a
Paragraph would put it, so a statement's cost does not grow with a Paragraph per line."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal

from connector_render_pdf import story
from connector_render_pdf.plugin import PdfRenderer
from pypdf import PdfReader
from reportlab.platypus import Paragraph

from connector.contracts import StatementLine
from tests.factories import make_long_statement, make_statement


def text_runs(data: bytes) -> list[tuple[int, str, float, float, float, str]]:
    """Every piece of text drawn: page, font, size, x, y and the text, in a fixed order."""
    runs = []
    for number, page in enumerate(PdfReader(io.BytesIO(data)).pages):

        def visit(text, cm, tm, font, size, number=number):
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                name = font.get("/BaseFont") if font else None
                runs.append((number, name, round(size * tm[0], 2), round(x, 2), round(y, 2),
                             text.strip()))  # fmt: skip

        page.extract_text(visitor_text=visit)
    return sorted(runs)


def test_one_line_cells_print_exactly_where_their_paragraphs_would(monkeypatch):
    lines = [
        StatementLine(1, "service", "AWS Compute", Decimal("117.31"), account_id="111122223333"),
        StatementLine(2, "service", "Storage · R&D <archive>", Decimal("40.22")),
        StatementLine(3, "service", "Two  spaces", Decimal("1.00"), account_id="4444"),
        StatementLine(
            4, "service", "A description far too long for its column " * 3, Decimal("2.00")
        ),
        StatementLine(5, "service", "", Decimal("0.00")),
        StatementLine(6, "tax", "Sales Tax 8.25%", Decimal("13.24")),
    ]
    document = replace(
        make_statement(lines=lines),
        custom_fields={"PO number": "PO-7781", "A label too long to fit": "x & y"},
    )
    fast = PdfRenderer().render(document, "pdf")

    def always_a_paragraph(text, style, room, markup=None):
        return Paragraph(story._text(text) if markup is None else markup, style)

    monkeypatch.setattr(story, "_one_line_or_paragraph", always_a_paragraph)
    paragraphs = PdfRenderer().render(document, "pdf")
    drawn = text_runs(fast)
    assert drawn == text_runs(paragraphs)
    texts = {run[-1] for run in drawn}
    assert {"AWS Compute", "Storage · R&D <archive>", "PO-7781", "x & y"} <= texts


def test_statement_lines_that_fit_on_one_line_add_no_paragraphs(monkeypatch):
    made = []

    class CountedParagraph(Paragraph):
        def __init__(self, *args, **kwargs):
            made.append(args[0])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(story, "Paragraph", CountedParagraph)
    counts = []
    for line_count in (10, 40):
        made.clear()
        PdfRenderer().render(make_long_statement(line_count), "pdf")
        counts.append(len(made))
    assert counts[0] == counts[1]
