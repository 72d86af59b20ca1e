"""The ``pdf`` renderer and its registration hook (entry point ``pdf-renderer``)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from connector.contracts import ClassRegistry, PluginError, StatementDocument, hookimpl

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)

if TYPE_CHECKING:
    from reportlab.pdfgen.canvas import Canvas

DRAFT_STATUS = "draft"


def render_statement(document: StatementDocument) -> bytes:
    """The statement as PDF bytes; the same document always gives the same bytes.

    ``invariant=1`` keeps ReportLab's timestamp and file ID fixed, and the creation date
    printed into the file is the statement's issue date.
    """
    from reportlab.lib.pagesizes import A4, LETTER
    from reportlab.lib.units import inch
    from reportlab.platypus import SimpleDocTemplate

    from connector.plugin_kit.printed_text import statement_number
    from connector_render_pdf.fonts import REGULAR, register_fonts
    from connector_render_pdf.pages import NumberedCanvas, draw_watermark
    from connector_render_pdf.story import build_story, heading, provider_text

    register_fonts()

    buffer = io.BytesIO()
    number = statement_number(document)
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4 if document.page_size.upper() == "A4" else LETTER,
        leftMargin=0.75 * inch,
        rightMargin=0.75 * inch,
        topMargin=0.75 * inch,
        bottomMargin=0.9 * inch,
        title=f"{heading(document)} {number}",
        author=document.reseller.name,
        subject=f"{document.customer.name}, {provider_text(document)} {document.period.key}",
        creator="Billing Connector",
        invariant=1,
        pageCompression=1,
        # Else ReportLab starts every page in Helvetica, a font the file does not embed.
        initialFontName=REGULAR,
    )
    is_draft = document.status.strip().lower() == DRAFT_STATUS

    def decorate(canvas: Canvas, _template: SimpleDocTemplate) -> None:
        if is_draft:
            draw_watermark(canvas)

    canvasmaker = partial(
        NumberedCanvas,
        footer=f"{document.reseller.name} · {heading(document)} {number} · "
        f"{document.customer.name}",
        issue_date=document.issue_date,
    )
    template.build(
        build_story(document), onFirstPage=decorate, onLaterPages=decorate, canvasmaker=canvasmaker
    )
    return buffer.getvalue()


class PdfRenderer:
    """The customer statement as a PDF, watermarked DRAFT until it is approved."""

    name: ClassVar[str] = "pdf"
    formats: ClassVar[Mapping[str, str]] = {"pdf": ".pdf"}

    def render(self, document: StatementDocument, fmt: str) -> bytes:
        """The statement as ``fmt`` (only ``pdf``)."""
        if fmt != "pdf":
            raise PluginError(f"the pdf renderer has no format {fmt!r} (it offers: pdf)")
        return render_statement(document)


@hookimpl
def connector_register_renderers(registry: ClassRegistry) -> None:
    """Offer the ``pdf`` format."""
    registry.add(PdfRenderer)
