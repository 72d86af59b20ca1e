"""Reconciliation as rows (for the CSV and the CLI table), as JSON, and as files.

Every amount is in the currency of its column group: cost columns (``billed_cost``,
``cost``, ``marketplace_cost``, ``drift``) in ``cost_currency``, the provider's billing
currency; the rest in ``currency``, the statement's. Totals are one row per currency,
never a sum across currencies.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector.contracts import csv_bytes
from connector.domain.money import total
from connector.pipeline.publish import write_atomically
from connector.pipeline.reconcile import CustomerReconciliation, Reconciliation

COLUMNS = (
    "row",
    "id",
    "name",
    "statement",
    "status",
    "cost_currency",
    "billed_cost",
    "cost",
    "marketplace_cost",
    "currency",
    "price",
    "margin",
    "marketplace_margin",
    "subtotal",
    "tax",
    "total",
    "rounding",
    "rounding_difference",
    "drift",
    "note",
)

Row = dict[str, Any]

# In the provider's billing currency (``cost_currency``); every other amount column is
# in the statement's (``currency``).
COST_COLUMNS = ("billed_cost", "cost", "marketplace_cost", "drift")
PRICE_COLUMNS = (
    "price",
    "margin",
    "marketplace_margin",
    "subtotal",
    "tax",
    "total",
    "rounding",
    "rounding_difference",
)


def _sum(values: list[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return total(present) if present else None


def _totals(rows: list[Row]) -> list[Row]:
    """One ``total`` row per currency: cost columns summed over the rows whose costs
    are in it, price columns over the rows whose statements are; blank where none are."""
    codes = {r.get("cost_currency") for r in rows} | {r.get("currency") for r in rows}
    totals = []
    for code in sorted(c for c in codes if c):
        costs = [r for r in rows if r.get("cost_currency") == code]
        prices = [r for r in rows if r.get("currency") == code]
        row: Row = {"row": "total", "name": f"attributed ({code})"}
        row["cost_currency"] = code if costs else None
        row["currency"] = code if prices else None
        row |= {column: _sum([r.get(column) for r in costs]) for column in COST_COLUMNS}
        row |= {column: _sum([r.get(column) for r in prices]) for column in PRICE_COLUMNS}
        totals.append(row)
    return totals


def _customer_row(c: CustomerReconciliation) -> Row:
    s = c.statement
    return {
        "row": "customer",
        "id": c.customer_id,
        "name": c.name,
        "statement": (s.number or f"draft {s.id[:8]}") if s else "",
        "status": s.status if s else "not generated",
        "cost_currency": c.cost_currency,
        "currency": c.currency,
        "billed_cost": c.billable_cost,
        "cost": c.cost,
        "marketplace_cost": c.marketplace_cost,
        "price": c.price,
        "margin": c.margin,
        "marketplace_margin": c.marketplace_margin,
        "subtotal": s.subtotal if s else None,
        "tax": s.tax if s else None,
        "total": s.total if s else None,
        "rounding": c.rounding,
        "rounding_difference": c.rounding_difference,
        "drift": c.drift,
        "note": "; ".join(c.problems),
    }


def _party_rows(rec: Reconciliation) -> list[Row]:
    """One row per customer, unassigned account and unbilled provider category."""
    rows = [_customer_row(c) for c in rec.customers]
    rows += [
        {
            "row": "unassigned",
            "id": a.account_id,
            "name": "no customer",
            "cost_currency": rec.currency,
            "billed_cost": a.billable_cost,
            "note": f"billed {a.billed_cost:f} in all categories; map the account to a customer",
        }
        for a in rec.unassigned
    ]
    rows += [
        {
            "row": "provider",
            "id": category,
            "name": f"provider {category.lower()} (the reseller's, never on statements)",
            "cost_currency": rec.currency,
            "billed_cost": amount,
        }
        for category, amount in rec.non_billable.items()
    ]
    return rows


def report_rows(rec: Reconciliation) -> list[Row]:
    """One row per customer, unassigned account and unbilled provider category, then
    a totals row per currency and the provider's own total; the ``billed_cost`` of the
    total in the provider's currency adds up to the latter.
    """
    rows = _party_rows(rec)
    rows += _totals(rows)
    verdict = "ties out" if rec.ties_out else "DOES NOT TIE OUT"
    rows.append(
        {
            "row": "provider total",
            "name": f"billed to the reseller ({rec.currency})",
            "cost_currency": rec.currency,
            "billed_cost": rec.provider_total,
            "note": f"difference {rec.difference:f}; {verdict}",
        }
    )
    return rows


def to_csv(rec: Reconciliation) -> bytes:
    """The rows of :func:`report_rows` as CSV, amounts at full precision.

    Cells are made by :func:`connector.contracts.csv_cell`: amounts (Decimals) stay
    numbers, and text (customer names come from the tenant's files and providers) that
    a spreadsheet would run as a formula is quoted.
    """
    return csv_bytes(COLUMNS, ([row.get(k) for k in COLUMNS] for row in report_rows(rec)))


def _money(value: Decimal | None) -> str | None:
    # Strings, so no JSON reader turns exact amounts into floats; fixed-point, so an
    # exact zero summed from NUMERIC(38, 12) values reads 0.000000000000, not 0E-12.
    return None if value is None else f"{value:f}"


def to_dict(rec: Reconciliation) -> dict[str, Any]:
    """Everything in the reconciliation, money as exact decimal strings."""
    customers = []
    for c in rec.customers:
        s = c.statement
        customers.append(
            {
                "customer": c.customer_id,
                "name": c.name,
                "cost_currency": c.cost_currency,
                "cost": _money(c.cost),
                "marketplace_cost": _money(c.marketplace_cost),
                "billable_cost": _money(c.billable_cost),
                "statement": None
                if s is None
                else {
                    "id": s.id,
                    "number": s.number,
                    "status": s.status,
                    "revision": s.revision,
                    "currency": s.currency,
                    "subtotal": _money(s.subtotal),
                    "tax": _money(s.tax),
                    "total": _money(s.total),
                    "batch_ids": list(s.batch_ids),
                },
                "currency": c.currency,
                "exchange_rate": _money(c.exchange_rate),
                "price": _money(c.price),
                "price_by_kind": {k: _money(v) for k, v in c.price_by_kind.items()},
                "margin": _money(c.margin),
                "marketplace_margin": _money(c.marketplace_margin),
                "rounding": _money(c.rounding),
                "rounding_difference": _money(c.rounding_difference),
                "stale": c.stale,
                "drift": _money(c.drift),
                "problems": list(c.problems),
            }
        )
    return {
        "tenant": rec.tenant,
        "provider": rec.provider,
        "period": rec.period,
        "currency": rec.currency,
        "batch_ids": list(rec.batch_ids),
        "provider_billed": {
            "total": _money(rec.provider_total),
            "ingested_total": _money(rec.ingested_total),
            "by_category": {k: _money(v) for k, v in rec.by_category.items()},
        },
        "customers": customers,
        "unassigned": [
            {
                "account": a.account_id,
                "billable_cost": _money(a.billable_cost),
                "billed_cost": _money(a.billed_cost),
            }
            for a in rec.unassigned
        ],
        "totals": [
            {
                "currency": row["cost_currency"] or row["currency"],
                **{column: _money(row[column]) for column in (*COST_COLUMNS, *PRICE_COLUMNS)},
            }
            for row in _totals(_party_rows(rec))
        ],
        "rounding": {
            currency: {
                "adjustment_lines": _money(amount),
                "difference": _money(rec.rounding_difference[currency]),
            }
            for currency, amount in rec.rounding.items()
        },
        "tie_out": {
            "provider_total": _money(rec.provider_total),
            "customers_billable_cost": _money(rec.customers_cost),
            "unassigned_billable_cost": _money(rec.unassigned_cost),
            "non_billable": {k: _money(v) for k, v in rec.non_billable.items()},
            "difference": _money(rec.difference),
            "ties_out": rec.ties_out,
        },
        "problems": list(rec.problems),
    }


def write_reports(rec: Reconciliation, out_dir: Path) -> list[Path]:
    """Write ``reconcile-<tenant>-<provider>-<period>.csv`` and ``.json``, each atomically."""
    base = f"reconcile-{rec.tenant}-{rec.provider}-{rec.period}"
    csv_path, json_path = out_dir / f"{base}.csv", out_dir / f"{base}.json"
    write_atomically(csv_path, to_csv(rec))
    write_atomically(json_path, (json.dumps(to_dict(rec), indent=2) + "\n").encode())
    return [csv_path, json_path]
