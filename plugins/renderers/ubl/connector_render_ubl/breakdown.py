"""A statement seen the way EN 16931 counts money: items, allowances, tax, totals.

Pure values from a :class:`StatementDocument`; :mod:`connector_render_ubl.document`
writes them as XML. Every amount here is already in the document's sign: a statement
with a negative total becomes a credit note, whose amounts are stated positive, so
each line amount is multiplied by ``sign`` (-1) first.

How each statement line kind is carried (and why):

- ``service``, ``marketplace``, ``support``: an invoice line (BG-25). A negative amount
  (a correction) gets quantity -1 and a positive price, because BR-27 forbids a
  negative item price while negative quantities are allowed.
- ``discount`` and ``rounding``: a document-level allowance (negative) or charge
  (positive) (BG-20/BG-21). Both are in the taxed base (the core taxes them with the
  services), so they carry the taxed category; a rounding adjustment is not written as
  PayableRoundingAmount (BT-114), which sits after tax and would leave the stated tax
  base a cent away from the base the tax was computed on.
- ``credit``: with "include credits for tax calculations" the part of the credit that
  reduced the taxable base is an allowance in the taxed category and the part that paid
  marketplace fees an allowance in the untaxed one; otherwise the credit reduced the
  amount due after tax, which is EN 16931's paid amount (BT-113, PrepaidAmount). The
  document says which option was on (``credits_before_tax``); for a document that does
  not, it is read from the tax itself: the split whose base times the rate comes closer
  to the statement's tax.
- ``tax``: the tax total (BT-110); the lines must add up to ``document.tax``.

Tax categories (UNCL5305): taxed lines are ``S`` at the statement's rate (``Z`` for a
0% rate); marketplace pass-through is never taxed and is ``E`` with an exemption
reason. ``O`` (outside the scope of tax) would read better for a US sale, but EN 16931
forbids mixing ``O`` with any other category in one invoice (BR-O-11..14) and forbids
the tax identifiers our parties carry (BR-O-02..04); ``Z`` would claim a zero rate that
no tax table says. A statement that charges no tax puts every line in ``E``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from connector.contracts import PluginError, StatementDocument, StatementLine, sum_decimals
from connector_render_ubl.money import minor_units

ITEM_KINDS = frozenset({"service", "marketplace", "support"})
TAXED_KINDS = frozenset({"service", "support", "discount", "rounding"})
KNOWN_KINDS = ITEM_KINDS | {"discount", "rounding", "credit", "tax"}
ZERO = Decimal(0)

MARKETPLACE_REASON = "Marketplace pass-through fees are not subject to tax"
NO_TAX_REASON = "No tax is charged on this statement"


@dataclass(frozen=True, slots=True)
class TaxCategory:
    """A UNCL5305 tax category: ``S``/``Z`` with a percent, ``E`` with a reason."""

    code: str
    percent: Decimal
    exemption_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """One invoice line: ``amount`` = ``quantity`` x ``price`` exactly."""

    position: int
    name: str
    amount: Decimal
    category: TaxCategory
    account_id: str | None
    service_category: str | None

    @property
    def quantity(self) -> Decimal:
        return Decimal(-1) if self.amount < 0 else Decimal(1)

    @property
    def price(self) -> Decimal:
        return abs(self.amount)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A document-level allowance (``charge`` False) or charge; ``amount`` is positive."""

    charge: bool
    reason: str
    amount: Decimal
    category: TaxCategory


@dataclass(frozen=True, slots=True)
class TaxSubtotal:
    category: TaxCategory
    taxable: Decimal
    tax: Decimal


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Everything the UBL document states about money, each sum rule holding exactly."""

    sign: int
    items: Sequence[Item]
    adjustments: Sequence[Adjustment]
    subtotals: Sequence[TaxSubtotal]
    tax: Decimal
    prepaid: Decimal

    @property
    def line_total(self) -> Decimal:
        """BT-106: the sum of the invoice lines' net amounts (BR-CO-10)."""
        return sum_decimals(item.amount for item in self.items)

    @property
    def allowance_total(self) -> Decimal:
        """BT-107 (BR-CO-11)."""
        return sum_decimals(a.amount for a in self.adjustments if not a.charge)

    @property
    def charge_total(self) -> Decimal:
        """BT-108 (BR-CO-12)."""
        return sum_decimals(a.amount for a in self.adjustments if a.charge)

    @property
    def tax_exclusive(self) -> Decimal:
        """BT-109 = BT-106 - BT-107 + BT-108 (BR-CO-13)."""
        return self.line_total - self.allowance_total + self.charge_total

    @property
    def tax_inclusive(self) -> Decimal:
        """BT-112 = BT-109 + BT-110 (BR-CO-15)."""
        return self.tax_exclusive + self.tax

    @property
    def payable(self) -> Decimal:
        """BT-115 = BT-112 - BT-113 (BR-CO-16; no rounding amount is ever stated)."""
        return self.tax_inclusive - self.prepaid


