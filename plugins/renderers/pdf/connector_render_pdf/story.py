"""The flowables of a statement, top to bottom: parties, facts, lines, totals, notes."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle, StyleSheet1, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Image, KeepTogether, Paragraph, Spacer, Table, TableStyle

from connector.contracts import Party, StatementDocument, StatementLine
from connector.plugin_kit.printed import exemption_note, table_lines, totals_rows
from connector.plugin_kit.printed_text import (
    credit_reference,
    document_locale,
    format_amount,
    format_date,
    format_money,
    statement_facts,
)
from connector_render_pdf.fonts import BOLD, REGULAR

log = logging.getLogger(__name__)

# The frame is 7in between Letter's margins, less ReportLab's 6pt frame padding on each
# side; A4 is narrower (content_width).
CONTENT_WIDTH = 7 * inch - 12
MARGINS = 1.5 * inch
AMOUNT_WIDTH = 1.3 * inch
ACCOUNT_WIDTH = 1.4 * inch
TOTALS_LABEL_WIDTH = 2.8 * inch
LOGO_BOX = (1.8 * inch, 0.8 * inch)
_RULE = colors.HexColor("#9aa5b1")
_HEADER_FILL = colors.HexColor("#e8edf2")
_ZEBRA_FILL = colors.HexColor("#f7f9fb")
CELL_PADDING = 6  # ReportLab's default left and right padding of a table cell
_MARKUP = frozenset("&<>")


def statement_styles() -> StyleSheet1:
    """ReportLab's sample styles plus the few a statement adds."""
    styles = getSampleStyleSheet()
    # Embedded DejaVu Sans everywhere, so every viewer shows (and prints) the same glyphs.
    for style in styles.byName.values():
        bold = "Bold" in getattr(style, "fontName", "") or style.name.startswith(
            ("Heading", "Title")
        )
        style.fontName = BOLD if bold else REGULAR
    styles.add(ParagraphStyle("Small", parent=styles["Normal"], fontSize=9, leading=11))
    styles.add(ParagraphStyle("SmallRight", parent=styles["Small"], alignment=TA_RIGHT))
    styles.add(ParagraphStyle("PartyName", parent=styles["Normal"], fontName=BOLD))
    styles.add(ParagraphStyle("Cell", parent=styles["Normal"], fontSize=9, leading=11))
    styles.add(ParagraphStyle("DocTitle", parent=styles["Title"], alignment=TA_RIGHT, spaceAfter=6))
    return styles


def _text(value: str) -> str:
    # Paragraph markup is XML: a "&" in a customer name must not break the layout.
    return escape(value).replace("\n", "<br/>")


def _logo(path: Path | None) -> list[Flowable]:
    if path is None or not Path(path).is_file():
        return []
    try:
        width, height = ImageReader(str(path)).getSize()
    except Exception:  # a broken logo must not stop a statement going out
        log.warning("reseller logo %s could not be read; rendering without it", path)
        return []
    scale = min(LOGO_BOX[0] / width, LOGO_BOX[1] / height, 1.0)
    logo = Image(str(path), width=width * scale, height=height * scale)
    logo.hAlign = "LEFT"
    return [logo, Spacer(1, 6)]


def party_block(party: Party, styles: StyleSheet1, heading: str | None = None) -> list[Flowable]:
    """A party's name, address and contact details, one paragraph per line."""
    flowables: list[Flowable] = []
    if heading:
        flowables.append(Paragraph(f"<b>{_text(heading)}</b>", styles["Small"]))
    flowables.append(Paragraph(_text(party.name), styles["PartyName"]))
    details = [*party.address]
    details += [value for value in (party.email, party.phone) if value]
    if party.tax_id:
        details.append(f"Tax ID: {party.tax_id}")
    flowables.extend(Paragraph(_text(line), styles["Small"]) for line in details)
    return flowables


def content_width(document: StatementDocument) -> float:
    """Points between the frame's paddings on the document's paper."""
    from reportlab.lib.pagesizes import A4, LETTER

    paper = A4 if document.page_size.upper() == "A4" else LETTER
    return paper[0] - MARGINS - 12


def provider_text(document: StatementDocument) -> str:
    """The provider as customers know it, else the plugin's key."""
    return document.provider_name or document.provider


