"""Plugins whose faults can be switched on for one tenant: the fault matrix's fakes.

A :class:`Faults` object says which fault is on and which tenant it hits. The
provider, the ERP sink (which attaches each invoice's PDF by the renderer, as the Xero
and QuickBooks sinks do), the PDF renderer and the mailer consult it; everything else
behaves as ``tests.daemon.fakes``' simulators do.
"""

from __future__ import annotations

import smtplib
from collections import Counter
from collections.abc import Iterator, Sequence
from email.message import EmailMessage
from typing import ClassVar

from connector.contracts import (
    BillingPeriod,
    ChargeBatch,
    PaymentStatus,
    PushResult,
    StatementDocument,
)
from tests.daemon.fakes import ErpSimulatorBase, Ledger, MonthFileProvider, RecordingMailer


class Faults:
    """The fault switched on (None: none) and the tenant it hits."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        self.active: str | None = None
        self.injected: Counter[str] = Counter()  # fault -> times it actually fired

    def hits(self, fault: str, tenant: str | None) -> bool:
        if self.active == fault and tenant == self.tenant:
            self.injected[fault] += 1
            return True
        return False


class SwitchedProvider(MonthFileProvider):
    """The month-file provider; unreachable for the faulty tenant while switched on.

    The tenant file names its tenant in ``settings.tenant`` (providers are not told).
    """

    faults: ClassVar[Faults]

    def __init__(self, settings, base_dir) -> None:  # type: ignore[no-untyped-def]
        super().__init__(settings, base_dir)
        self.tenant = settings.get("tenant")

    def fetch(self, period: BillingPeriod | None = None) -> Iterator[ChargeBatch]:
        if self.faults.hits("provider-unreachable", self.tenant):
            raise ConnectionError("billing API unreachable: connect timeout after 30 s")
        yield from super().fetch(period)


class FailingPdfRenderer:
    """Renders ``pdf``; raises for the faulty tenant's statements while switched on."""

    name: ClassVar[str] = "fault-pdf"
    formats: ClassVar[dict[str, str]] = {"pdf": ".pdf"}
    faults: ClassVar[Faults]
    rendered: ClassVar[Counter[str]]

    def render(self, document: StatementDocument, fmt: str) -> bytes:
        if self.faults.hits("renderer-exception", document.tenant):
            raise RuntimeError(f"font cache corrupt while rendering {document.number}")
        self.rendered[document.statement_id] += 1
        return f"%PDF-1.7 {document.number} {document.total}".encode()


class SwitchedErp(ErpSimulatorBase):
    """The ERP simulator (idempotent per revision), attaching each invoice's PDF.

    Faults: ``erp-refusal`` (a validation error: permanent), ``erp-outage`` (the call
    times out), ``payments-api`` (the payment status call fails). Customers whose id
    ends in 1 have paid.
    """

    name: ClassVar[str] = "erp-matrix"
    faults: ClassVar[Faults]
    attached: ClassVar[Counter[str]]  # statement id -> PDFs attached
    calls: ClassVar[Counter[str]]  # tenant -> push calls

    def push(self, documents: Sequence[StatementDocument]) -> list[PushResult]:
        tenant = self.context.tenant
        self.calls[tenant] += 1
        if self.faults.hits("erp-outage", tenant):
            raise TimeoutError("ERP did not answer within 30 s (POST /Invoices)")
        if self.faults.hits("erp-refusal", tenant):
            return [
                PushResult(d.statement_id, None, False,
                           f"ValidationException: contact for customer {d.customer_id} "
                           "is archived", permanent=True)
                for d in documents
            ]  # fmt: skip
        results = super().push(documents)  # the invoices exist from here on
        assert self.context.render is not None
        for document in documents:  # then the PDFs, as the real sinks attach them
            self.context.render(document, "pdf")
            self.attached[document.statement_id] += 1
        return results

    def payment_status(self, documents: Sequence[StatementDocument]) -> list[PaymentStatus]:
        if self.faults.hits("payments-api", self.context.tenant):
            raise ConnectionError("payments API: 502 Bad Gateway")
        return [PaymentStatus(d.statement_id, d.customer_id.endswith("1")) for d in documents]


class SwitchedMailer(RecordingMailer):
    """Records messages; the mail server drops the faulty tenant's while switched on.

    The tenant is read from the sender's domain (``billing@<tenant>.example``).
    """

    def __init__(self, faults: Faults) -> None:
        super().__init__()
        self.faults = faults

    def send(self, message: EmailMessage) -> None:
        tenant = str(message["From"]).rpartition("@")[2].removesuffix(".example>")
        if self.faults.hits("mail-server-down", tenant):
            raise smtplib.SMTPServerDisconnected("421 4.3.2 service shutting down")
        super().send(message)


def switched_plugins(faults: Faults) -> tuple[type, type, type]:
    """Fresh provider, sink and renderer classes bound to ``faults`` (own ledgers)."""
    provider = type("Provider", (SwitchedProvider,), {"faults": faults})
    sink = type(
        "Erp", (SwitchedErp,),
        {"faults": faults, "ledger": Ledger(), "attached": Counter(), "calls": Counter()},
    )  # fmt: skip
    renderer = type("Pdf", (FailingPdfRenderer,), {"faults": faults, "rendered": Counter()})
    return provider, sink, renderer
