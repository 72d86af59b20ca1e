"""The pdf renderer's line table: a row's cells on one baseline, amounts ending at one
edge, long descriptions wrapped inside their column, and the table across pages
(header repeated, no row cut in two)."""

from __future__ import annotations

import io
from dataclasses import replace
from decimal import Decimal
from typing import NamedTuple

from connector_render_pdf.plugin import PdfRenderer
from pypdf import PdfReader
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth

from connector.contracts import StatementLine
from tests.factories import make_draft, make_statement

# Letter, 0.75in margins and the 6pt padding inside them.
LEFT, RIGHT = 60.0, 552.0
BOTTOM = 0.9 * inch + 6
FOOTER_BASELINE = 30
ACCOUNT_LEFT = RIGHT - 1.3 * inch - 1.4 * inch


class Run(NamedTuple):
    page: int
    font: str
    size: float
    x: float
    y: float
    text: str

    @property
    def right(self) -> float:
        return self.x + stringWidth(self.text, self.font, self.size)


def text_runs(data: bytes) -> list[Run]:
    """Every piece of text drawn, top to bottom and left to right on each page."""
    runs = []
    for number, page in enumerate(PdfReader(io.BytesIO(data)).pages, start=1):

        def visit(text, cm, tm, font, size, number=number):
            if text.strip():
                x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                name = font["/BaseFont"].split("+")[-1]
                runs.append(Run(number, name, round(size * tm[0], 2), round(x, 2), round(y, 2),
                                text.strip()))  # fmt: skip

        page.extract_text(visitor_text=visit)
    return sorted(runs, key=lambda run: (run.page, -run.y, run.x))


def render(document) -> bytes:
    return PdfRenderer().render(document, "pdf")


def squash(text: str) -> str:
    return " ".join(text.split())


def test_a_rows_cells_share_a_baseline_and_amounts_end_at_one_edge():
    lines = [
        StatementLine(1, "service", "AWS Compute", Decimal("117.31"), account_id="111122223333"),
        StatementLine(2, "service", "Storage · R&D <archive>", Decimal("40.22")),
        StatementLine(3, "service", "Two  spaces", Decimal("1.00"), account_id="4444"),
        StatementLine(4, "service", "", Decimal("0.00")),
        StatementLine(5, "service", "Last", Decimal("-2.50"), account_id="5555"),
    ]
    document = replace(
        make_statement(lines=lines),
        custom_fields={"PO number": "PO-7781", "A label too long to fit": "x & y"},
    )
    runs = {run.text: run for run in text_runs(render(document))}

    compute, storage, spaces, last = (runs[text] for text in
                                      ("AWS Compute", "Storage · R&D <archive>", "Two spaces",
                                       "Last"))  # fmt: skip
    assert compute.y == runs["111122223333"].y == runs["117.31"].y
    assert spaces.y == runs["4444"].y == runs["1.00"].y
    # One line a row, 17 points apart (11pt leading, 3pt above and below); the row of an
    # empty description keeps its place.
    assert [compute.y - storage.y, storage.y - spaces.y, spaces.y - last.y] == [17, 17, 34]
    assert {run.x for run in (compute, storage, spaces, last)} == {LEFT + 6}
    assert runs["111122223333"].x == runs["4444"].x == round(ACCOUNT_LEFT + 6, 2)
    amounts = [runs[text] for text in ("117.31", "40.22", "1.00", "0.00", "-2.50")]
    assert {round(run.right, 2) for run in amounts} == {RIGHT - 6}
    # Markup characters are text; a fact's label too long for its column wraps.
    assert runs["x & y"].y == runs["A label too"].y
    assert runs["long to fit"].y == runs["A label too"].y - 11


