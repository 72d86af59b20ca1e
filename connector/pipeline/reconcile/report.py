"""Reconciliation as rows (for the CSV and the CLI table), as JSON, and as files.

Every amount is in the currency of its column group: cost columns (``billed_cost``,
``cost``, ``marketplace_cost``, ``provider_credit``, ``drift``) in ``cost_currency``, the
provider's billing currency; the rest in ``currency``, the statement's. Totals are one
row per currency, never a sum across currencies.

Provider credits: a customer's ``provider_credit`` is what the tenant's
``provider_credits`` passes to it; the provider rows split the provider's Credit into
what the reseller keeps (``Credit``) and what went to customers (``Credit passed``), so
the ``billed_cost`` column still adds up to the provider's total.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from connector.contracts import csv_bytes
from connector.domain import provider_credits as pc
from connector.domain.money import money_text, quantity_text, tidy, total
from connector.pipeline.publish.export import write_atomically
from connector.pipeline.reconcile.reconciliation import CustomerReconciliation, Reconciliation

Row = dict[str, Any]
# The provider row of the Credit passed to customers (the "Credit" row is what is kept).
PASSED = "Credit passed"

# In the provider's billing currency (``cost_currency``); every other amount column is
# in the statement's (``currency``).
COST_COLUMNS = ("billed_cost", "cost", "marketplace_cost", "provider_credit", "drift")
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
# The CSV's columns, in order.
COLUMNS = (
    "row", "id", "name", "statement", "status",
    "cost_currency", "billed_cost", "cost", "marketplace_cost", "provider_credit",
    "currency", *PRICE_COLUMNS, "drift", "note",
)  # fmt: skip


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
        "statement": (s.number or f"draft {s.id}") if s else "",
        "status": s.status if s else "not generated",
        "cost_currency": c.cost_currency,
        "currency": c.currency,
        "billed_cost": c.billable_cost,
        "cost": c.cost,
        "marketplace_cost": c.marketplace_cost,
        "provider_credit": c.provider_credit,
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
            "note": f"billed {money_text(a.billed_cost, rec.currency)} in all categories; "
            "map the account to a customer",
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
    if rec.provider_credits != pc.NONE:
        rows.append(
            {
                "row": "provider",
                "id": PASSED,
                "name": f"provider credit passed to customers (provider_credits: "
                f"{rec.provider_credits}; each customer's in provider_credit)",
                "cost_currency": rec.currency,
                "billed_cost": rec.credits_passed,
            }
        )
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
            "note": f"difference {money_text(rec.difference, rec.currency)}; {verdict}",
        }
    )
    return [_tidied(row) for row in rows]


def _tidied(row: Row) -> Row:
    """Amounts in their column's minor unit where that loses nothing, else in full, so a
    sum reads the same from SQLite and from PostgreSQL's NUMERIC(38, 12)."""
    out = dict(row)
    for columns, currency in ((COST_COLUMNS, row.get("cost_currency")),
                              (PRICE_COLUMNS, row.get("currency"))):  # fmt: skip
        for column in columns:
            if out.get(column) is not None and currency:
                out[column] = tidy(out[column], currency)
    return out


def to_csv(rec: Reconciliation) -> bytes:
    """The rows of :func:`report_rows` as CSV, amounts at full precision.

    Cells are made by :func:`connector.contracts.csv_cell`: amounts (Decimals) stay
    numbers, and text (customer names come from the tenant's files and providers) that
    a spreadsheet would run as a formula is quoted.
    """
    return csv_bytes(COLUMNS, ([row.get(k) for k in COLUMNS] for row in report_rows(rec)))


def to_dict(rec: Reconciliation) -> dict[str, Any]:
    """Everything in the reconciliation, money as exact decimal strings."""
    customers = []
    for c in rec.customers:
        s = c.statement
        cost, price = c.cost_currency, c.currency
        customers.append(
            {
                "customer": c.customer_id,
                "name": c.name,
                "cost_currency": c.cost_currency,
                "cost": money_text(c.cost, cost),
                "marketplace_cost": money_text(c.marketplace_cost, cost),
                "billable_cost": money_text(c.billable_cost, cost),
                "provider_credit": money_text(c.provider_credit, cost),
                "statement": None
                if s is None
                else {
                    "id": s.id,
                    "number": s.number,
                    "status": s.status,
                    "revision": s.revision,
                    "currency": s.currency,
                    "subtotal": money_text(s.subtotal, s.currency),
                    "tax": money_text(s.tax, s.currency),
                    "total": money_text(s.total, s.currency),
                    "batch_ids": list(s.batch_ids),
                },
                "currency": c.currency,
                "exchange_rate": quantity_text(c.exchange_rate),
                "price": money_text(c.price, price),
                "price_by_kind": {k: money_text(v, price) for k, v in c.price_by_kind.items()},
                "margin": money_text(c.margin, price),
                "marketplace_margin": money_text(c.marketplace_margin, price),
                "rounding": money_text(c.rounding, price),
                "rounding_difference": money_text(c.rounding_difference, price),
                "stale": c.stale,
                "drift": money_text(c.drift, cost),
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
            "total": money_text(rec.provider_total, rec.currency),
            "ingested_total": money_text(rec.ingested_total, rec.currency),
            "by_category": {k: money_text(v, rec.currency) for k, v in rec.by_category.items()},
        },
        "customers": customers,
        "provider_credits": {
            "setting": rec.provider_credits,
            "passed": {
                c.customer_id: money_text(c.provider_credit, c.cost_currency)
                for c in rec.customers
                if c.provider_credit
            },
            "passed_total": money_text(rec.credits_passed, rec.currency),
            "kept": money_text(rec.non_billable.get("Credit"), rec.currency),
        },
        "unassigned": [
            {
                "account": a.account_id,
                "billable_cost": money_text(a.billable_cost, rec.currency),
                "billed_cost": money_text(a.billed_cost, rec.currency),
            }
            for a in rec.unassigned
        ],
        "totals": [
            {
                "currency": row["cost_currency"] or row["currency"],
                **{
                    column: money_text(row[column], row["cost_currency"]) for column in COST_COLUMNS
                },
                **{column: money_text(row[column], row["currency"]) for column in PRICE_COLUMNS},
            }
            for row in _totals(_party_rows(rec))
        ],
        "rounding": {
            currency: {
                "adjustment_lines": money_text(amount, currency),
                "difference": money_text(rec.rounding_difference[currency], currency),
            }
            for currency, amount in rec.rounding.items()
        },
        "tie_out": {
            "provider_total": money_text(rec.provider_total, rec.currency),
            "customers_billable_cost": money_text(rec.customers_cost, rec.currency),
            "customers_provider_credits": money_text(rec.credits_passed, rec.currency),
            "unassigned_billable_cost": money_text(rec.unassigned_cost, rec.currency),
            "non_billable": {k: money_text(v, rec.currency) for k, v in rec.non_billable.items()},
            "difference": money_text(rec.difference, rec.currency),
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
