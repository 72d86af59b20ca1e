"""The statement laid out, top to bottom: heading (logo, reseller, title, facts), the
customer, the line table, the totals and the notes, as measured blocks (first pass).

The sizes, paddings and colours are those the platypus layout had (Paragraph styles
9/11 and 10/12 points, table cells padded 6 by 3, title 18/22), so the page looks as
it did; what is printed comes from :mod:`connector.plugin_kit.printed` and
:mod:`connector.plugin_kit.printed_text`, as for the HTML statement.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

from reportlab.lib.colors import HexColor
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from connector.contracts import Party, StatementDocument
from connector.plugin_kit.printed import exemption_note, table_lines, totals_rows
from connector.plugin_kit.printed_text import (
    credit_reference,
    document_locale,
    format_amount,
    format_date,
    format_money,
    statement_facts,
)
from connector_render_pdf.blocks import Block, Column, Fill, Picture, Rule, Text, wrap
from connector_render_pdf.fonts import BOLD, REGULAR
from connector_render_pdf.pages import Flow, Sheet, Space, Table

log = logging.getLogger(__name__)

AMOUNT_WIDTH = 1.3 * inch
ACCOUNT_WIDTH = 1.4 * inch
TOTALS_LABEL_WIDTH = 2.8 * inch
FACTS_WIDTHS = (1.1 * inch, 2.0 * inch)
TITLE_COLUMN = 3.3 * inch
LOGO_BOX = (1.8 * inch, 0.8 * inch)
CELL_PADDING = 6  # left and right of a table cell
ROW_PADDING = 3  # above and below a table cell's text
SMALL = (9, 11)  # size and leading of most text
NAME = (10, 12)  # a party's name
HEADER_HEIGHT = 9 * 1.2 + 2 * ROW_PADDING
RULE_WIDTH = 0.75
RULE = HexColor("#9aa5b1")
HEADER_FILL = HexColor("#e8edf2")
ZEBRA_FILL = HexColor("#f7f9fb")


def provider_text(document: StatementDocument) -> str:
    """The provider as customers know it, else the plugin's key."""
    return document.provider_name or document.provider


def heading(document: StatementDocument) -> str:
    """What the document is: ``Credit note`` for a credit note, else ``Statement``."""
    return "Credit note" if document.credited_invoice is not None else "Statement"


def statement_flow(document: StatementDocument, sheet: Sheet) -> list[Flow]:
    """Every block of the statement, in reading order, with the space between them."""
    locale = document_locale(document)
    return [
        heading_block(document, sheet, locale),
        Space(16),
        customer_block(document, sheet),
        Space(16),
        line_table(document, sheet, locale),
        Space(8),
        totals_block(document, sheet, locale),
        *notes_flow(document.notes, sheet),
    ]


def _party(column: Column, party: Party) -> None:
    column.paragraph(party.name, BOLD, *NAME)
    details = [*party.address, *(value for value in (party.email, party.phone) if value)]
    if party.tax_id:
        details.append(f"Tax ID: {party.tax_id}")
    for line in details:
        column.paragraph(line, REGULAR, *SMALL)


def _logo(path: Path | None) -> tuple[str, float, float] | None:
    if path is None or not Path(path).is_file():
        return None
    try:
        width, height = ImageReader(str(path)).getSize()
    except Exception:  # a broken logo must not stop a statement going out
        log.warning("reseller logo %s could not be read; rendering without it", path)
        return None
    scale = min(LOGO_BOX[0] / width, LOGO_BOX[1] / height, 1.0)
    return str(path), width * scale, height * scale


def _facts(document: StatementDocument, locale: str | None) -> list[tuple[str, str]]:
    facts = statement_facts(document, locale)
    billing = document.billing_currency
    if billing and billing.upper() != document.currency.upper():
        # Converted from the provider's currency: show the rate the amounts were made with.
        rate = format(document.exchange_rate.normalize(), "f")
        facts.append(("Exchange rate", f"1 {billing} = {rate} {document.currency}"))
    # Present only when the tenant's invoice options turn them on.
    if document.payment_method:
        facts.append(("Payment method", document.payment_method))
    facts.extend(document.custom_fields.items())
    return facts


