"""The conformance kit third parties run, run on the softlayer provider.

The kit creates its own provider instances and fetches in class-scoped fixtures, so the
SoftLayer API stand-in is active for the whole module.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses
from connector_softlayer import SoftLayerProvider

from connector.testing import provider_test_class
from tests.providers.softlayer_api import API_KEY, USERNAME, anniversary_account, serve


@pytest.fixture(scope="module", autouse=True)
def softlayer_api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        serve(rsps, anniversary_account())
        yield rsps


TestSoftLayerProvider = provider_test_class(
    SoftLayerProvider,
    settings={"username": USERNAME, "api_key": API_KEY, "since": "2026-09-15"},
)
