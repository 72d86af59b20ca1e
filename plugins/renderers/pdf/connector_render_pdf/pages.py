"""What every page carries: the "Page N of M" footer and, on drafts, the DRAFT watermark."""

from __future__ import annotations

import datetime as dt
from typing import Any

from reportlab.lib.colors import Color, HexColor
from reportlab.pdfgen.canvas import Canvas

from connector_render_pdf.fonts import BOLD, REGULAR

WATERMARK_TEXT = "DRAFT"
FOOTER_FONT = (REGULAR, 8)
_FOOTER_COLOUR = HexColor("#555555")
# Translucent red: unmistakable on screen and on paper, yet the lines stay readable.
_WATERMARK_COLOUR = Color(0.8, 0.1, 0.1, alpha=0.16)


class NumberedCanvas(Canvas):
    """A canvas that knows the page count when it writes each page's footer.

    Pages are held back until :meth:`save`, because "of M" is only known once the last
    page has been laid out. ``footer`` is the text left of the page number; ``issue_date``
    becomes the PDF's creation date so that the same statement gives the same bytes.
    """

    def __init__(self, *args: Any, footer: str, issue_date: dt.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._pages: list[dict[str, Any]] = []
        stamp = f"D:{issue_date:%Y%m%d}000000+00'00'"
        self.setDateFormatter(lambda *_parts: stamp)

    def showPage(self) -> None:  # noqa: N802 - ReportLab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        """Write every held page with its ``Page N of M`` footer, then the file."""
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._draw_footer(number, total)
            super().showPage()
        super().save()

    def _draw_footer(self, number: int, total: int) -> None:
        width, _height = self._pagesize
        self.saveState()
        self.setFont(*FOOTER_FONT)
        self.setFillColor(_FOOTER_COLOUR)
        self.drawString(54, 30, self._footer)
        self.drawRightString(width - 54, 30, f"Page {number} of {total}")
        self.restoreState()


def draw_watermark(canvas: Canvas) -> None:
    """A large diagonal DRAFT across the page, drawn before (so beneath) the content."""
    width, height = canvas._pagesize
    canvas.saveState()
    canvas.setFillColor(_WATERMARK_COLOUR)
    canvas.setFont(BOLD, 120)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(45)
    canvas.drawCentredString(0, -40, WATERMARK_TEXT)
    canvas.restoreState()
