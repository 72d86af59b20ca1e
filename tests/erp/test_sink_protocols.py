"""The xero and quickbooks sinks offer every optional protocol of a sink."""

from __future__ import annotations

import pytest

from connector.contracts import CheckedSink, ConnectableSink, PaymentSource, Sink
from tests.erp.quickbooks_fixtures import Worker, fresh_store


@pytest.fixture(params=["xero", "quickbooks"])
def sink(request: pytest.FixtureRequest) -> object:
    if request.param == "xero":
        return request.getfixturevalue("harness").sink()
    return Worker(request.getfixturevalue("qbo"), fresh_store()).sink


def test_the_sink_is_a_payment_source_a_checked_sink_and_connectable(sink: object) -> None:
    assert isinstance(sink, Sink)
    assert isinstance(sink, PaymentSource)
    assert isinstance(sink, CheckedSink)
    assert isinstance(sink, ConnectableSink)