def heading(document: StatementDocument) -> str:
    """What the document is: ``Credit note`` for a credit note, else ``Statement``."""
    return "Credit note" if document.credited_invoice is not None else "Statement"


def facts_table(document: StatementDocument, styles: StyleSheet1) -> Table:
    """Number, dates, period, currency and status, as label/value pairs."""
    facts = statement_facts(document, document_locale(document))
    billing = document.billing_currency
    if billing and billing.upper() != document.currency.upper():
        # Converted from the provider's currency: show the rate the amounts were made with.
        rate = format(document.exchange_rate.normalize(), "f")
        facts.append(("Exchange rate", f"1 {billing} = {rate} {document.currency}"))
    # Present only when the tenant's invoice options turn them on.
    if document.payment_method:
        facts.append(("Payment method", document.payment_method))
    facts.extend(document.custom_fields.items())
    label_style, value_style = styles["Small"], styles["SmallRight"]
    widths = [1.1 * inch, 2.0 * inch]
    rows = [
        [
            _one_line_or_paragraph(label, label_style, widths[0] - 2 * CELL_PADDING, label),
            _one_line_or_paragraph(value, value_style, widths[1] - 2 * CELL_PADDING),
        ]
        for label, value in facts
    ]
    # Both paragraph styles' font and leading, and the values' alignment, for the cells
    # drawn as plain strings.
    font = (label_style.fontName, label_style.fontSize, label_style.leading)
    table = Table(rows, colWidths=widths, hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), *font),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def heading_table(document: StatementDocument, styles: StyleSheet1) -> Table:
    """Reseller (logo, name, contact) on the left; title and statement facts on the right."""
    left = _logo(document.reseller.logo_path) + party_block(document.reseller, styles)
    right: list[Flowable] = [Paragraph(heading(document), styles["DocTitle"])]
    reference = credit_reference(document)
    if reference:
        right.append(Paragraph(f"<b>{_text(reference)}</b>", styles["SmallRight"]))
        right.append(Spacer(1, 4))
    right.append(facts_table(document, styles))
    width = content_width(document)
    table = Table([[left, right]], colWidths=[width - 3.3 * inch, 3.3 * inch])
    table.setStyle(
        TableStyle(
            [
                # A table sets its cells' font even around flowables: not Helvetica,
                # which would be the one font the file does not embed.
                ("FONT", (0, 0), (-1, -1), REGULAR),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def customer_block(document: StatementDocument, styles: StyleSheet1) -> list[Flowable]:
    """The "Bill to" contact block with the customer's ID."""
    block = party_block(document.customer, styles, heading="Bill to")
    block.append(Paragraph(f"Customer ID: {_text(document.customer_id)}", styles["Small"]))
    return block


def _one_line_or_paragraph(
    text: str, style: ParagraphStyle, room: float, markup: str | None = None
) -> str | Paragraph:
    """``text`` as a plain string when a Paragraph would print it on one line unchanged,
    else as that Paragraph (of ``markup``, by default ``text`` escaped).

    A table cell's string is drawn where a one-line Paragraph puts its text, when the
    cell has the paragraph style's font, leading and alignment; but a Paragraph is
    parsed as markup and re-wrapped on every layout pass, which made the statement
    lines most of a PDF's cost. Text with markup characters, line breaks, runs of
    spaces (a Paragraph folds them), or too wide for ``room`` points stays a Paragraph.
    """
    plain = text == " ".join(text.split()) and not _MARKUP.intersection(text)
    if text and plain and stringWidth(text, style.fontName, style.fontSize) <= room:
        return text
    return Paragraph(_text(text) if markup is None else markup, style)


def lines_table(document: StatementDocument, styles: StyleSheet1) -> Table:
    """The statement lines, its header row repeated on every page it spans.

    The account column appears only when some line names an account.
    """
    lines: Sequence[StatementLine] = table_lines(document)
    with_account = any(line.account_id for line in lines)
    header = [
        "Description",
        *(["Account"] if with_account else []),
        f"Amount ({document.currency})",
    ]
    width = content_width(document)
    if with_account:
        widths = [width - ACCOUNT_WIDTH - AMOUNT_WIDTH, ACCOUNT_WIDTH, AMOUNT_WIDTH]
    else:
        widths = [width - AMOUNT_WIDTH, AMOUNT_WIDTH]
    locale = document_locale(document)
    rows: list[list[object]] = [header]
    cell = styles["Cell"]
    room = widths[0] - 2 * CELL_PADDING
    for line in lines:
        cells: list[object] = [_one_line_or_paragraph(line.description, cell, room)]
        if with_account:
            cells.append(line.account_id or "")
        cells.append(format_amount(line.amount, locale))
        rows.append(cells)
    style = [
        ("FONT", (0, 0), (-1, 0), BOLD, 9),
        ("FONT", (0, 1), (-1, -1), REGULAR, 9),
        # The Cell paragraph style's font and leading, so a description drawn as a
        # plain string sits exactly where its Paragraph would and rows keep its height.
        ("FONT", (0, 1), (0, -1), cell.fontName, cell.fontSize, cell.leading),
        ("BACKGROUND", (0, 0), (-1, 0), _HEADER_FILL),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, _RULE),
        ("LINEBELOW", (0, -1), (-1, -1), 0.75, _RULE),
        ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    style += [("BACKGROUND", (0, row), (-1, row), _ZEBRA_FILL) for row in range(2, len(rows), 2)]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(style))
    return table


def totals_table(document: StatementDocument, styles: StyleSheet1 | None = None) -> Table:
    """Subtotal of the charges, credits, tax and total, right-aligned under the amount
    column; the rows add up on their own (:mod:`connector.plugin_kit.printed`)."""
    styles = styles or statement_styles()
    locale = document_locale(document)

    def money(amount: Decimal) -> str:
        # With a locale the totals carry the currency symbol (£1,234.50); without one,
        # the plain amounts under the "Amount (USD)" column.
        return format_money(amount, document.currency, locale) if locale else format_amount(amount)

    label_style = styles["Cell"]
    room = TOTALS_LABEL_WIDTH - 2 * CELL_PADDING
    *rows, total = totals_rows(document)
    cells: list[list[object]] = [
        [_one_line_or_paragraph(row.label, label_style, room), money(row.amount)] for row in rows
    ]
    # The total's label is short and bold: a plain string in the row's bold font.
    cells.append([total.label, money(total.amount)])
    table = Table(cells, colWidths=[TOTALS_LABEL_WIDTH, AMOUNT_WIDTH], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -2), REGULAR, 9, label_style.leading),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("FONT", (0, -1), (-1, -1), BOLD, 10),
                ("ALIGN", (-1, 0), (-1, -1), "RIGHT"),
                ("LINEABOVE", (0, -1), (-1, -1), 0.75, _RULE),
            ]
        )
    )
    return table


