"""What each accounting system computes from what our sinks send it: the invoice total.

Written from each system's documented arithmetic, independently of the sinks, so a
test can hold a sink's output against it:

* **Xero** (API and the sales-invoice import), ``LineAmountTypes`` Exclusive: each line's
  LineAmount is Quantity x UnitAmount rounded half-up to 2 decimals (a LineAmount sent
  that differs is refused: "The line total ... does not match the expected line total");
  its tax is the TaxAmount given (held at 2 decimals), or LineAmount x the tax type's rate
  rounded per line when none is given; Total = Σ LineAmount + Σ TaxAmount.
* **QuickBooks Online API**: each line's Amount must equal UnitPrice x Qty and is held at
  2 decimals; the tax is ``TxnTaxDetail.TotalTax`` when we send it (US), the sum of the
  ``TaxLine`` amounts when we send those (outside the US), and otherwise what QuickBooks
  works out itself: per tax rate, on the total of the lines carrying it
  (``NetAmountTaxable`` is "the total of the lines for which this rate is applied"),
  rounded once, to 2 decimals (taken to hold in every currency; the sink does not rely
  on it, see ``taxed_lines``); TotalAmt = Σ Amount + tax.
* **QuickBooks Online invoice import**: Σ ItemAmount + Σ ItemTaxAmount, each at 2 decimals,
  ItemAmount being ItemQuantity x ItemRate.

A body these systems would refuse raises :class:`Refused` with their message.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connector_erp_quickbooks import money_json
from xero_python.api_client.serializer import serialize

CENT = Decimal("0.01")
UNIT_4DP = Decimal("0.0001")
ZERO = Decimal(0)


class Refused(AssertionError):
    """The accounting system would refuse the invoice (its message as the text)."""


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, ROUND_HALF_UP)


def _number(value: Any) -> Decimal:
    if isinstance(value, float):  # never: bodies are parsed with Decimal floats
        raise TypeError(f"float {value!r} in a parsed body")
    return Decimal(str(value))


def xero_body(model: Any) -> dict[str, Any]:
    """The JSON body the Xero SDK sends for ``model`` (an Invoice or CreditNote), parsed
    exactly: the SDK writes each Decimal as a float, Xero reads the decimal text."""
    return json.loads(json.dumps(serialize(model)), parse_float=Decimal)


def quickbooks_body(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON body the QuickBooks sink sends for ``payload``, parsed exactly."""
    return json.loads(money_json.dumps(payload), parse_float=Decimal)


def xero_total(body: Mapping[str, Any], rates: Mapping[str, Decimal]) -> Decimal:
    """Xero's Total of an invoice or credit note body; ``rates``: tax type -> rate."""
    if body.get("LineAmountTypes") != "Exclusive":
        raise Refused(f"expected tax-exclusive amounts, got {body.get('LineAmountTypes')!r}")
    total = ZERO
    for number, item in enumerate(body["LineItems"], start=1):
        line = _cents(_number(item["Quantity"]) * _number(item["UnitAmount"]))
        if item.get("LineAmount") is not None and _number(item["LineAmount"]) != line:
            raise Refused(
                f"line {number}: the line total {item['LineAmount']} does not match the "
                f"expected line total {line}"
            )
        given = item.get("TaxAmount")
        rate = rates[item["TaxType"]]
        tax = _cents(line * rate) if given is None else _cents(_number(given))
        total += line + tax
    return total


def xero_import_total(header: Sequence[str], rows: Sequence[Sequence[str]],
                      rates: Mapping[str, Decimal]) -> Decimal:  # fmt: skip
    """Xero's Total of one invoice imported from its sales-invoice template rows.

    The import reads UnitAmount to 4 decimals, then rounds each line as the API does.
    """
    total = ZERO
    for row in rows:
        cell = dict(zip(header, row, strict=True))
        if cell["Discount"]:
            raise Refused("a discount column was not expected")
        unit = _number(cell["*UnitAmount"]).quantize(UNIT_4DP, ROUND_HALF_UP)
        line = _cents(_number(cell["*Quantity"]) * unit)
        given = cell["TaxAmount"]
        tax = _cents(_number(given)) if given else _cents(line * rates[cell["*TaxType"]])
        total += line + tax
    return total


def quickbooks_total(body: Mapping[str, Any], us: bool, rates: Mapping[str, Decimal]) -> Decimal:
    """QuickBooks Online's TotalAmt of an Invoice or CreditMemo body (as parsed JSON).

    ``rates``: tax code id -> rate, as the company's tax codes hold them.
    """
    amounts: list[Decimal] = []
    by_code: dict[str, Decimal] = defaultdict(Decimal)
    for line in body["Line"]:
        detail = line["SalesItemLineDetail"]
        amount = _number(line["Amount"])
        if _number(detail["UnitPrice"]) * _number(detail["Qty"]) != amount:
            raise Refused(f"line {line['LineNum']}: Amount is not equal to UnitPrice * Qty")
        amounts.append(_cents(amount))
        by_code[detail["TaxCodeRef"]["value"]] += _cents(amount)
    net = sum(amounts, ZERO)
    tax_detail = body.get("TxnTaxDetail") or {}
    if us:
        if "TotalTax" in tax_detail:
            return net + _cents(_number(tax_detail["TotalTax"]))
        code = tax_detail.get("TxnTaxCodeRef", {}).get("value")
        return net + _cents(by_code.get("TAX", ZERO) * rates.get(code, ZERO))
    if tax_detail.get("TaxLine"):
        return net + sum((_cents(_number(t["Amount"])) for t in tax_detail["TaxLine"]), ZERO)
    return net + sum((_cents(base * rates[code]) for code, base in by_code.items()), ZERO)


def quickbooks_import_total(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Decimal:
    """QuickBooks Online's total of one invoice imported from its invoice-import rows."""
    total = ZERO
    for row in rows:
        cell = dict(zip(header, row, strict=True))
        amount = _number(cell["ItemAmount"])
        if _number(cell["ItemQuantity"]) * _number(cell["ItemRate"]) != amount:
            raise Refused(f"{cell['ItemDescription']}: ItemAmount is not quantity x rate")
        total += _cents(amount) + _cents(_number(cell["ItemTaxAmount"] or "0"))
    return total
