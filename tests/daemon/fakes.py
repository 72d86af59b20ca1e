"""A provider reading one JSON file, an ERP simulator, a recording mailer, a tenant."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar

from connector import hookspecs
from connector.contracts import (
    BillingPeriod,
    CanonicalCharge,
    ChargeBatch,
    ChargeCategory,
    PaymentStatus,
    PushResult,
    SinkContext,
    SourceDataError,
    StatementDocument,
)
from connector.plugins import ConnectorPluginManager, PluginHost
from connector.registries import ProviderRegistry, RendererRegistry, SinkRegistry

OCTOBER = BillingPeriod(dt.date(2026, 10, 1), dt.date(2026, 11, 1))


class MonthFileProvider:
    """Reads ``settings.path``: {"final": bool, "charges": {account: cost}} for October.

    ``source_hash`` is the file's sha256, so a new version of the file is new data.
    ``settings.token`` (a secret reference in the tenant file) must equal ``accepts``
    when that is set, as a provider's API key would be checked.
    """

    name: ClassVar[str] = "month-file"
    settings_model: ClassVar[type | None] = None

    def __init__(self, settings: Mapping[str, Any], base_dir: Path) -> None:
        self.path = Path(base_dir) / settings["path"]
        self.period = OCTOBER
        if "period" in settings:  # YYYY-MM; October 2026 unless given
            from connector.domain.periods import parse_period

            self.period = parse_period(str(settings["period"]))
        self.token = settings.get("token")
        self.expect = settings.get("accepts")

    def fetch(self, period: BillingPeriod | None = None) -> Iterator[ChargeBatch]:
        if self.expect is not None and self.token != self.expect:
            raise PermissionError(f"provider refused credentials token={self.token}")
        raw = self.path.read_bytes()
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise SourceDataError(f"{self.path}: not JSON: {exc}") from None
        charges = [
            CanonicalCharge(
                billing_account_id="payer",
                sub_account_id=account,
                charge_category=ChargeCategory.USAGE,
                service_name="Compute Engine",
                service_category="Compute",
                sku="vm-hours",
                billed_cost=Decimal(cost),
                list_cost=Decimal(cost),
                billing_currency="USD",
                charge_period_start=self.period.start,
                charge_period_end=self.period.end,
            )
            for account, cost in data["charges"].items()
        ]
        yield ChargeBatch(
            period=self.period,
            source=str(self.path),
            source_hash=hashlib.sha256(raw).hexdigest(),
            charges=charges,
            final=bool(data.get("final")),
        )


class Ledger:
    """The simulated ERP's invoices, shared by every sink instance of one test."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.invoices: dict[str, StatementDocument] = {}  # idempotency key -> document
        self.created: Counter[str] = Counter()  # statement id -> invoices created
        self.paid: set[str] = set()  # statement ids paid in full


class ErpSimulatorBase:
    """An ERP sink: push is idempotent per revision; it reports payments."""

    name: ClassVar[str] = "erp-sim"
    settings_model: ClassVar[type | None] = None
    ledger: ClassVar[Ledger]

    def __init__(self, settings: Mapping[str, Any], context: SinkContext) -> None:
        self.context = context

    def push(self, documents: Sequence[StatementDocument]) -> list[PushResult]:
        results = []
        with self.ledger.lock:
            for doc in documents:
                if doc.idempotency_key not in self.ledger.invoices:
                    self.ledger.invoices[doc.idempotency_key] = doc
                    self.ledger.created[doc.statement_id] += 1
                results.append(PushResult(doc.statement_id, f"INV-{doc.number}", True))
        return results

    def payment_status(self, documents: Sequence[StatementDocument]) -> list[PaymentStatus]:
        with self.ledger.lock:
            return [
                PaymentStatus(d.statement_id, d.statement_id in self.ledger.paid) for d in documents
            ]


class ErpDown(ErpSimulatorBase):
    """An ERP that answers every push with a server error."""

    name: ClassVar[str] = "erp-down"
    ledger: ClassVar[Ledger] = Ledger()

    def push(self, documents: Sequence[StatementDocument]) -> list[PushResult]:
        return [
            PushResult(d.statement_id, None, False, "503 Service Unavailable") for d in documents
        ]


def erp_simulator() -> type[ErpSimulatorBase]:
    """A simulator class with its own fresh ledger."""
    return type("ErpSimulator", (ErpSimulatorBase,), {"ledger": Ledger()})


def plugin_host(
    sink: type, provider: type = MonthFileProvider, more_sinks: Sequence[type] = ()
) -> PluginHost:
    """A host with only the fake provider and sink (no entry points: fast, isolated)."""
    pm = ConnectorPluginManager()
    pm.add_hookspecs(hookspecs)
    host = PluginHost(pm, ProviderRegistry(), SinkRegistry(), RendererRegistry())
    host.providers.add(provider)
    for cls in (sink, *more_sinks):
        host.sinks.add(cls)
    return host


class RecordingMailer:
    """A mailer that keeps the messages (for tests that count emails, not SMTP)."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()

    def connect(self):  # type: ignore[no-untyped-def]
        from contextlib import nullcontext

        return nullcontext(self)

    def send(self, message: EmailMessage) -> None:
        with self.lock:
            self.messages.append(message)


def write_charges(folder: Path, charges: dict[str, str], final: bool = False) -> None:
    (folder / "charges.json").write_text(json.dumps({"final": final, "charges": charges}))


TENANT = """\
tenant: {tenant}
profile:
  name: Northwind Cloud Services
  email: billing@northwind.example
  phone: "+1 512 555 0100"
  address: [500 Congress Ave, "Austin, TX 78701"]
invoice_options:
  term_type: net
  term_value: 30
  next_invoice_number: 1
  invoice_number_format: "NW-{{number:04d}}"
providers:
  cloud:
    plugin: month-file
    settings:
      path: {data}
{extra_settings}    close: {{business_days: 5, country: US}}
pricebooks:
  - id: standard
    provider: cloud
    versions:
      - effective: 2026-01-01
        rules: [{{adjust: markup, percent: 10, basis: cost}}]
erp:
  sink: {sink}
customers:
{customers}
"""

CUSTOMER = """\
  - id: "{id}"
    name: {name}
    email: {email}
    invoice_currency: USD
    pricebooks: {{cloud: standard}}
    accounts: {{cloud: ["{account}"]}}
"""


def write_tenant(
    folder: Path,
    tenant: str,
    customers: Sequence[tuple[str, str, str, str]],
    data: str = "charges.json",
    extra_settings: str = "",
    sink: str = "erp-sim",
) -> Path:
    """A tenant file; ``customers`` are (id, name, email, account)."""
    body = "".join(CUSTOMER.format(id=c, name=n, email=e, account=a) for c, n, e, a in customers)
    path = folder / f"{tenant}.yaml"
    path.write_text(
        TENANT.format(
            tenant=tenant, data=data, customers=body, extra_settings=extra_settings, sink=sink
        )
    )
    return path
