"""The second pass: laid-out pages drawn on a ReportLab canvas, each with its DRAFT
watermark (on drafts) and its "Page N of M" footer.

Every position was worked out in the first pass, so a page's text goes out as one
text object (one ``BT``/``ET``, a font switch only where the font changes) rather
than one per string as ``drawString`` does.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.lib.colors import Color, HexColor, black
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from connector_render_pdf.blocks import Fill, Rule
from connector_render_pdf.fonts import BOLD, REGULAR
from connector_render_pdf.pages import MARGIN, Page, Sheet

WATERMARK_TEXT = "DRAFT"
FOOTER_FONT = (REGULAR, 8)
FOOTER_BASELINE = 30
_FOOTER_COLOUR = HexColor("#555555")
# Translucent red: unmistakable on screen and on paper, yet the lines stay readable.
_WATERMARK_COLOUR = Color(0.8, 0.1, 0.1, alpha=0.16)


def draw_pages(
    canvas: Canvas, pages: Sequence[Page], sheet: Sheet, footer: str, *, draft: bool
) -> None:
    """Every page onto ``canvas``, one ``showPage`` each."""
    for number, page in enumerate(pages, start=1):
        _draw_shapes(canvas, page)
        if draft:
            # Over the table's opaque fills, which hid most of it on a full page, and
            # under the text, which stays readable through it.
            draw_watermark(canvas, sheet)
        _draw_texts(canvas, page, sheet, footer, f"Page {number} of {len(pages)}")
        canvas.showPage()


def draw_watermark(canvas: Canvas, sheet: Sheet) -> None:
    """A large translucent diagonal DRAFT across the page."""
    canvas.saveState()
    canvas.setFillColor(_WATERMARK_COLOUR)
    canvas.setFont(BOLD, 120)
    canvas.translate(sheet.width / 2, sheet.height / 2)
    canvas.rotate(45)
    canvas.drawCentredString(0, -40, WATERMARK_TEXT)
    canvas.restoreState()


def _draw_shapes(canvas: Canvas, page: Page) -> None:
    fill = stroke = None
    for top, block in page:
        for shape in block.shapes:
            if isinstance(shape, Fill):
                if shape.colour != fill:
                    canvas.setFillColor(fill := shape.colour)
                canvas.rect(shape.x, top + shape.y, shape.width, shape.height, stroke=0, fill=1)
            elif isinstance(shape, Rule):
                if (shape.colour, shape.width) != stroke:
                    stroke = (shape.colour, shape.width)
                    canvas.setStrokeColor(shape.colour)
                    canvas.setLineWidth(shape.width)
                y = top + shape.y
                canvas.line(shape.x, y, shape.x_end, y)
            else:
                canvas.drawImage(shape.path, shape.x, top + shape.y, shape.width, shape.height,
                                 mask="auto")  # fmt: skip
    if fill is not None:
        canvas.setFillColor(black)


def _draw_texts(canvas: Canvas, page: Page, sheet: Sheet, footer: str, page_number: str) -> None:
    text = canvas.beginText()
    font = None
    for top, block in page:
        for x, y, string, name, size in block.texts:
            if (name, size) != font:
                font = (name, size)
                text.setFont(name, size)
            text.setTextOrigin(x, top + y)
            text.textLine(string)
    text.setFillColor(_FOOTER_COLOUR)
    text.setFont(*FOOTER_FONT)
    text.setTextOrigin(MARGIN, FOOTER_BASELINE)
    text.textLine(footer)
    right = sheet.width - MARGIN - stringWidth(page_number, *FOOTER_FONT)
    text.setTextOrigin(right, FOOTER_BASELINE)
    text.textLine(page_number)
    canvas.drawText(text)
