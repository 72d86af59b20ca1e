"""Fixtures of the ERP sinks' tests: the HTTP mock, the simulated QuickBooks company,
and the xero sink's harness (the simulated Xero organisation and its token store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import responses

from tests.erp.fake_clock import FakeClock
from tests.erp.quickbooks_sim import FakeQuickBooks
from tests.erp.xero_fixtures import Harness, open_harness


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    # Strict: a request to any URL the simulator does not serve raises ConnectionError.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def qbo(rsps: responses.RequestsMock) -> FakeQuickBooks:
    return FakeQuickBooks(rsps, clock=FakeClock())


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    with open_harness(tmp_path) as opened:
        yield opened
