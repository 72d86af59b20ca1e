"""Many approved statements of one tenant whose sink is a simulated Xero.

A tenant file with ``customers`` customers on one provider key (``aws``; nothing is
fetched, the charges are inserted directly as ``benchmarks/build.py`` does), a
markup pricebook, a sales tax and a support plan for some; then the core's own
``generate`` and ``approve``: one Open statement with an outbox entry per customer.

The Xero sink used is :func:`sim_sink_class`: the real ``XeroSink`` with the limiter
and sleep of the caller's choosing (fake time in tests, a per-second window in the
benchmark), registered under its own name and put in the tenant's ``erp.sink``.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from connector_erp_xero.limits import RateLimiter
from connector_erp_xero.plugin import XeroSink
from cryptography.fernet import Fernet
from sqlalchemy import select

from connector.config.settings import DaemonSettings
from connector.contracts import CanonicalCharge, ChargeCategory
from connector.domain.periods import parse_period
from connector.pipeline.build.build import generate
from connector.pipeline.publish.erp import token_store
from connector.pipeline.review.approve import approve
from connector.runtime.runtime import Runtime, open_runtime
from connector.runtime.tenants import sync_tenant
from connector.storage import models as m
from connector.storage.bulk import insert_charges
from tests.erp.xero_simulator import API, CLIENT_ID, CLIENT_SECRET, TENANT_ID

TENANT = "bulk"
PERIOD = parse_period("2026-10")
TODAY = dt.date(2026, 11, 6)
TOKEN_KEY = f"xero:{TENANT_ID}"
SIM_SINK = "xero-sim"

HEADER = """\
tenant: bulk
profile: {{name: Bulk Reseller}}
invoice_options:
  next_invoice_number: 1
  invoice_number_format: "BLK-{{number:06d}}"
generation: {{apply_credits: false, include_tax: true, include_marketplace_fees: true}}
providers:
  aws: {{plugin: aws, settings: {{path: .}}}}
erp:
  sink: xero
  settings:
    client_id: {client_id}
    client_secret: {{secret_file: {secret_file}}}
    tenant_id: {tenant_id}
    account_code: "200"
    tax_type: OUTPUT
    exempt_tax_type: NONE
    base_url: {base_url}
    attach_pdf: {attach_pdf}
tax_rates:
  - {{name: Sales Tax, rate: "0.0825"}}
support_plans:
  - id: business
    tiers: [{{up_to: 10000, percent: 10}}, {{percent: 5}}]
    minimum_fee: "100"
pricebooks:
  - id: standard
    provider: aws
    versions:
      - effective: 2026-01-01
        rules:
          - {{adjust: markup, percent: 15}}
customers:
"""
CUSTOMER = """\
  - id: "C{index:05d}"
    name: Customer {index} Ltd
    invoice_currency: USD
    pricebooks: {{aws: standard}}
    accounts: {{aws: ["a{index:05d}"]}}
    tax: Sales Tax
{extra}"""


def tenant_yaml(
    customers: int, secret_file: Path, base_url: str = API, attach_pdf: bool = True
) -> str:
    """The tenant file: ``customers`` customers, every tenth tax-exempt, every third on support."""
    text = HEADER.format(
        client_id=CLIENT_ID,
        secret_file=secret_file,
        tenant_id=TENANT_ID,
        base_url=base_url,
        attach_pdf=str(attach_pdf).lower(),
    )
    for index in range(customers):
        extra = ("    tax_exempt: true\n" if index % 10 == 9 else "") + (
            "    support_plan: business\n" if index % 3 == 0 else ""
        )
        text += CUSTOMER.format(index=index, extra=extra)
    return text


def _charges(customers: int, rng: random.Random) -> Iterator[CanonicalCharge]:
    for index in range(customers):
        for service, sku, kind, marketplace in (
            ("Compute", "BoxUsage", ChargeCategory.USAGE, False),
            ("Storage", "TimedStorage", ChargeCategory.USAGE, False),
            ("Threat Manager", "Subscription", ChargeCategory.USAGE, True),
        ):
            # Ten decimal places, as aggregated provider data has.
            cost = Decimal(rng.randrange(1, 500 * 10**10)).scaleb(-10)
            yield CanonicalCharge(
                billing_account_id="payer", sub_account_id=f"a{index:05d}",
                charge_category=kind, service_name=service, service_category=service, sku=sku,
                billed_cost=cost, list_cost=cost, billing_currency="USD",
                charge_period_start=PERIOD.start, charge_period_end=PERIOD.end,
                quantity=Decimal(rng.randrange(1, 1000)), invoice_id="INV-1",
                line_item_type=sku, is_marketplace=marketplace,
                publisher="Vendor" if marketplace else None,
            )  # fmt: skip


def valid_token() -> dict[str, Any]:
    """The token the simulator accepts (``access-0``), good for ten days of wall time."""
    return {
        "access_token": "access-0",
        "refresh_token": "refresh-0",
        "expires_in": 1800,
        "expires_at": time.time() + 10 * 86_400,
        "token_type": "Bearer",
        "scope": ["offline_access", "accounting.transactions"],
    }


def open_bulk_runtime(
    folder: Path, database_url: str, token_key: str, tenants_dir: Path | None = None
) -> Runtime:
    """A runtime over ``folder``'s tenant file (written by :func:`build_world`)."""
    return open_runtime(
        DaemonSettings(
            database_url=database_url,
            tenants_dir=tenants_dir or folder / "tenants",
            output_dir=folder / "out",
            token_key=token_key,
        )
    )


