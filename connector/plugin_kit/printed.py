"""What a printed statement (PDF, HTML) shows in its line table and its totals block.

Decided here once so that every renderer prints the same statement:

- tax is printed once, in the totals block, not also as a line of the table;
- credits are printed in the totals block too, between the subtotal of the charges and
  the tax, so the block adds up on its own: charges + credits + tax = total;
- zero-amount lines and rounding adjustments appear in the table only when the
  tenant's invoice options ask for them (both on by default). A hidden rounding
  adjustment still counts in the subtotal, which then differs from the table's sum
  by that adjustment: it is what the statement charges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from connector.contracts import StatementDocument, StatementLine

TAX, CREDIT, ROUNDING = "tax", "credit", "rounding"
#: The rounding lines' description (the marketplace fees' one is prefixed with the marketplace).
ROUNDING_DESCRIPTION = "Rounding adjustment"
#: Printed when a tax-exempt customer's statement charges no tax.
EXEMPT_NOTE = "Tax exempt: no tax is charged to this customer."


@dataclass(frozen=True, slots=True)
class TotalsRow:
    """One row of the totals block; ``kind`` is subtotal, credit, tax or total."""

    label: str
    amount: Decimal
    kind: str


def is_rounding(line: StatementLine) -> bool:
    """A rounding adjustment: the ``rounding`` line, or the marketplace fees' own
    rounding, kept untaxed with the fees it rounds: a ``marketplace`` line of no service
    category named ``<marketplace>: Rounding adjustment``."""
    if line.kind == ROUNDING:
        return True
    return (
        line.kind == "marketplace"
        and line.service_category is None
        and line.description.endswith(f": {ROUNDING_DESCRIPTION}")
    )


def table_lines(document: StatementDocument) -> list[StatementLine]:
    """The lines of the line table, in position order: no tax or credit lines (the
    totals block has them), no zero-amount or rounding lines unless the tenant shows
    them."""
    shown = []
    for line in sorted(document.lines, key=lambda line: line.position):
        if line.kind in (TAX, CREDIT):
            continue
        if is_rounding(line) and not document.show_rounding_lines:
            continue
        if line.amount.is_zero() and not document.show_zero_lines:
            continue
        shown.append(line)
    return shown


def _of_kind(lines: Sequence[StatementLine], kind: str) -> list[StatementLine]:
    return sorted((line for line in lines if line.kind == kind), key=lambda line: line.position)


def totals_rows(document: StatementDocument) -> list[TotalsRow]:
    """Subtotal of the charges, each credit, the tax, and the total: rows that add up.

    The tax is one row labelled with its name and rate when the document carries them
    (``Tax (US Sales Tax 8.25%)``); else the statement's tax lines (``Sales tax 8.25%``)
    when they sum to its tax; else one ``Tax`` row of ``document.tax``.
    """
    credits = _of_kind(document.lines, CREDIT)
    charges = document.subtotal - sum((line.amount for line in credits), Decimal(0))
    rows = [TotalsRow("Subtotal", charges, "subtotal")]
    rows += [TotalsRow(line.description, line.amount, "credit") for line in credits]
    taxes = _of_kind(document.lines, TAX)
    if document.tax_name or document.tax_rate is not None:
        rows.append(TotalsRow(tax_label(document), document.tax, "tax"))
    elif taxes and sum((line.amount for line in taxes), Decimal(0)) == document.tax:
        rows += [TotalsRow(line.description, line.amount, "tax") for line in taxes]
    else:
        rows.append(TotalsRow("Tax", document.tax, "tax"))
    rows.append(TotalsRow(f"Total ({document.currency})", document.total, "total"))
    return rows


def tax_label(document: StatementDocument) -> str:
    """``Tax``, with the tax's name and rate when the statement carries them."""
    named = [document.tax_name] if document.tax_name else []
    if document.tax_rate is not None:
        named.append(f"{format((document.tax_rate * 100).normalize(), 'f')}%")
    return f"Tax ({' '.join(named)})" if named else "Tax"


def exemption_note(document: StatementDocument) -> str | None:
    """The tax-exemption note of an exempt customer's statement, else None."""
    return EXEMPT_NOTE if document.tax_exempt else None
