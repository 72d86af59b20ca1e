"""The simulated Xero wired to a sink, for the Xero sink's tests."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import responses
from connector_erp_xero.limits import RateLimiter
from connector_erp_xero.plugin import XeroSink

from connector.contracts import StatementDocument
from tests.erp.fake_clock import FakeClock
from tests.erp.token_store import MemoryTokenStore
from tests.erp.xero_helpers import NOW, SETTINGS, TOKEN_KEY, context, valid_token
from tests.erp.xero_simulator import FakeXero
from tests.factories import CUSTOMER, make_statement


@dataclasses.dataclass
class Harness:
    """A simulated Xero, a token store, a fake clock and a limiter sinks share."""

    xero: FakeXero
    tmp_path: Path
    store: MemoryTokenStore
    clock: FakeClock
    limiter: RateLimiter
    rendered: list[str]

    def sink(self, store: MemoryTokenStore | None = None, **settings: Any) -> XeroSink:
        """A new sink instance (as the core builds one per push)."""
        return XeroSink(
            {**SETTINGS, **settings},
            context(store or self.store, self.tmp_path, self.rendered),
            limiter=self.limiter,
            sleep=self.clock.sleep,
            clock=lambda: NOW,
        )


@contextlib.contextmanager
def open_harness(tmp_path: Path) -> Iterator[Harness]:
    """The ``harness`` fixture's (tests/erp/conftest.py): a sink's world for one test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        clock = FakeClock()
        yield Harness(
            FakeXero(mock),
            tmp_path,
            MemoryTokenStore({TOKEN_KEY: valid_token()}),
            clock,
            RateLimiter(clock=clock, sleep=clock.sleep),
            [],
        )


def statements(count: int, start: int = 1, **fields: Any) -> list[StatementDocument]:
    """``count`` approved statements over seven customers, numbered NW-2025-<n>."""
    documents = []
    for n in range(start, start + count):
        customer = n % 7
        documents.append(
            make_statement(
                statement_id=f"st-{n:04d}",
                number=f"NW-2025-{n:04d}",
                customer_id=f"CUST-{customer}",
                customer=dataclasses.replace(CUSTOMER, name=f"Customer {customer} Ltd"),
                **fields,
            )
        )
    return documents