def build_world(
    folder: Path,
    customers: int,
    *,
    base_url: str = API,
    attach_pdf: bool = True,
    approved: int | None = None,
    seed: int = 20261121,
) -> tuple[str, str]:
    """Write the tenant, store charges, generate and approve; returns (database_url, token_key).

    ``approved``: approve only that many of the statements (the rest stay Drafts for
    :func:`approve_next`); default all.

    The organisation's token is stored encrypted in the database, as
    ``connector erp connect`` would have left it.
    """
    tenants = folder / "tenants"
    tenants.mkdir(parents=True, exist_ok=True)
    secret_file = folder / "xero-client-secret"
    secret_file.write_text(CLIENT_SECRET)
    (tenants / f"{TENANT}.yaml").write_text(
        tenant_yaml(customers, secret_file, base_url, attach_pdf)
    )
    database_url = f"sqlite:///{folder / 'connector.db'}"
    token_key = Fernet.generate_key().decode()
    runtime = open_bulk_runtime(folder, database_url, token_key)
    try:
        with runtime.db.transaction() as session:
            sync_tenant(session, runtime.tenant(TENANT))
            batch = m.ChargeBatch(
                tenant_id=TENANT, provider="aws", period_start=PERIOD.start,
                period_end=PERIOD.end, source="bulk:aws", source_hash="bulk",
                row_count=3 * customers, billed_total=Decimal(0), final=True,
            )  # fmt: skip
            session.add(batch)
            session.flush()
            insert_charges(session, batch.id, _charges(customers, random.Random(seed)))
        report = generate(runtime, TENANT, "aws", PERIOD, today=TODAY)
        assert len(report.generated) == customers, report.skipped
        if approved is None:
            approve(runtime, TENANT, None, actor="test")
        else:
            approve_next(runtime, approved)
        store = token_store(runtime, TENANT)
        assert store is not None
        with store.lock(TOKEN_KEY):
            store.save(TOKEN_KEY, valid_token())
    finally:
        runtime.db.dispose()
    return database_url, token_key


def approve_next(runtime: Runtime, count: int) -> int:
    """Approve the next ``count`` Drafts (by customer); returns how many were approved."""
    with runtime.db.transaction() as session:
        ids = session.scalars(
            select(m.Statement.id)
            .where(m.Statement.tenant_id == TENANT, m.Statement.status == "Draft")
            .order_by(m.Statement.customer_id)
            .limit(count)
        ).all()
    return len(approve(runtime, TENANT, list(ids), actor="test")) if ids else 0


def sim_sink_class(
    limiter: RateLimiter, sleep: Callable[[float], None] = time.sleep
) -> type[XeroSink]:
    """The real Xero sink, with ``limiter`` and ``sleep`` in place of the process-wide ones."""

    class SimXeroSink(XeroSink):
        name: ClassVar[str] = SIM_SINK

        def __init__(self, settings: Any, context: Any) -> None:
            super().__init__(settings, context, limiter=limiter, sleep=sleep)

    return SimXeroSink


def use_sim_sink(runtime: Runtime, limiter: RateLimiter, sleep: Callable[[float], None]) -> None:
    """Register :func:`sim_sink_class` in ``runtime`` and make it the tenant's sink."""
    runtime.plugins.sinks.add(sim_sink_class(limiter, sleep))
    runtime.tenants[TENANT].erp.sink = SIM_SINK


def our_totals(runtime: Runtime) -> dict[str, Decimal]:
    """Invoice number -> total of every approved statement of the tenant, from the database."""
    with runtime.db.transaction() as session:
        rows = session.execute(
            select(m.Statement.number, m.Statement.total).where(
                m.Statement.tenant_id == TENANT, m.Statement.number.is_not(None)
            )
        ).all()
    return {number: total for number, total in rows}


def outbox_states(runtime: Runtime) -> dict[str, int]:
    """How many of the tenant's outbox entries are in each state."""
    counts: dict[str, int] = {}
    with runtime.db.transaction() as session:
        for state in session.scalars(
            select(m.OutboxEntry.state).where(m.OutboxEntry.tenant_id == TENANT)
        ):
            counts[state] = counts.get(state, 0) + 1
    return counts
