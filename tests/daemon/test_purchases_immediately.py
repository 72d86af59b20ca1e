"""The daemon bills an upfront reservation as soon as it appears ("AWS RI purchase:
immediately"), once, and leaves it out of the month's usage statement at close.

One customer, a 10 % markup on cost, no tax. On 10 October AWS reports 100.00 of usage
and a 1,200.00 upfront reservation fee: the purchase statement is 1,200.00 × 1.10 =
1,320.00, approved and pushed that day. At the business-day close (6 November: October's
last day is Saturday the 31st, then Mon 2 .. Fri 6) the usage statement is 100.00 × 1.10
= 110.00, without the reservation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import select

from connector.config.settings import DaemonSettings
from connector.config.tenant import DaemonPolicy
from connector.contracts import BillingPeriod, CanonicalCharge, ChargeBatch, ChargeCategory
from connector.daemon.clock import FrozenClock
from connector.daemon.loop import Daemon
from connector.daemon.options import DaemonOptions
from connector.storage import models as m
from tests.daemon.fakes import OCTOBER, erp_simulator, plugin_host

ACCOUNT = "111111111111"

TENANT = """\
tenant: northwind
profile: {name: Northwind Cloud Services, email: billing@northwind.example}
invoice_options:
  aws_ri_purchase: immediately
  next_invoice_number: 1
  invoice_number_format: "NW-{number:04d}"
providers:
  aws:
    settings: {path: charges.json}
    close: {business_days: 5, country: US}
pricebooks:
  - id: standard
    provider: aws
    versions:
      - effective: 2026-01-01
        rules: [{adjust: markup, percent: 10, basis: cost}]
erp: {sink: erp-sim}
customers:
  - id: C1
    name: Blue Harbor Logistics
    email: ap@blueharbor.example
    invoice_currency: USD
    pricebooks: {aws: standard}
    accounts: {aws: ["111111111111"]}
"""


class FakeAws:
    """An "aws" provider reading {"usage": cost, "upfront": cost} for October."""

    name: ClassVar[str] = "aws"
    settings_model: ClassVar[type | None] = None

    def __init__(self, settings: Mapping[str, Any], base_dir: Path) -> None:
        self.path = Path(base_dir) / settings["path"]

    def fetch(self, period: BillingPeriod | None = None) -> Iterator[ChargeBatch]:
        raw = self.path.read_text()
        data = json.loads(raw)
        usage = self._charge(ChargeCategory.USAGE, "AmazonEC2", "BoxUsage", data["usage"], None)
        upfront = self._charge(
            ChargeCategory.PURCHASE, "AmazonEC2", "HeavyUsage:m5.large", data["upfront"],
            "One-Time",
        )  # fmt: skip
        digest = hashlib.sha256(raw.encode()).hexdigest()
        yield ChargeBatch(OCTOBER, str(self.path), digest, [usage, upfront])

    @staticmethod
    def _charge(category, service, sku, cost, frequency) -> CanonicalCharge:  # type: ignore[no-untyped-def]
        return CanonicalCharge(
            billing_account_id="payer",
            sub_account_id=ACCOUNT,
            charge_category=category,
            service_name=service,
            service_category="Compute",
            sku=sku,
            billed_cost=Decimal(cost),
            list_cost=Decimal(cost),
            billing_currency="USD",
            charge_period_start=OCTOBER.start,
            charge_period_end=OCTOBER.end,
            line_item_type="Fee" if frequency else "Usage",
            charge_frequency=frequency,
        )


def statements(daemon: Daemon) -> list[tuple[str, str, str, Decimal]]:
    with daemon.runtime.db.transaction() as session:
        rows = session.scalars(select(m.Statement).order_by(m.Statement.number)).all()
        return [(s.kind, s.number, s.status, s.total) for s in rows]


def test_the_daemon_bills_an_upfront_purchase_at_once_and_usage_at_close(tmp_path: Path) -> None:
    tenants = tmp_path / "tenants"
    tenants.mkdir()
    (tenants / "northwind.yaml").write_text(TENANT)
    (tenants / "charges.json").write_text(json.dumps({"usage": "100.00", "upfront": "1200.00"}))
    erp = erp_simulator()
    clock = FrozenClock(dt.datetime(2026, 10, 10, 10, 0, tzinfo=dt.UTC))
    daemon = Daemon(
        DaemonSettings(
            database_url=f"sqlite:///{tmp_path / 'connector.db'}",
            tenants_dir=tenants,
            output_dir=tmp_path / "out",
        ),
        DaemonOptions(metrics_port=None),
        host=plugin_host(erp, provider=FakeAws),
        clock=clock,
        policies={"northwind": DaemonPolicy(auto_approve=True)},
    ).start()
    try:
        assert daemon.run_once().failed == []
        purchase = [("purchase", "NW-0001", "Open", Decimal("1320.00"))]
        assert statements(daemon) == purchase
        clock.set(dt.datetime(2026, 10, 20, 10, 0, tzinfo=dt.UTC))
        assert daemon.run_once().failed == []
        assert statements(daemon) == purchase  # not billed twice

        clock.set(dt.datetime(2026, 11, 6, 10, 0, tzinfo=dt.UTC))
        assert daemon.run_once().failed == []
        assert statements(daemon) == [*purchase, ("usage", "NW-0002", "Open", Decimal("110.00"))]
        assert sorted(erp.ledger.created.values()) == [1, 1]
    finally:
        daemon.close()