def test_a_very_long_description_wraps_inside_its_column_and_is_fully_present():
    arn = "arn:aws:s3:::" + "a-very-long-bucket-name" * 6  # one word wider than the column
    description = " ".join(f"word{n}" for n in range(60)) + " " + arn
    line = StatementLine(1, "service", description, Decimal("9.99"), account_id="111122223333")
    runs = text_runs(render(make_statement(lines=[line])))

    header = next(run for run in runs if run.text == "Description")
    subtotal = next(run for run in runs if run.text == "Subtotal")
    cell = [run for run in runs if run.x == LEFT + 6 and subtotal.y < run.y < header.y]
    assert len(cell) >= 5
    # Every word, in order, nothing cut off: the ARN broken between characters only.
    assert "".join(run.text for run in cell).replace(" ", "") == description.replace(" ", "")
    assert all(run.right <= ACCOUNT_LEFT - 6 + 0.01 for run in cell)
    assert [round(a.y - b.y, 2) for a, b in zip(cell, cell[1:], strict=False)] == [11] * (
        len(cell) - 1
    )
    amount = next(run for run in runs if run.text == "9.99")
    assert amount.y == cell[0].y == next(run for run in runs if run.text == "111122223333").y
    # The row is as tall as its lines: the totals start below the last one.
    assert subtotal.y < cell[-1].y - 11


def long_lines(count: int) -> list[StatementLine]:
    """``count`` lines, every third with a description that wraps onto two lines."""
    wraps = "with a description long enough that it has to wrap onto a second line here"
    return [
        StatementLine(
            n,
            "service",
            f"Line {n:03d} {wraps if n % 3 == 0 else 'short'}",
            Decimal(n) + Decimal("0.25"),
            account_id=f"{n:012d}",
        )  # fmt: skip
        for n in range(1, count + 1)
    ]


def test_a_three_page_table_repeats_its_header_and_cuts_no_row_in_two():
    lines = long_lines(60)
    data = render(make_statement(lines=lines))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 3
    runs = text_runs(data)
    pages = [squash(page.extract_text()) for page in reader.pages]
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of 3" in text
        on_page = [run for run in runs if run.page == number]
        header = {run.text: run for run in on_page if run.font.endswith("Bold") and run.size == 9}
        assert {"Description", "Account", "Amount (USD)"} <= header.keys(), number
        rows = [run for run in on_page if run.text.startswith("Line ")]
        assert rows and header["Description"].y > max(run.y for run in rows)
        # Nothing in the bottom margin but the footer.
        assert all(run.y > BOTTOM or run.y == FOOTER_BASELINE for run in on_page)
    assert all(line.description in pages[0] for line in lines[:5])
    assert all(line.description in pages[2] for line in lines[-5:])
    for line in lines:
        # The whole row (both lines of a wrapped description, account, amount) on one
        # page, and on one only.
        holding = [n for n, text in enumerate(pages) if line.description in text]
        assert len(holding) == 1, line.description
        assert line.account_id in pages[holding[0]]
        assert f"{line.amount:.2f}" in pages[holding[0]]


def test_every_page_of_a_long_draft_is_watermarked():
    data = render(make_draft(lines=long_lines(60)))
    pages = PdfReader(io.BytesIO(data)).pages
    assert len(pages) == 3
    assert all("DRAFT" in page.extract_text() for page in pages)


def test_a_description_taller_than_a_page_continues_on_the_next_and_loses_nothing():
    description = "\n".join(f"Usage detail {n:03d}" for n in range(1, 121))
    line = StatementLine(1, "service", description, Decimal("5.00"), account_id="111122223333")
    data = render(make_statement(lines=[line]))
    runs = text_runs(data)
    details = [run.text for run in runs if run.text.startswith("Usage detail")]
    assert details == description.split("\n")
    assert len({run.page for run in runs if run.text.startswith("Usage detail")}) >= 2
    assert all(run.y > BOTTOM or run.y == FOOTER_BASELINE for run in runs)
    assert [run.text for run in runs if run.text == "5.00"] == ["5.00"]