def _categories(document: StatementDocument) -> tuple[TaxCategory, TaxCategory]:
    """The category of taxed lines and the category of untaxed (marketplace) lines."""
    if document.tax_rate is None:
        if document.tax:
            raise PluginError(
                f"statement {document.number} charges tax {document.tax} {document.currency} "
                "but carries no tax_rate; UBL must state the rate of every tax category"
            )
        exempt = TaxCategory("E", ZERO, NO_TAX_REASON)
        return exempt, exempt
    code = "S" if document.tax_rate > 0 else "Z"
    return TaxCategory(code, document.tax_rate), TaxCategory("E", ZERO, MARKETPLACE_REASON)


def _rounded_tax(base: Decimal, rate: Decimal, currency: str) -> Decimal:
    return (base * rate).quantize(Decimal(1).scaleb(-minor_units(currency)), ROUND_HALF_UP)


def _credit_before_tax(document: StatementDocument, base: Decimal, credit: Decimal) -> Decimal:
    """How much of ``credit`` reduced the taxable base (0 when it was applied after tax)."""
    rate = document.tax_rate
    reduced = min(credit, max(base, ZERO))
    if rate is None or rate == 0 or not reduced:
        # No tax to tell the two apart: the credit reduces the base like a discount,
        # which keeps the tax-exclusive amount equal to what the customer is charged.
        return credit if rate is None else reduced
    if document.credits_before_tax is not None:
        return reduced if document.credits_before_tax else ZERO
    before = abs(document.tax - _rounded_tax(base - reduced, rate, document.currency))
    after = abs(document.tax - _rounded_tax(base, rate, document.currency))
    return reduced if before < after else ZERO


def _check_sums(document: StatementDocument, lines: Sequence[StatementLine]) -> None:
    unknown = sorted({line.kind for line in lines} - KNOWN_KINDS)
    if unknown:
        raise PluginError(
            f"statement {document.number} has lines of kind {', '.join(unknown)}; the ubl "
            f"renderer knows {', '.join(sorted(KNOWN_KINDS))}"
        )
    tax_lines = sum_decimals(line.amount for line in lines if line.kind == "tax")
    if tax_lines != document.tax:
        raise PluginError(
            f"statement {document.number}: its tax lines add up to {tax_lines} but its tax "
            f"is {document.tax} {document.currency}"
        )
    all_lines = sum_decimals(line.amount for line in lines)
    if all_lines != document.total:
        raise PluginError(
            f"statement {document.number}: its lines add up to {all_lines} but its total "
            f"is {document.total} {document.currency}"
        )
    if not any(line.kind in ITEM_KINDS for line in lines):
        raise PluginError(
            f"statement {document.number} has no service, marketplace or support line; a "
            "UBL invoice needs at least one invoice line"
        )


def _adjustment(reason: str, amount: Decimal, category: TaxCategory) -> Adjustment:
    return Adjustment(charge=amount > 0, reason=reason, amount=abs(amount), category=category)


def _subtotals(
    items: Sequence[Item], adjustments: Sequence[Adjustment], taxed: TaxCategory, tax: Decimal
) -> list[TaxSubtotal]:
    bases: dict[TaxCategory, Decimal] = {}
    for item in items:
        bases[item.category] = bases.get(item.category, ZERO) + item.amount
    for adj in adjustments:
        signed = adj.amount if adj.charge else -adj.amount
        bases[adj.category] = bases.get(adj.category, ZERO) + signed
    if tax and taxed not in bases:
        bases[taxed] = ZERO
    # Taxed category first, then the exempt one: a stable order, whatever the lines.
    ordered = sorted(bases.items(), key=lambda pair: pair[0].code != taxed.code)
    return [
        TaxSubtotal(category, base, tax if category == taxed else ZERO)
        for category, base in ordered
    ]


def breakdown(document: StatementDocument) -> Breakdown:
    """The EN 16931 money view of ``document`` (see the module docstring)."""
    lines = sorted(document.lines, key=lambda line: line.position)
    _check_sums(document, lines)
    sign = -1 if document.total < 0 else 1
    taxed, untaxed = _categories(document)
    items = [
        Item(
            position=line.position,
            name=line.description,
            amount=sign * line.amount,
            category=untaxed if line.kind == "marketplace" else taxed,
            account_id=line.account_id,
            service_category=line.service_category,
        )
        for line in lines
        if line.kind in ITEM_KINDS
    ]
    adjustments = [
        _adjustment(line.description, sign * line.amount, taxed)
        for line in lines
        if line.kind in ("discount", "rounding") and line.amount
    ]
    base = sum_decimals(line.amount for line in lines if line.kind in TAXED_KINDS)
    prepaid = ZERO
    for line in (line for line in lines if line.kind == "credit" and line.amount):
        credit = -line.amount
        before = _credit_before_tax(document, base, credit)
        base -= before
        if before:
            adjustments.append(_adjustment(line.description, -sign * before, taxed))
        rest = credit - before
        if rest and document.tax_rate is not None and before:
            # Credits before tax pay marketplace fees only after the taxed base.
            marketplace = f"{line.description} (marketplace fees)"
            adjustments.append(_adjustment(marketplace, -sign * rest, untaxed))
        elif rest:
            prepaid += sign * rest
    tax = sign * document.tax
    return Breakdown(
        sign=sign,
        items=items,
        adjustments=adjustments,
        subtotals=_subtotals(items, adjustments, taxed, tax),
        tax=tax,
        prepaid=prepaid,
    )
