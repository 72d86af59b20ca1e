"""Bulk insert of canonical charges: the one hot write path.

A month of a large reseller's AWS data is hundreds of thousands of aggregated charges;
the ORM's per-value bind processing costs more than reading the provider files, so
charges go in through the driver directly: COPY on PostgreSQL, a prepared executemany
on SQLite (with the same exact-decimal text the Money type stores there).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from connector.contracts import CanonicalCharge

CHARGE_COLUMNS = (
    "batch_id", "billing_account_id", "sub_account_id", "charge_category", "charge_class",
    "service_name", "service_category", "sku", "publisher", "is_marketplace", "billed_cost",
    "list_cost", "quantity", "billing_currency", "charge_period_start", "charge_period_end",
    "invoice_id", "line_item_type",
)  # fmt: skip
_COLUMN_LIST = ", ".join(CHARGE_COLUMNS)


def _rows(batch_id: int, charges: Iterable[CanonicalCharge], text: bool) -> Iterator[tuple]:
    # text=True gives SQLite's representation: exact decimal strings, ISO dates, 0/1.
    for c in charges:
        if text:
            yield (
                batch_id, c.billing_account_id, c.sub_account_id, str(c.charge_category),
                c.charge_class, c.service_name, c.service_category, c.sku, c.publisher,
                int(c.is_marketplace), str(c.billed_cost), str(c.list_cost), str(c.quantity),
                c.billing_currency, c.charge_period_start.isoformat(),
                c.charge_period_end.isoformat(), c.invoice_id, c.line_item_type,
            )  # fmt: skip
        else:
            yield (
                batch_id, c.billing_account_id, c.sub_account_id, str(c.charge_category),
                c.charge_class, c.service_name, c.service_category, c.sku, c.publisher,
                c.is_marketplace, c.billed_cost, c.list_cost, c.quantity, c.billing_currency,
                c.charge_period_start, c.charge_period_end, c.invoice_id, c.line_item_type,
            )  # fmt: skip


def insert_charges(session: Session, batch_id: int, charges: Iterable[CanonicalCharge]) -> None:
    """Insert ``charges`` under ``batch_id`` in the session's transaction."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver: Any = connection.connection.driver_connection
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY charges ({_COLUMN_LIST}) FROM STDIN") as copy,
        ):
            for row in _rows(batch_id, charges, text=False):
                copy.write_row(row)
        return
    placeholders = ", ".join("?" * len(CHARGE_COLUMNS))
    connection.exec_driver_sql(
        f"INSERT INTO charges ({_COLUMN_LIST}) VALUES ({placeholders})",
        list(_rows(batch_id, charges, text=True)),
    )
