"""Statement lines as an accounting system's invoice import adds them up.

Shared by every template, so Xero's and QuickBooks' files follow the same rules (the
arithmetic of :mod:`connector.plugin_kit.invoice_lines`, which the API sinks use too):

* every statement line except tax lines becomes one invoice line, amount as it is:
  credits and negative rounding adjustments are negative lines, $0.00 marketplace lines
  stay (free trials are visible on the statement too);
* the statement's tax is given per line, on the taxed lines only, split in proportion
  to their amounts with the remainder on the largest (never tax of the wrong sign on a
  small negative line), so the tax the ERP adds up is the
  statement's tax to the penny; every other line carries the exempt tax code and 0;
* lines plus tax must equal the statement total, or the statement is refused.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal

from connector.contracts import PluginError, StatementDocument, StatementLine
from connector.plugin_kit import invoice_lines as lines_kit
from connector.plugin_kit.invoice_lines import check_total, describe


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One statement line as an import row carries it: its amount and its tax share.

    ``taxed`` says which tax code the row gets (the taxed or the exempt one).
    """

    line: StatementLine
    taxed: bool
    tax: Decimal

    @property
    def description(self) -> str:
        """The line's description, naming its cloud account when grouped by one."""
        return describe(self.line)


def in_minor_unit(amount: Decimal, quantum: Decimal, document: StatementDocument,
                  what: str) -> Decimal:  # fmt: skip
    """``amount`` written in ``quantum`` (PostgreSQL's ``12.300000000000`` -> ``12.30``);
    PluginError if that would change it, since the import would then hold another amount."""
    return lines_kit.in_minor_unit(amount, quantum, document, what, "the import would round it")


def invoice_lines(document: StatementDocument, erp: str, quantum: Decimal) -> list[InvoiceLine]:
    """The non-tax lines of ``document`` in statement order, each with its tax share.

    Line amounts are written in ``quantum`` (the currency's minor unit); tax shares are
    rounded to it, the largest taxed line taking the remainder, and add up to
    ``document.tax`` exactly. Raises PluginError, naming ``erp``, when there is nothing to
    export, when an amount is finer than ``quantum``, when the lines plus tax are not the
    total, or when there is tax but no taxed line to carry it.
    """
    written = [
        dataclasses.replace(
            line, amount=in_minor_unit(line.amount, quantum, document, f"line {line.position}")
        )
        for line in document.lines
        if line.kind != "tax"
    ]
    lines = sorted(written, key=lambda line: line.position)
    if not lines:
        raise PluginError(f"statement {document.number} has no lines to export")
    in_minor_unit(document.tax, quantum, document, "tax")
    check_total(document, lines, f"{erp} would import a different invoice")
    shares = lines_kit.tax_shares(document, lines, erp, quantum)
    zero = Decimal(0).quantize(quantum)
    return [
        InvoiceLine(line, index in shares, shares.get(index, zero))
        for index, line in enumerate(lines)
    ]


def invoice_reference(document: StatementDocument) -> str:
    """What both templates print beside the lines (Xero's ``Reference``, QuickBooks'
    ``Memo``): for a credit note the invoice it credits ("Credit note for ACME-01005";
    the ERP imports a negative invoice as a credit note, and one that nets to zero as an
    invoice), else the provider and period ("aws 2026-10")."""
    credited = document.credited_invoice
    if credited is not None:
        return f"Credit note for {credited.number}"
    return f"{document.provider} {document.period.key}"
