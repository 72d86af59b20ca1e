"""Statement lines as an accounting system's invoice import adds them up.

Shared by every template, so Xero's and QuickBooks' files follow the same rules:

* every statement line except tax lines becomes one invoice line, amount as it is:
  credits and negative rounding adjustments are negative lines, $0.00 marketplace lines
  stay (free trials are visible on the statement too);
* the statement's tax is given per line, on the taxed lines only, split in proportion
  to their amounts with the remainder on the last, so the tax the ERP adds up is the
  statement's tax to the penny; every other line carries the exempt tax code and 0;
* lines plus tax must equal the statement total, or the statement is refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from connector.contracts import PluginError, StatementDocument, StatementLine, sum_decimals
from connector_erp_csv.allocation import allocate

# Lines the customer's tax is computed on, as connector.domain.statement builds it: the
# priced lines, discount, support fee and the rounding adjustment. Marketplace
# pass-through is never taxed. Credits are left outside: a StatementLine does not say
# whether "include credits for tax calculations" put it in the base. The ERP's total is
# exact either way; only the split of the tax between lines would differ.
TAXED_KINDS = frozenset({"service", "discount", "support", "rounding"})


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
        line = self.line
        if line.account_id and line.account_id not in line.description:
            return f"{line.description} (account {line.account_id})"
        return line.description


def in_minor_unit(amount: Decimal, quantum: Decimal, document: StatementDocument,
                  what: str) -> Decimal:  # fmt: skip
    """``amount`` written in ``quantum`` (PostgreSQL's ``12.300000000000`` -> ``12.30``);
    PluginError if that would change it, since the import would then hold another amount."""
    written = amount.quantize(quantum)
    if written != amount:
        raise PluginError(
            f"statement {document.number}: {what} is {amount.normalize():f} "
            f"{document.currency}, finer than the currency's minor unit {quantum}; the "
            "import would round it"
        )
    return written


def invoice_lines(document: StatementDocument, erp: str, quantum: Decimal) -> list[InvoiceLine]:
    """The non-tax lines of ``document`` in statement order, each with its tax share.

    Line amounts are written in ``quantum`` (the currency's minor unit); tax shares are
    rounded to it and add up to ``document.tax`` exactly. Raises PluginError, naming
    ``erp``, when there is nothing to export, when an amount is finer than ``quantum``,
    when the lines plus tax are not the total, or when there is tax but no taxed line
    to carry it.
    """
    lines = sorted(
        (
            dataclasses.replace(
                line,
                amount=in_minor_unit(line.amount, quantum, document, f"line {line.position}"),
            )
            for line in document.lines
            if line.kind != "tax"
        ),
        key=lambda line: line.position,
    )
    if not lines:
        raise PluginError(f"statement {document.number} has no lines to export")
    in_minor_unit(document.tax, quantum, document, "tax")
    computed = sum_decimals(line.amount for line in lines) + document.tax
    if computed != document.total:
        raise PluginError(
            f"statement {document.number}: lines {computed - document.tax} plus tax "
            f"{document.tax} make {computed}, not the total {document.total}; "
            f"{erp} would import a different invoice"
        )
    shares = _tax_shares(document, lines, erp, quantum)
    zero = Decimal(0).quantize(quantum)
    return [
        InvoiceLine(line, index in shares, shares.get(index, zero))
        for index, line in enumerate(lines)
    ]


def _tax_shares(
    document: StatementDocument, lines: Sequence[StatementLine], erp: str, quantum: Decimal
) -> dict[int, Decimal]:
    """The statement's tax split over its taxed lines, keyed by index in ``lines``."""
    if document.tax.is_zero():
        return {}
    taxed = [
        index
        for index, line in enumerate(lines)
        if line.kind in TAXED_KINDS and not line.amount.is_zero()
    ]
    if not taxed:
        raise PluginError(
            f"statement {document.number} has tax {document.tax} but no taxed line "
            f"(kinds {', '.join(sorted(TAXED_KINDS))}) to carry it in {erp}"
        )
    weights = [lines[index].amount for index in taxed]
    shares = allocate(document.tax, weights, quantum)
    return dict(zip(taxed, shares, strict=True))