def heading_block(document: StatementDocument, sheet: Sheet, locale: str | None) -> Block:
    """Reseller (logo, name, contact) on the left; title, credit reference and the
    statement's facts (label and value rows) on the right."""
    block = Block()
    split = sheet.right - TITLE_COLUMN
    left = Column(block.texts, sheet.left, split - CELL_PADDING, top=-ROW_PADDING)
    logo = _logo(document.reseller.logo_path)
    if logo:
        path, width, height = logo
        block.shapes.append(Picture(path, sheet.left, left.y - height, width, height))
        left.space(height + 6)
    _party(left, document.reseller)

    right = Column(block.texts, split + CELL_PADDING, sheet.right, top=-ROW_PADDING)
    right.paragraph(heading(document), BOLD, 18, 22, right=True)
    right.space(6)
    reference = credit_reference(document)
    if reference:
        right.paragraph(reference, BOLD, *SMALL, right=True)
        right.space(4)
    label_left = sheet.right - sum(FACTS_WIDTHS) + CELL_PADDING
    value_left = sheet.right - FACTS_WIDTHS[1] + CELL_PADDING
    for label, value in _facts(document, locale):
        top = right.y - 1  # the facts' rows are padded 1 point above and below
        labels = Column(block.texts, label_left, value_left - 2 * CELL_PADDING, top)
        values = Column(block.texts, value_left, sheet.right - CELL_PADDING, top)
        rows = max(labels.paragraph(label, REGULAR, *SMALL),
                   values.paragraph(value, REGULAR, *SMALL, right=True))  # fmt: skip
        right.y = top - rows * SMALL[1] - 1
    block.height = max(-left.y, -right.y) + ROW_PADDING
    return block


def customer_block(document: StatementDocument, sheet: Sheet) -> Block:
    """The "Bill to" contact block with the customer's ID."""
    block = Block()
    column = Column(block.texts, sheet.left, sheet.right)
    column.paragraph("Bill to", BOLD, *SMALL)
    _party(column, document.customer)
    column.paragraph(f"Customer ID: {document.customer_id}", REGULAR, *SMALL)
    block.height = -column.y
    return block


def _right_text(right: float, y: float, text: str, font: str, size: float) -> Text:
    return Text(right - stringWidth(text, font, size), y, text, font, size)