def notes_block(notes: str | None, styles: StyleSheet1) -> list[Flowable]:
    """The tenant's invoice notes, line breaks kept; nothing when there are none."""
    if not notes or not notes.strip():
        return []
    return [
        Spacer(1, 14),
        Paragraph("<b>Notes</b>", styles["Small"]),
        Paragraph(_text(notes.strip()), styles["Small"]),
    ]


def build_story(document: StatementDocument, styles: StyleSheet1 | None = None) -> list[Flowable]:
    """Every flowable of the statement, in reading order."""
    styles = styles or statement_styles()
    reference = credit_reference(document)
    if reference:
        text = f"{_text(reference)}; nothing is due on a credit note."
        due = Paragraph(text, styles["SmallRight"])
    else:
        locale = document_locale(document)
        amount = format_money(document.total, document.currency, locale)
        due = Paragraph(
            f"Amount due {_text(amount)} by {format_date(document.due_date, locale)}",
            styles["SmallRight"],
        )
    note = exemption_note(document)
    exempt = [Spacer(1, 4), Paragraph(_text(note), styles["SmallRight"])] if note else []
    return [
        heading_table(document, styles),
        Spacer(1, 16),
        *customer_block(document, styles),
        Spacer(1, 16),
        lines_table(document, styles),
        Spacer(1, 8),
        KeepTogether([totals_table(document, styles), Spacer(1, 4), due, *exempt]),
        *notes_block(document.notes, styles),
    ]
