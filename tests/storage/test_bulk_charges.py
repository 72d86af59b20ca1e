"""Charges written by the bulk path read back through the ORM exactly as given."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from connector.contracts import CanonicalCharge, ChargeCategory
from connector.storage import models as m
from connector.storage.bulk import insert_charges
from connector.storage.db import Database

CHARGES = [
    CanonicalCharge(
        billing_account_id="999", sub_account_id="111", charge_category=ChargeCategory.USAGE,
        service_name="AmazonEC2", service_category="Amazon EC2", sku="BoxUsage",
        billed_cost=Decimal("0.1234567891"), list_cost=Decimal("12345678901.123456789012"),
        billing_currency="USD", charge_period_start=dt.date(2026, 10, 1),
        charge_period_end=dt.date(2026, 10, 31), quantity=Decimal("744.000000000001"),
        invoice_id="INV-1", line_item_type="Usage",
    ),
    CanonicalCharge(
        billing_account_id="999", sub_account_id="444", charge_category=ChargeCategory.CREDIT,
        service_name="prod-x", service_category="Foxit", sku="MP", billed_cost=Decimal("-0"),
        list_cost=Decimal("0"), billing_currency="USD", charge_period_start=dt.date(2026, 10, 2),
        charge_period_end=dt.date(2026, 10, 2), charge_class="Correction", publisher="Foxit",
        is_marketplace=True, line_item_type="Refund",
    ),
]  # fmt: skip


def test_bulk_inserted_charges_read_back_exactly(db_url: str) -> None:
    db = Database(db_url)
    with db.transaction() as session:
        session.add(m.Tenant(id="t", name="T", next_invoice_number=1))
        session.flush()
        batch = m.ChargeBatch(
            tenant_id="t", provider="aws", period_start=dt.date(2026, 10, 1),
            period_end=dt.date(2026, 11, 1), source="f", source_hash="h", row_count=2,
            billed_total=Decimal("0.1234567891"),
        )  # fmt: skip
        session.add(batch)
        session.flush()
        insert_charges(session, batch.id, CHARGES)
    with db.transaction() as session:
        rows = session.scalars(select(m.Charge).order_by(m.Charge.id)).all()
        read = [
            CanonicalCharge(
                billing_account_id=r.billing_account_id, sub_account_id=r.sub_account_id,
                charge_category=ChargeCategory(r.charge_category), service_name=r.service_name,
                service_category=r.service_category, sku=r.sku, billed_cost=r.billed_cost,
                list_cost=r.list_cost, billing_currency=r.billing_currency,
                charge_period_start=r.charge_period_start,
                charge_period_end=r.charge_period_end, quantity=r.quantity,
                charge_class=r.charge_class, publisher=r.publisher,
                is_marketplace=r.is_marketplace, invoice_id=r.invoice_id,
                line_item_type=r.line_item_type,
            )
            for r in rows
        ]  # fmt: skip
        assert {r.batch_id for r in rows} == {batch.id}
    assert read == CHARGES
    assert isinstance(read[0].billed_cost, Decimal) and str(read[0].billed_cost).startswith(
        "0.1234567891"
    )
    db.dispose()