def line_table(document: StatementDocument, sheet: Sheet, locale: str | None) -> Table:
    """The statement lines under a header row (repeated on every page the table spans):
    description, account (only when some line names one) and amount, zebra-striped.

    A row whose wrapped description is taller than a page is cut into rows that fit,
    the account and amount on the first.
    """
    lines = table_lines(document)
    with_account = any(line.account_id for line in lines)
    left, right, width = sheet.left, sheet.right, sheet.content_width
    amount_left = right - AMOUNT_WIDTH
    account_left = amount_left - ACCOUNT_WIDTH if with_account else amount_left
    size, leading = SMALL
    baseline = -ROW_PADDING - size

    header = Block(HEADER_HEIGHT)
    header.shapes += [
        Fill(left, -HEADER_HEIGHT, width, HEADER_HEIGHT, HEADER_FILL),
        Rule(left, right, -HEADER_HEIGHT, RULE, RULE_WIDTH),
    ]
    header.texts.append(Text(left + CELL_PADDING, baseline, "Description", BOLD, size))
    if with_account:
        header.texts.append(Text(account_left + CELL_PADDING, baseline, "Account", BOLD, size))
    amount_right = right - CELL_PADDING
    header.texts.append(
        _right_text(amount_right, baseline, f"Amount ({document.currency})", BOLD, size)
    )

    room = sheet.top - sheet.bottom - HEADER_HEIGHT - 2 * ROW_PADDING
    per_row = max(1, int(room // leading))
    table = Table(header)
    for index, line in enumerate(lines):
        descriptions = wrap(line.description, REGULAR, size, account_left - left - 2 * CELL_PADDING)
        accounts = (
            wrap(line.account_id or "", REGULAR, size, ACCOUNT_WIDTH - 2 * CELL_PADDING)
            if with_account
            else []
        )
        count = max(len(descriptions), len(accounts))
        for first in range(0, count, per_row):
            row = Block()
            for column_left, texts in ((left, descriptions), (account_left, accounts)):
                for n, text in enumerate(texts[first : first + per_row]):
                    if text.text:
                        y = baseline - n * leading
                        row.texts.append(
                            Text(column_left + CELL_PADDING, y, text.text, REGULAR, size)
                        )
            if first == 0:
                amount = format_amount(line.amount, locale)
                row.texts.append(_right_text(amount_right, baseline, amount, REGULAR, size))
            row.height = min(per_row, count - first) * leading + 2 * ROW_PADDING
            if index % 2:
                row.shapes.append(Fill(left, -row.height, width, row.height, ZEBRA_FILL))
            table.rows.append(row)
    if table.rows:
        last = table.rows[-1]
        last.shapes.append(Rule(left, right, -last.height, RULE, RULE_WIDTH))
    return table


def totals_block(document: StatementDocument, sheet: Sheet, locale: str | None) -> Block:
    """Subtotal of the charges, credits, tax and total, right-aligned under the amount
    column (the rows add up on their own: :mod:`connector.plugin_kit.printed`), then
    what is due by when (or the invoice a credit note credits) and any tax exemption:
    one block, so that they stay together on one page."""

    def money(amount: Decimal) -> str:
        # With a locale the totals carry the currency symbol (£1,234.50); without one,
        # the plain amounts under the "Amount (USD)" column.
        return format_money(amount, document.currency, locale) if locale else format_amount(amount)

    block = Block()
    left = sheet.right - TOTALS_LABEL_WIDTH - AMOUNT_WIDTH
    amount_right = sheet.right - CELL_PADDING
    labels = Column(block.texts, left + CELL_PADDING, left + TOTALS_LABEL_WIDTH - CELL_PADDING)
    size, leading = SMALL
    *rows, total = totals_rows(document)
    for row in rows:
        top = labels.y
        labels.y -= ROW_PADDING
        count = labels.paragraph(row.label, REGULAR, size, leading)
        block.texts.append(
            _right_text(amount_right, top - ROW_PADDING - size, money(row.amount), REGULAR, size)
        )
        labels.y = top - count * leading - 2 * ROW_PADDING
    top = labels.y
    block.shapes.append(Rule(left, sheet.right, top, RULE, RULE_WIDTH))
    baseline = top - ROW_PADDING - 10
    block.texts.append(Text(left + CELL_PADDING, baseline, total.label, BOLD, 10))
    block.texts.append(_right_text(amount_right, baseline, money(total.amount), BOLD, 10))

    column = Column(block.texts, sheet.left, sheet.right, top - 12 - 2 * ROW_PADDING - 4)
    reference = credit_reference(document)
    if reference:
        due = f"{reference}; nothing is due on a credit note."
    else:
        amount = format_money(document.total, document.currency, locale)
        due = f"Amount due {amount} by {format_date(document.due_date, locale)}"
    column.paragraph(due, REGULAR, *SMALL, right=True)
    note = exemption_note(document)
    if note:
        column.space(4)
        column.paragraph(note, REGULAR, *SMALL, right=True)
    block.height = -column.y
    return block


def notes_flow(notes: str | None, sheet: Sheet) -> list[Flow]:
    """The tenant's invoice notes under a "Notes" heading, line breaks kept, one block
    a line so that long notes continue on the next page; nothing when there are none."""
    if not notes or not notes.strip():
        return []
    size, leading = SMALL
    titled = Block(leading)
    titled.texts.append(Text(sheet.left, -size, "Notes", BOLD, size))
    flow: list[Flow] = [Space(14), titled]
    for n, line in enumerate(wrap(notes.strip(), REGULAR, size, sheet.content_width)):
        if n == 0:  # the heading keeps its first line with it
            block, y = titled, -leading - size
            block.height += leading
        else:
            block, y = Block(leading), -size
            flow.append(block)
        if line.text:
            block.texts.append(Text(sheet.left, y, line.text, REGULAR, size))
    return flow
