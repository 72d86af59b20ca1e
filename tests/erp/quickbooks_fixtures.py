"""A sink wired to the simulated QuickBooks company, for the QuickBooks sink's tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from connector_erp_quickbooks.limits import RateLimiter
from connector_erp_quickbooks.plugin import QuickBooksSink

from connector.contracts import SinkContext, StatementDocument
from tests.erp.quickbooks_sim import NOW, REALM, FakeQuickBooks, token
from tests.erp.token_store import MemoryTokenStore
from tests.factories import make_statement

KEY = f"quickbooks:{REALM}"
SETTINGS = {
    "client_id": "app-client-id",
    "client_secret": "app-client-secret",
    "realm_id": REALM,
    "environment": "sandbox",
    "item_ref": "1",
    "tax_code": "5",
}


class CountingLimiter(RateLimiter):
    """The company's rate limiter, counting the requests it let through."""

    acquired = 0

    def acquire(self) -> None:
        super().acquire()
        self.acquired += 1


class Worker:
    """One sink instance (a worker process) with recorded retry waits."""

    def __init__(self, qbo: FakeQuickBooks, store: MemoryTokenStore, **settings) -> None:
        self.retry_sleeps: list[float] = []
        self.rendered: list[str] = []
        clock = qbo.clock

        def sleep(seconds: float) -> None:
            self.retry_sleeps.append(seconds)
            clock.sleep(seconds)

        def render(document: StatementDocument, fmt: str) -> bytes:
            assert fmt == "pdf"
            self.rendered.append(document.number or "")
            return b"%PDF-1.4 statement " + (document.number or "").encode()

        context = SinkContext(
            "northwind", Path("/nonexistent"), "run-1", tokens=store, render=render
        )
        self.limiter = CountingLimiter(clock=clock.monotonic, sleep=clock.sleep)
        self.sink = QuickBooksSink(
            {**SETTINGS, **settings},
            context,
            limiter=self.limiter,
            sleep=sleep,
            now=lambda: NOW,
        )

    def push(self, documents: Sequence[StatementDocument]):
        return self.sink.push(documents)


def fresh_store() -> MemoryTokenStore:
    return MemoryTokenStore({KEY: token()})


def statements(count: int, start: int = 1) -> list[StatementDocument]:
    return [
        make_statement(statement_id=f"st-{i:04d}", number=f"NW-2025-{i:04d}")
        for i in range(start, start + count)
    ]
