"""Statement lines as an accounting system adds them up: the arithmetic ERP sinks share.

An ERP computes an invoice's total itself, from the lines it is sent and their tax. For
its total to be the statement's to the penny, every sink sends the same thing:

* every statement line except tax lines becomes an invoice line, in statement order,
  amount as it is (:func:`invoice_lines`), described with its cloud account when the
  statement groups lines by account (:func:`describe`);
* every amount is whole in the currency's minor unit, or the statement is refused
  rather than rounded by the ERP (:func:`in_minor_unit`, :func:`in_minor_units`);
* lines plus tax must equal the total (:func:`check_total`);
* the statement's tax, where the ERP takes it per line, is split over the lines it was
  computed on in proportion to their amounts, rounded so that the shares add up to the
  tax exactly (:func:`tax_shares`, :func:`allocate`).

Errors are :class:`PluginError` naming the statement and saying what the ERP would do
otherwise, in the sink's words (``consequence``, ``erp``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from connector.contracts import PluginError, StatementDocument, StatementLine, sum_decimals

# The line kinds the core computes the customer's tax on (the priced lines, discount,
# support fee and rounding adjustment), as the core's statement build defines them.
# Marketplace pass-through is never taxed. Credits are left outside: a StatementLine does
# not say whether "include credits for tax calculations" put them in the base; the ERP's
# total is exact either way, only the split of the tax between lines would differ.
from connector.domain.totals import TAXED_KINDS


def invoice_lines(document: StatementDocument) -> list[StatementLine]:
    """The statement's lines that become invoice lines: all but tax, in position order."""
    return sorted(
        (line for line in document.lines if line.kind != "tax"), key=lambda line: line.position
    )


def describe(line: StatementLine) -> str:
    """The line's description, naming its cloud account when the statement groups by one."""
    if line.account_id and line.account_id not in line.description:
        return f"{line.description} (account {line.account_id})"
    return line.description


def in_minor_unit(
    amount: Decimal, unit: Decimal, document: StatementDocument, what: str, consequence: str
) -> Decimal:
    """``amount`` written in ``unit`` (PostgreSQL's ``12.300000000000`` -> ``12.30``);
    PluginError if that would change it.

    :param what: the amount in messages, e.g. ``"line 3"`` or ``"tax"``.
    :param consequence: what the ERP would do with it, e.g. ``"Xero would round it"``.
    """
    written = amount.quantize(unit)
    if written != amount:
        raise PluginError(
            f"statement {document.number}: {what} is {amount.normalize():f} "
            f"{document.currency}, finer than the currency's minor unit {unit}; {consequence}"
        )
    return written


def in_minor_units(
    document: StatementDocument, unit: Decimal, consequence: str
) -> StatementDocument:
    """``document`` with its lines, tax and total written in ``unit``; PluginError naming
    the first amount that would change (lines in their order, then tax, then total)."""
    return dataclasses.replace(
        document,
        lines=[
            dataclasses.replace(
                line,
                amount=in_minor_unit(
                    line.amount, unit, document, f"line {line.position}", consequence
                ),
            )
            for line in document.lines
        ],
        tax=in_minor_unit(document.tax, unit, document, "tax", consequence),
        total=in_minor_unit(document.total, unit, document, "total", consequence),
    )


def check_total(
    document: StatementDocument,
    lines: Sequence[StatementLine],
    consequence: str,
    number: str | None = None,
) -> None:
    """PluginError unless ``lines`` plus the statement's tax make its total.

    :param consequence: e.g. ``"Xero would hold a different invoice"``.
    :param number: how the message names the statement (default: its number).
    """
    computed = sum_decimals(line.amount for line in lines) + document.tax
    if computed != document.total:
        raise PluginError(
            f"statement {document.number if number is None else number}: lines "
            f"{computed - document.tax} plus tax {document.tax} make {computed}, not the "
            f"total {document.total}; {consequence}"
        )


def allocate(
    amount: Decimal,
    weights: Sequence[Decimal],
    quantum: Decimal,
    *,
    remainder: Literal["largest", "last"] = "largest",
) -> list[Decimal]:
    """``amount`` split in proportion to ``weights``, each share rounded half-up to
    ``quantum``; one share takes what rounding left over, so ``sum(shares) == amount``.

    ``remainder="largest"``: the largest weight (by size; the first of equals) takes it,
    so the odd minor unit lands where it is the smallest part of a line's tax and never
    as tax of the wrong sign on a small negative line. ``"last"``: the last share takes
    it. With weights summing to zero, that share takes all.
    """
    if not weights:
        raise ValueError("cannot allocate over no lines")
    base = sum(weights, Decimal(0))
    if remainder == "last":
        taker = len(weights) - 1
    else:
        taker = max(range(len(weights)), key=lambda index: (abs(weights[index]), -index))
    shares = [Decimal(0).quantize(quantum)] * len(weights)
    if base != 0:
        shares = [(amount * weight / base).quantize(quantum, ROUND_HALF_UP) for weight in weights]
    others = sum((share for i, share in enumerate(shares) if i != taker), Decimal(0))
    shares[taker] = (amount - others).quantize(quantum)
    return shares


def tax_shares(
    document: StatementDocument,
    lines: Sequence[StatementLine],
    erp: str,
    quantum: Decimal,
    *,
    remainder: Literal["largest", "last"] = "largest",
) -> dict[int, Decimal]:
    """The statement's tax split over its taxed lines (:data:`TAXED_KINDS`, amount not
    zero), keyed by index in ``lines``; the shares add up to ``document.tax`` exactly.

    Raises PluginError, naming ``erp``, when there is tax but no taxed line to carry it.
    """
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
    shares = allocate(document.tax, weights, quantum, remainder=remainder)
    return dict(zip(taxed, shares, strict=True))
