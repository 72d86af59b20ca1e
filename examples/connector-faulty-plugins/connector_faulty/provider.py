"""FAULTY on purpose: a provider emitting a float, a misdated charge and unstable hashes."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from connector.contracts import BillingPeriod, CanonicalCharge, ChargeBatch, ChargeCategory

OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))


def _charge(cost: Any, start: dt.date) -> CanonicalCharge:
    return CanonicalCharge(
        billing_account_id="900000000001",
        sub_account_id="111111111111",
        charge_category=ChargeCategory.USAGE,
        service_name="AmazonEC2",
        service_category="Compute",
        sku="BoxUsage",
        billed_cost=cost,
        list_cost=Decimal("1.10"),
        billing_currency="USD",
        charge_period_start=start,
        charge_period_end=start + dt.timedelta(days=1),
    )


class FloatProvider:
    """Yields October with three faults the kit must name."""

    name: ClassVar[str] = "faulty-floats"
    settings_model: ClassVar[type | None] = None

    def __init__(self, settings: Mapping[str, Any], base_dir: Path) -> None:
        self.settings = settings

    def fetch(self, period: BillingPeriod | None = None) -> Iterator[ChargeBatch]:
        yield ChargeBatch(
            period=OCTOBER,
            source="memory",
            source_hash=uuid.uuid4().hex,  # fault: changes although the data does not
            charges=[
                _charge(1.1, dt.date(2026, 10, 3)),  # fault: a float cost
                _charge(Decimal("2.00"), dt.date(2026, 11, 2)),  # fault: November in October
            ],
        )
