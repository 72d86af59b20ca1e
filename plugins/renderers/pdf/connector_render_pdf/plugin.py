"""The ``pdf`` renderer and its registration hook (entry point ``pdf-renderer``)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import ClassVar

from connector.contracts import ClassRegistry, PluginError, StatementDocument, hookimpl

PLUGIN_API = "1.0"  # the plugin API this plugin is built for (docs/plugins.md)

DRAFT_STATUS = "draft"


def render_statement(document: StatementDocument) -> bytes:
    """The statement as PDF bytes; the same document always gives the same bytes.

    Laid out first (every block measured, the pages broken, so the page count is
    known), then drawn. ``invariant=1`` keeps ReportLab's timestamp and file ID fixed,
    and the creation date printed into the file is the statement's issue date.
    """
    from reportlab.pdfgen.canvas import Canvas

    from connector.plugin_kit.printed_text import statement_number
    from connector_render_pdf.draw import draw_pages
    from connector_render_pdf.fonts import REGULAR, register_fonts
    from connector_render_pdf.layout import heading, provider_text, statement_flow
    from connector_render_pdf.pages import Sheet, paginate

    register_fonts()
    sheet = Sheet.named(document.page_size)
    pages = paginate(statement_flow(document, sheet), sheet)

    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(sheet.width, sheet.height),
        invariant=1,
        pageCompression=1,
        # Else ReportLab starts every page in Helvetica, a font the file does not embed.
        initialFontName=REGULAR,
    )
    number = statement_number(document)
    stamp = f"D:{document.issue_date:%Y%m%d}000000+00'00'"
    canvas.setDateFormatter(lambda *_parts: stamp)
    canvas.setTitle(f"{heading(document)} {number}")
    canvas.setAuthor(document.reseller.name)
    canvas.setSubject(f"{document.customer.name}, {provider_text(document)} {document.period.key}")
    canvas.setCreator("Billing Connector")
    footer = f"{document.reseller.name} · {heading(document)} {number} · {document.customer.name}"
    draft = document.status.strip().lower() == DRAFT_STATUS
    draw_pages(canvas, pages, sheet, footer, draft=draft)
    canvas.save()
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
