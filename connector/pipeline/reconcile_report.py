"""Reconciliation as rows (for the CSV and the CLI table), as JSON, and as files."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector.domain.money import total
from connector.pipeline.publish import write_atomically
from connector.pipeline.reconcile import CustomerReconciliation, Reconciliation

COLUMNS = (
    "row",
    "id",
    "name",
    "statement",
    "status",
    "billed_cost",
    "cost",
    "marketplace_cost",
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


def _sum(values: list[Decimal | None]) -> Decimal:
    return total(v for v in values if v is not None)


def _customer_row(c: CustomerReconciliation) -> Row:
    s = c.statement
    return {
        "row": "customer",
        "id": c.customer_id,
        "name": c.name,
        "statement": (s.number or f"draft {s.id[:8]}") if s else "",
        "status": s.status if s else "not generated",
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


def report_rows(rec: Reconciliation) -> list[Row]:
    """One row per customer, unassigned account and unbilled provider category, then
    a totals row and the provider's own total; ``billed_cost`` adds up to the latter.
    """
    rows = [_customer_row(c) for c in rec.customers]
    rows += [
        {
            "row": "unassigned",
            "id": a.account_id,
            "name": "no customer",
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
            "billed_cost": amount,
        }
        for category, amount in rec.non_billable.items()
    ]
    summed = {
        column: _sum([r.get(column) for r in rows])
        for column in COLUMNS
        if column not in {"row", "id", "name", "statement", "status", "note"}
    }
    rows.append({"row": "total", "name": "attributed", **summed})
    verdict = "ties out" if rec.ties_out else "DOES NOT TIE OUT"
    rows.append(
        {
            "row": "provider total",
            "name": f"billed to the reseller ({rec.currency})",
            "billed_cost": rec.provider_total,
            "note": f"difference {rec.difference:f}; {verdict}",
        }
    )
    return rows


def _cell(value: object) -> str:
    if isinstance(value, Decimal):
        return f"{value:f}"
    return "" if value is None else str(value)


def to_csv(rec: Reconciliation) -> bytes:
    """The rows of :func:`report_rows` as CSV, amounts at full precision."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in report_rows(rec):
        writer.writerow({k: _cell(row.get(k)) for k in COLUMNS})
    return buffer.getvalue().encode()


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
        "rounding": {
            "adjustment_lines": _money(rec.rounding),
            "difference": _money(rec.rounding_difference),
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
