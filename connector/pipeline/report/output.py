"""A billing report as flat rows, CSV and JSON: money as exact decimal strings, the same
bytes from SQLite and PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from connector.contracts import csv_bytes
from connector.domain.money import money_text, quantity_text
from connector.domain.report_rounding import Figures
from connector.pipeline.report.report import Report, ReportRow, ReportTotal

KEY_COLUMNS = (
    "level", "period", "status", "customer", "customer_name", "account", "service_category",
    "marketplace", "service", "usage_type", "line_item_type", "currency", "pricebook_version",
)  # fmt: skip
FIGURE_COLUMNS = (
    "quantity", "cost", "cost_report", "price", "price_report", "price_bill", "bill_rounded",
    "margin", "margin_report", "margin_bill", "view_difference",
)  # fmt: skip
BILLED_COLUMNS = (
    "statement", "statement_status", "billed_pricebook_version", "billed_cost",
    "billed_price_report", "billed_price_bill", "change_cost", "change_price_report",
    "change_price_bill",
)  # fmt: skip
COLUMNS = KEY_COLUMNS + FIGURE_COLUMNS + BILLED_COLUMNS

Row = dict[str, Any]


def figures(f: Figures, currency: str) -> Row:
    """Both views of one row (or total), money as strings in ``currency``'s minor unit
    where that loses nothing (see :func:`connector.domain.money.money_text`)."""
    plain = {"quantity": quantity_text(f.quantity), "bill_rounded": f.bill_rounded}
    return {
        name: plain[name] if name in plain else money_text(getattr(f, name), currency)
        for name in FIGURE_COLUMNS
    }


def _billed(billed: Figures | None, change: Figures | None, currency: str) -> Row:
    if billed is None or change is None:
        return {}
    return {
        f"{side}_{name}": money_text(getattr(view, name), currency)
        for side, view in (("billed", billed), ("change", change))
        for name in ("cost", "price_report", "price_bill")
    }


def row_dict(row: ReportRow) -> Row:
    """One report row with every column of :data:`COLUMNS` (absent ones as None)."""
    out: Row = dict.fromkeys(COLUMNS)
    out.update(
        level=row.level,
        period=row.period,
        status="provisional" if row.provisional else "closed",
        customer=row.customer_id,
        customer_name=row.customer_name,
        account=row.account_id,
        service_category=row.service_category,
        marketplace=row.is_marketplace,
        service=row.service_name,
        usage_type=row.usage_type,
        line_item_type=row.line_item_type,
        currency=row.currency,
        pricebook_version=row.pricebook_version,
        **figures(row.now, row.currency),
    )
    if row.statements:
        out.update(
            statement="; ".join(s.number or f"draft {s.id}" for s in row.statements),
            statement_status="; ".join(s.status for s in row.statements),
            billed_pricebook_version="; ".join(
                sorted({s.pricebook_version or "" for s in row.statements})
            ),
        )
    out.update(_billed(row.billed, row.change, row.currency))
    return out


def total_dict(report: Report, total: ReportTotal) -> Row:
    """The total row of one currency, in the same columns as the rows."""
    out: Row = dict.fromkeys(COLUMNS)
    out.update(
        level="total",
        status="provisional" if report.provisional else "closed",
        currency=total.currency,
        **figures(total.now, total.currency),
    )
    out.update(_billed(total.billed, total.change, total.currency))
    return out


NUMERIC_COLUMNS = frozenset(FIGURE_COLUMNS) - {"bill_rounded"} | {
    "billed_cost", "billed_price_report", "billed_price_bill", "change_cost",
    "change_price_report", "change_price_bill",
}  # fmt: skip


def _cell(column: str, value: object) -> object:
    # Money is a decimal string in the row dicts (for JSON); back to a number here so
    # csv_cell writes it as one, while every text cell is defused against formulas.
    if column in NUMERIC_COLUMNS and isinstance(value, str):
        return Decimal(value)
    return value


def to_csv(report: Report) -> bytes:
    """The rows, then one total row per currency; amounts at full precision.

    Cells are made by :func:`connector.contracts.csv_cell`: customer, service and
    marketplace product names come from third parties, so formula-like text is quoted.
    """
    rows = [row_dict(row) for row in report.rows]
    rows += [total_dict(report, total) for total in report.totals]
    return csv_bytes(COLUMNS, ([_cell(c, row[c]) for c in COLUMNS] for row in rows))


def to_dict(report: Report) -> dict[str, Any]:
    """The whole report: range, periods, rows, totals (both views and their difference)."""
    return {
        "tenant": report.tenant,
        "provider": report.provider,
        "range": {
            "label": report.range.label,
            "from": report.range.first.isoformat(),
            "to": report.range.last.isoformat(),
        },
        "by": report.by,
        "as_of": report.as_of.isoformat(),
        "pricing": report.pricing,
        "provisional": report.provisional,
        "periods": [
            {
                "period": p.key,
                "start": p.start.isoformat(),
                "end": p.end.isoformat(),
                "status": "provisional" if p.provisional else "closed",
                "closed_by": p.closed_by,
                "whole": p.whole,
                "statements": p.statements,
            }
            for p in report.periods
        ],
        "rows": [row_dict(r) for r in report.rows],
        "totals": [
            {
                "currency": t.currency,
                "report_view": money_text(t.now.price_report, t.currency),
                "bill_view": money_text(t.now.price_bill, t.currency),
                "difference": money_text(t.now.view_difference, t.currency),
                "now": figures(t.now, t.currency),
                "billed": None if t.billed is None else figures(t.billed, t.currency),
                "now_of_billed": None
                if t.now_billed is None
                else figures(t.now_billed, t.currency),
                "change": None if t.change is None else figures(t.change, t.currency),
            }
            for t in report.totals
        ],
        "unassigned": [
            {"period": p, "currency": c, "account": a, "cost": money_text(v, c)}
            for (p, c, a), v in sorted(report.unassigned.items())
        ],
        "problems": list(report.problems),
    }


def to_json(report: Report) -> bytes:
    return (json.dumps(to_dict(report), indent=2) + "\n").encode()
